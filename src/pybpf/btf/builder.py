"""Encode type objects as a BTF blob (what the kernel backend loads as program BTF).

>>> b = Builder()
>>> u32 = Int("unsigned int", 4)
>>> b.add(Struct("pair", 8, [Member("a", u32, 0), Member("b", u32, 32)]))
1
>>> spec = Spec.from_bytes(b.encode())

Ids are handed out in the order types are added; a referenced type not added explicitly
gets the next free id when :meth:`Builder.encode` meets it. With ``base`` (split BTF),
types of the base keep their base ids and new ones continue after them.
"""

from __future__ import annotations

import sys
from array import array
from typing import TYPE_CHECKING

from ..errors import BTFError
from . import layout
from .types import (
    Array,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Member,
    Param,
    Ptr,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarSecinfo,
    Void,
    _Qualifier,
)

if TYPE_CHECKING:
    from .spec import Spec

_U32 = 0xFFFF_FFFF


class _Strings:
    """A deduplicated string section; offsets continue after a base's strings."""

    def __init__(self, first_offset: int):
        self._first = first_offset
        self._offsets: dict[str, int] = {}
        self._chunks: list[bytes] = []
        self._size = 0
        if first_offset == 0:
            self.add_raw("")

    def add_raw(self, s: str) -> int:
        data = s.encode() + b"\0"
        off = self._first + self._size
        self._offsets[s] = off
        self._chunks.append(data)
        self._size += len(data)
        return off

    def offset(self, s: str) -> int:
        if not s:
            return 0
        if "\0" in s:
            raise BTFError(f"name {s!r} contains a NUL byte")
        found = self._offsets.get(s)
        return found if found is not None else self.add_raw(s)

    def tobytes(self) -> bytes:
        return b"".join(self._chunks)


class Builder:
    """Collects types and encodes them as BTF (see the module docstring)."""

    def __init__(self, *, base: Spec | None = None):
        self.base = base
        self._first_id = len(base) if base is not None else 1
        self._types: list[Type] = []
        self._ids: dict[int, int] = {}  # id(type object) -> type id

    def add(self, t: Type) -> int:
        """Give ``t`` a type id (if it has none yet) and return it."""
        return self._id_of(t)

    def type_id(self, t: Type) -> int:
        """The id ``t`` was given; KeyError if it was never added or referenced."""
        if isinstance(t, Void):
            return 0
        found = self._ids.get(id(t))
        if found is None:
            raise KeyError(f"{t!r} was not added to this builder")
        return found

    def __len__(self) -> int:
        return self._first_id + len(self._types)

    def _id_of(self, t: Type) -> int:
        if isinstance(t, Void):
            return 0
        found = self._ids.get(id(t))
        if found is not None:
            return found
        if self.base is not None:
            try:
                return self.base.type_id(t)
            except KeyError:
                pass
        if not isinstance(t, Type) or isinstance(t, (Member, Param, VarSecinfo)):
            raise BTFError(f"{t!r} is not a BTF type that can be encoded")
        type_id = self._first_id + len(self._types)
        self._types.append(t)
        self._ids[id(t)] = type_id
        return type_id

    def encode(self) -> bytes:
        """The BTF blob: header, type section, string section (little-endian host order).

        Raises :class:`BTFError` naming the type whose fields do not fit the format.
        """
        strings = _Strings(self.base._str_end if self.base is not None else 0)
        words: list[int] = []
        i = 0
        while i < len(self._types):  # grows while records reference types not yet numbered
            t = self._types[i]
            try:
                self._encode_type(t, words, strings)
            except (AttributeError, TypeError, ValueError, OverflowError) as err:
                if isinstance(err, BTFError):
                    raise BTFError(f"type id {self._first_id + i} ({t!r}): {err.message}") \
                        from None
                raise BTFError(f"type id {self._first_id + i} ({t!r}) cannot be encoded: "
                               f"{err}") from None
            i += 1
        try:
            type_bytes = array("I", words).tobytes()
        except OverflowError as err:
            raise BTFError(f"a field does not fit in 32 bits: {err}") from None
        if sys.byteorder != "little":  # pragma: no cover
            swapped = array("I", words)
            swapped.byteswap()
            type_bytes = swapped.tobytes()
        str_bytes = strings.tobytes()
        header = layout.HEADER.pack(layout.MAGIC, layout.VERSION, 0, layout.HEADER_SIZE, 0,
                                    len(type_bytes), len(type_bytes), len(str_bytes))
        return header + type_bytes + str_bytes

    def spec(self, name: str = "<built>") -> Spec:
        """Encode and parse back: a :class:`Spec` of everything added."""
        from .spec import Spec

        return Spec.from_bytes(self.encode(), base=self.base, name=name)

    # ---- one record --------------------------------------------------------------------

    def _encode_type(self, t: Type, out: list[int], strings: _Strings) -> None:
        ref = self._id_of
        kind = Kind(int(t.kind))

        def header(name: str, vlen: int, kind_flag: bool, size_or_type: int) -> None:
            if not 0 <= vlen <= 0xFFFF:
                raise BTFError(f"{vlen} entries do not fit BTF's 16-bit vlen")
            if not 0 <= size_or_type <= _U32:
                raise BTFError(f"size/type {size_or_type} does not fit in 32 bits")
            out.extend((strings.offset(name), layout.info_word(kind, vlen, kind_flag),
                        size_or_type))

        if isinstance(t, Int):
            header(t.name, 0, False, t.size)
            if not (0 <= t.bits <= 128 and 0 <= t.offset <= 255 and 0 <= t.encoding <= 15):
                raise BTFError(f"int bits {t.bits}/offset {t.offset}/encoding "
                               f"{int(t.encoding)} out of range")
            out.append(layout.int_word(t.encoding, t.offset, t.bits))
        elif isinstance(t, Ptr):
            header("", 0, False, ref(t.target))
        elif isinstance(t, Array):
            header("", 0, False, 0)
            out.extend((ref(t.type), ref(t.index_type), _u32(t.nelems, "nelems")))
        elif isinstance(t, (Struct, Union)):
            kind_flag = any(m.bitfield_size for m in t.members)
            header(t.name, len(t.members), kind_flag, t.size)
            for m in t.members:
                if kind_flag and not (0 <= m.bit_offset < 1 << 24 and 0 <= m.bitfield_size < 256):
                    raise BTFError(f"member {m.name!r}: bit offset {m.bit_offset} or bitfield "
                                   f"size {m.bitfield_size} out of range")
                out.extend((strings.offset(m.name), ref(m.type),
                            _u32(layout.member_offset_word(m.bit_offset, m.bitfield_size,
                                                           kind_flag), "member offset")))
        elif isinstance(t, Enum64):
            header(t.name, len(t.values), t.signed, t.size)
            for v in t.values:
                if not -(1 << 63) <= v.value < 1 << 64:
                    raise BTFError(f"enumerator {v.name!r} = {v.value} does not fit 64 bits")
                value = v.value & 0xFFFF_FFFF_FFFF_FFFF
                out.extend((strings.offset(v.name), value & _U32, value >> 32))
        elif isinstance(t, Enum):
            header(t.name, len(t.values), t.signed, t.size)
            for v in t.values:
                if not -(1 << 31) <= v.value < 1 << 32:
                    raise BTFError(f"enumerator {v.name!r} = {v.value} does not fit 32 bits")
                out.extend((strings.offset(v.name), v.value & _U32))
        elif isinstance(t, Fwd):
            header(t.name, 0, t.fwd_kind == "union", 0)
        elif isinstance(t, Typedef):
            header(t.name, 0, False, ref(t.type))
        elif isinstance(t, TypeTag):
            header(t.value, 0, False, ref(t.type))
        elif isinstance(t, _Qualifier):
            header("", 0, False, ref(t.type))
        elif isinstance(t, Func):
            header(t.name, int(t.linkage), False, ref(t.type))
        elif isinstance(t, FuncProto):
            header("", len(t.params), False, ref(t.return_type))
            for p in t.params:
                out.extend((strings.offset(p.name), ref(p.type)))
        elif isinstance(t, Var):
            header(t.name, 0, False, ref(t.type))
            out.append(int(t.linkage))
        elif isinstance(t, Datasec):
            header(t.name, len(t.vars), False, t.size)
            for sec in t.vars:
                out.extend((ref(sec.type), _u32(sec.offset, "offset"), _u32(sec.size, "size")))
        elif isinstance(t, Float):
            header(t.name, 0, False, t.size)
        elif isinstance(t, DeclTag):
            header(t.value, 0, False, ref(t.type))
            if not -(1 << 31) <= t.component_idx < 1 << 31:
                raise BTFError(f"component_idx {t.component_idx} out of range")
            out.append(t.component_idx & _U32)
        else:
            raise BTFError(f"cannot encode {t!r}")


def _u32(value: int, what: str) -> int:
    if not 0 <= value <= _U32:
        raise BTFError(f"{what} {value} does not fit in 32 bits")
    return value


__all__ = ["Builder"]
