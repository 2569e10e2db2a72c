"""CO-RE compatibility rules: which target types may stand in for a local type.

Three relations, from weakest to strongest, following the rules libbpf documents for
``bpf_core_fields_are_compat``, ``bpf_core_types_are_compat`` and ``bpf_core_types_match``:

* :func:`fields_are_compat`: a member found by name may be relocated to (field relocations);
* :func:`types_are_compat`: a type of the same name may answer TYPE_EXISTS/SIZE/ID_TARGET;
* :func:`types_match`: the stricter TYPE_MATCHES (same members by name, same int sizes...).

Names compare by their *essential* part: ``task_struct___v2`` is a flavor of
``task_struct`` (:func:`essential_name`). Every function returns a bool and raises
:class:`~pybpf.errors.CORERelocationError` only for pathological (too deep) type graphs.
"""

from __future__ import annotations

from typing import TypeGuard

from ..errors import CORERelocationError
from .queries import skip_qualifiers
from .types import (
    Array,
    Enum,
    Float,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Ptr,
    Struct,
    Type,
    Union,
    Void,
    kind_of,
)

# libbpf bounds its recursion the same way: real kernel types are far shallower.
MAX_DEPTH = 32


def essential_name(name: str) -> str:
    """``name`` without its flavor suffix: the part before the last ``___`` separator.

    A separator is exactly three underscores between two other characters, so
    ``a___b___c`` -> ``a___b`` and ``__u32`` or ``x____y`` stay whole.
    """
    for i in range(len(name) - 5, -1, -1):
        if (name[i] != "_" and name[i + 1:i + 4] == "___" and name[i + 4] != "_"):
            return name[:i + 1]
    return name


def is_composite(t: Type) -> TypeGuard[Struct | Union]:
    return isinstance(t, (Struct, Union))


def is_any_enum(t: Type) -> TypeGuard[Enum]:
    return isinstance(t, Enum)  # Enum64 is a subclass


def kinds_core_compat(a: Type, b: Type) -> bool:
    """Same BTF kind, where ENUM and ENUM64 count as one kind."""
    return kind_of(a) == kind_of(b) or (is_any_enum(a) and is_any_enum(b))


def _bitfield_like(t: Int) -> bool:
    # deprecated "int with a bit offset" encoding of bitfields: never relocatable
    return t.offset != 0


def _names_compat(a: str, b: str) -> bool:
    """Equal essential names, or one side anonymous (fields_are_compat's enum/fwd rule)."""
    ea, eb = essential_name(a), essential_name(b)
    return not ea or not eb or ea == eb


def fields_are_compat(local: Type, target: Type) -> bool:
    """May the target member type ``target`` stand in for the local member type ``local``?

    Any struct/union pair is compatible (its members are checked by later accessors);
    pointers and floats of either side too; enums and forward declarations need equal
    essential names (or an anonymous side); ints need no bit offset; arrays recurse on their
    element types.
    """
    for _ in range(MAX_DEPTH):
        local, target = skip_qualifiers(local), skip_qualifiers(target)
        if is_composite(local) and is_composite(target):
            return True
        if not kinds_core_compat(local, target):
            return False
        if isinstance(local, (Ptr, Float)):
            return True
        if isinstance(local, (Fwd, Enum)):
            return _names_compat(local.name, target.name)
        # kinds agree from here on: the isinstance tests on target only tell the type checker
        if isinstance(local, Int) and isinstance(target, Int):
            return not _bitfield_like(local) and not _bitfield_like(target)
        if isinstance(local, Array) and isinstance(target, Array):
            local, target = local.type, target.type
            continue
        return False
    raise CORERelocationError(f"field type nesting deeper than {MAX_DEPTH}")


def types_are_compat(local: Type, target: Type, *, level: int = MAX_DEPTH) -> bool:
    """May ``target`` (same essential name) answer a type-based relocation for ``local``?

    Kinds must agree beneath typedefs and qualifiers; structs, unions, enums and forward
    declarations agree on kind alone; ints need no bit offset; pointers and arrays recurse;
    function prototypes need the same number of parameters and compatible parameter and
    return types.
    """
    if not kinds_core_compat(local, target):
        return False
    for _ in range(MAX_DEPTH):
        local, target = skip_qualifiers(local), skip_qualifiers(target)
        if not kinds_core_compat(local, target):
            return False
        if isinstance(local, (Void, Struct, Union, Enum, Fwd)):
            return True
        # kinds agree from here on: the isinstance tests on target only tell the type checker
        if isinstance(local, Int) and isinstance(target, Int):
            return not _bitfield_like(local) and not _bitfield_like(target)
        if isinstance(local, Ptr) and isinstance(target, Ptr):
            local, target = local.target, target.target
            continue
        if isinstance(local, Array) and isinstance(target, Array):
            local, target = local.type, target.type
            continue
        if isinstance(local, FuncProto):
            assert isinstance(target, FuncProto)
            if len(local.params) != len(target.params):
                return False
            for lp, tp in zip(local.params, target.params):
                if level <= 0:
                    raise CORERelocationError(
                        f"function prototype nesting deeper than {MAX_DEPTH}")
                if not types_are_compat(skip_qualifiers(lp.type), skip_qualifiers(tp.type),
                                        level=level - 1):
                    return False
            local, target = local.return_type, target.return_type
            continue
        return False  # func, var, datasec, float...: not relocatable as types
    raise CORERelocationError(f"type nesting deeper than {MAX_DEPTH}")


def _match_names(local: str, target: str) -> bool:
    """TYPE_MATCHES name rule: an anonymous target matches only an anonymous local."""
    if not target:
        return not local
    return essential_name(local) == essential_name(target)


def _enums_match(local: Enum, target: Enum) -> bool:
    if local.size != target.size:
        return False
    return all(any(_match_names(lv.name, tv.name) for tv in target.values)
               for lv in local.values)


def _composites_match(local: Struct | Union, target: Struct | Union, behind_ptr: bool,
                      level: int) -> bool:
    if len(local.members) > len(target.members):
        return False
    for lm in local.members:
        if not any(_match_names(lm.name, tm.name)
                   and types_match(lm.type, tm.type, behind_ptr=behind_ptr, level=level - 1)
                   for tm in target.members):
            return False
    return True


def types_match(local: Type, target: Type, *, behind_ptr: bool = False,
                level: int = MAX_DEPTH) -> bool:
    """TYPE_MATCHES: does ``target`` have the shape ``local`` describes?

    Beneath typedefs and qualifiers, names must agree (essential names) and kinds must be
    the same, except that behind a pointer a struct/union matches a forward declaration of
    the same flavour and ENUM matches ENUM64. Ints: same size and signedness. Arrays: same
    length, matching elements. Structs/unions: every local member has a same-named target
    member of matching type. Enums: same size, every local enumerator name in the target.
    Function prototypes: same parameter count, matching parameters and return type.
    """
    if level <= 0:
        raise CORERelocationError(f"type nesting deeper than {MAX_DEPTH}")
    for _ in range(MAX_DEPTH):
        local, target = skip_qualifiers(local), skip_qualifiers(target)
        if not _match_names(local.name, target.name):
            return False
        lk, tk = kind_of(local), kind_of(target)
        if isinstance(local, Void):
            return lk == tk
        if isinstance(local, Fwd):
            local_is_union = local.fwd_kind == "union"
            if isinstance(target, Fwd):
                return local_is_union == (target.fwd_kind == "union")
            if not behind_ptr:
                return False
            return (tk == Kind.STRUCT and not local_is_union) or (
                tk == Kind.UNION and local_is_union)
        if is_any_enum(local):
            return is_any_enum(target) and _enums_match(local, target)
        if isinstance(local, (Struct, Union)):
            if behind_ptr:
                if lk == tk:
                    return True
                if not isinstance(target, Fwd):
                    return False
                return (lk == Kind.UNION) == (target.fwd_kind == "union")
            if lk != tk or not is_composite(target):
                return False
            return _composites_match(local, target, behind_ptr, level)
        # below, "same kind" is tested as "same class", which tells the type checker too
        if isinstance(local, Int):
            return (isinstance(target, Int) and local.size == target.size
                    and local.signed == target.signed)
        if isinstance(local, Ptr):
            if not isinstance(target, Ptr):
                return False
            behind_ptr = True
            local, target = local.target, target.target
            continue
        if isinstance(local, Array):
            if not isinstance(target, Array) or local.nelems != target.nelems:
                return False
            local, target = local.type, target.type
            continue
        if isinstance(local, FuncProto):
            if not isinstance(target, FuncProto) or len(local.params) != len(target.params):
                return False
            for lp, tp in zip(local.params, target.params):
                if not types_match(lp.type, tp.type, behind_ptr=behind_ptr, level=level - 1):
                    return False
            local, target = local.return_type, target.return_type
            continue
        return False
    raise CORERelocationError(f"type nesting deeper than {MAX_DEPTH}")
