"""Questions about one type: what it is beneath qualifiers, its size, its alignment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BTFError
from .types import (
    Array,
    Const,
    Datasec,
    Enum,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    Ptr,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    Void,
    Volatile,
)

if TYPE_CHECKING:
    from .spec import Spec

# Real BTF chains are short; a longer one is a cycle in corrupt or hand-built data.
MAX_CHAIN = 64
POINTER_SIZE = 8  # BPF is a 64-bit target

_SKIPPED = (Typedef, Const, Volatile, Restrict, TypeTag)


def skip_qualifiers(t: Type) -> Type:
    """``t`` without typedef/const/volatile/restrict/type_tag wrappers.

    Raises :class:`BTFError` on a cycle of such wrappers.
    """
    for _ in range(MAX_CHAIN):
        if not isinstance(t, _SKIPPED):
            return t
        t = t.type
    raise BTFError(f"qualifier/typedef chain longer than {MAX_CHAIN} at {t!r} (a cycle?)")


def sizeof(t: Type) -> int:
    """The size in bytes of ``t`` as C's ``sizeof`` would give it.

    Raises :class:`BTFError` for types without a size (void, function, forward declaration)
    or a cyclic chain.
    """
    multiplier = 1
    for _ in range(MAX_CHAIN):
        t = skip_qualifiers(t)
        if isinstance(t, Array):
            multiplier *= t.nelems
            t = t.type
            continue
        if isinstance(t, Var):
            t = t.type
            continue
        if isinstance(t, Ptr):
            return multiplier * POINTER_SIZE
        if isinstance(t, (Int, Float, Enum, Struct, Union, Datasec)):
            return multiplier * t.size
        raise BTFError(f"{t!r} has no size")
    raise BTFError(f"array/var chain longer than {MAX_CHAIN} (a cycle?)")


def alignof(t: Type) -> int:
    """The alignment in bytes of ``t`` (BPF target: 8-byte pointers and longs).

    BTF does not record ``packed``, so a struct/union whose members sit off their natural
    alignment, or whose size is not a multiple of it, is taken as packed: alignment 1 (the
    rule bpftool's C dump uses too). Raises :class:`BTFError` for types without a size.
    """
    for _ in range(MAX_CHAIN):
        t = skip_qualifiers(t)
        if isinstance(t, (Array, Var)):
            t = t.type
            continue
        if isinstance(t, Ptr):
            return POINTER_SIZE
        if isinstance(t, (Int, Float, Enum)):
            return min(t.size, POINTER_SIZE)
        if isinstance(t, (Struct, Union)):
            max_align = 1
            for m in t.members:
                try:
                    align = alignof(m.type)
                except RecursionError:  # a struct containing itself: corrupt BTF
                    raise BTFError(f"{t!r} contains itself") from None
                if align <= 0:  # a zero-sized member type: no alignment to speak of
                    return 0
                max_align = max(max_align, align)
                if m.bitfield_size == 0 and m.bit_offset % (8 * align):
                    return 1
            return 1 if t.size % max_align else max_align
        raise BTFError(f"{t!r} has no alignment")
    raise BTFError(f"array chain longer than {MAX_CHAIN} (a cycle?)")


def is_packed(t: Struct | Union) -> bool:
    """Whether a struct must be declared ``__attribute__((packed))`` to get its layout."""
    max_align = 1
    for m in t.members:
        align = alignof(m.type)
        if align and m.bitfield_size == 0 and m.bit_offset % (8 * align):
            return True
        max_align = max(max_align, align)
    return t.size % max_align != 0


def is_anonymous(t: Type) -> bool:
    return not t.name


def resolves_to_void(t: Type) -> bool:
    return isinstance(skip_qualifiers(t), Void)


def is_function_like(t: Type) -> bool:
    return isinstance(t, (Func, FuncProto))


def is_forward(t: Type) -> bool:
    return isinstance(t, Fwd)


# what a kind word of the command line or an API call names
_KINDS: dict[str, tuple[type[Type], ...]] = {
    "struct": (Struct,), "union": (Union,), "enum": (Enum,), "typedef": (Typedef,),
}
# when a name is both, e.g. `struct foo` and `typedef ... foo`, the definition comes first
_PREFERENCE: tuple[type[Type], ...] = (Struct, Union, Enum, Typedef)


def pick_type(spec: Spec, name: str, kind: str | None = None) -> Type:
    """The type called ``name`` (or with that id, when ``name`` is a number) in ``spec``,
    of ``kind`` ("struct", "union", "enum", "typedef") if given; a definition before a
    forward declaration or a typedef of the same name. Raises BTFError naming what was
    missing."""
    if name.isdigit():
        return spec.type_by_id(int(name))
    candidates = [t for t in spec.types_by_name(name) if not isinstance(t, Fwd)]
    if kind is not None:
        candidates = [t for t in candidates if isinstance(t, _KINDS[kind])]
    if not candidates:
        what = f"{kind} " if kind else ""
        raise BTFError(f"no {what}type named {name!r}", source=spec.name)
    for preferred in _PREFERENCE:
        for t in candidates:
            if isinstance(t, preferred):
                return t
    return candidates[0]
