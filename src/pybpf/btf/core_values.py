"""The value a CO-RE relocation asks for, computed from one side's access spec.

Each function answers for one side (local or target) and returns a :class:`SideValue`;
``spec is None`` means "not found in the target". A missing field or enumerator value
cannot be answered: :class:`Poison` asks the patcher to make the instruction invalid
(libbpf's "poisoning"), which is harmless in dead code and an error the verifier names
otherwise. Exists-kinds and type-kinds answer 0 instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CORERelocationError
from .core_access import TYPE_KINDS, AccessSpec
from .core_compat import is_any_enum
from .queries import sizeof, skip_qualifiers
from .types import Enum, Enum64, Int, Kind, Type

U64 = (1 << 64) - 1


class Poison(Exception):
    """Internal: this relocation cannot be satisfied; poison the instruction."""


@dataclass
class SideValue:
    """``value`` (an unsigned 64-bit number) plus, for byte offsets of whole fields, the
    field's size and type (used to check and adjust load/store sizes).

    ``validate``: whether the instruction must hold this (local) value before patching;
    libbpf skips that check where the compiler may legitimately disagree (bitfields, type
    ids that linking renumbers).
    """

    value: int
    field_size: int = 0
    field_type: Type | None = None
    validate: bool = True


def _sizeof(t: Type) -> int:
    try:
        return sizeof(t)
    except Exception as err:  # BTFError from a type without size
        raise CORERelocationError(f"cannot size {t!r}: {err}") from None


def field_value(kind: int, spec: AccessSpec | None) -> SideValue:
    """FIELD_* kinds: byte offset/size, exists, signedness, bitfield shift amounts."""
    if kind == 2:  # FIELD_EXISTS
        return SideValue(1 if spec is not None else 0)
    if spec is None:
        raise Poison()
    last = spec.accessors[-1]
    if last.name is None:  # the access ends on an array element (or the root itself)
        if kind == 0:
            return SideValue(spec.bit_offset // 8, _sizeof(last.parent), last.parent)
        if kind == 1:
            return SideValue(_sizeof(last.parent))
        raise CORERelocationError("this relocation kind cannot apply to an array element")
    parent = skip_qualifiers(last.parent)
    member = parent.members[last.index]  # type: ignore[attr-defined]
    member_type = skip_qualifiers(member.type)
    bit_off = spec.bit_offset
    bit_size = member.bitfield_size
    bitfield = bit_size > 0
    if bitfield:
        # the smallest naturally aligned load (of at least the member's size) holding it
        byte_size = member_type.size  # type: ignore[attr-defined]
        byte_off = bit_off // 8 // byte_size * byte_size
        while bit_off + bit_size - byte_off * 8 > byte_size * 8:
            if byte_size >= 8:
                raise CORERelocationError("bitfield cannot be read with one 64-bit load")
            byte_size *= 2
            byte_off = bit_off // 8 // byte_size * byte_size
    else:
        byte_size = _sizeof(member_type)
        byte_off = bit_off // 8
        bit_size = byte_size * 8
    # the compiler's guess for a bitfield's container may differ from ours: don't insist
    validate = not bitfield
    if kind == 0:  # FIELD_BYTE_OFFSET
        if bitfield:
            return SideValue(byte_off, validate=validate)
        return SideValue(byte_off, byte_size, member_type, validate)
    if kind == 1:  # FIELD_BYTE_SIZE
        return SideValue(byte_size, validate=validate)
    if kind == 3:  # FIELD_SIGNED: never ambiguous
        signed = (is_any_enum(member_type) and member_type.signed) or (
            isinstance(member_type, Int) and member_type.signed)
        return SideValue(int(bool(signed)))
    if kind == 4:  # FIELD_LSHIFT_U64 (little-endian target)
        return SideValue(64 - (bit_off + bit_size - byte_off * 8), validate=validate)
    if kind == 5:  # FIELD_RSHIFT_U64: never ambiguous
        return SideValue(64 - bit_size)
    raise CORERelocationError(f"unknown field relocation kind {kind}")


def type_value(kind: int, spec: AccessSpec | None, type_id: int = 0) -> SideValue:
    """TYPE_* kinds (``type_id`` is the root's id in its BTF); a missing type gives 0."""
    if spec is None:
        return SideValue(0)
    if kind == 7:  # TYPE_ID_TARGET: linking renumbers ids, so the old value proves nothing
        return SideValue(type_id, validate=False)
    if kind in (8, 12):  # TYPE_EXISTS, TYPE_MATCHES
        return SideValue(1)
    if kind == 9:  # TYPE_SIZE
        return SideValue(_sizeof(spec.root))
    if kind in TYPE_KINDS:
        raise CORERelocationError("TYPE_ID_LOCAL is resolved without a target")
    raise CORERelocationError(f"unknown type relocation kind {kind}")


def enum_value(kind: int, spec: AccessSpec | None) -> SideValue:
    """ENUMVAL_EXISTS / ENUMVAL_VALUE; a missing enumerator's value poisons."""
    if kind == 10:
        return SideValue(1 if spec is not None else 0)
    if kind != 11:
        raise CORERelocationError(f"unknown enum relocation kind {kind}")
    if spec is None:
        raise Poison()
    acc = spec.accessors[0]
    enum = skip_qualifiers(acc.parent)
    assert isinstance(enum, Enum)
    raw = enum.values[acc.index].value
    if isinstance(enum, Enum64):
        return SideValue(raw & U64)
    # a 32-bit enumerator is a signed 32-bit field in BTF: sign-extend it to 64 bits
    raw &= 0xFFFF_FFFF
    if raw & 0x8000_0000:
        raw -= 1 << 32
    return SideValue(raw & U64)


def may_resize_access(local_type: Type | None, target_type: Type | None) -> bool:
    """May a load/store change width from the local field's size to the target's?

    Only where zero-extension keeps the value: pointers (a 32-bit kernel pointer read into
    a 64-bit register) and unsigned integers.
    """
    if local_type is None or target_type is None:
        return False
    lk, tk = local_type, target_type
    if lk.kind == Kind.PTR and tk.kind == Kind.PTR:
        return True
    return (isinstance(lk, Int) and isinstance(tk, Int)
            and int(lk.encoding) != 1 and int(tk.encoding) != 1)
