"""CO-RE access specs: what a relocation's access string points at, locally and in a target.

Clang describes every CO-RE access as a root type plus an *access string* of indexes:
``"0:2:0:3"`` = element 0 of the root (pointer arithmetic), member 2, member 0 of that,
element 3 of that array. :func:`parse_local_access` walks it through the object's own BTF;
:func:`match_candidate` replays the *named* steps in a target type, finding members by name
(through anonymous structs/unions, which may be laid out differently there) and array
elements by index. :func:`find_candidates` lists the target types a local type may be.

The rules are those libbpf documents for CO-RE (essential names, compatibility checks per
kind, flexible arrays, the 64-step limit); the code is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BTFError, CORERelocationError
from .core_compat import (
    essential_name,
    fields_are_compat,
    is_any_enum,
    is_composite,
    kinds_core_compat,
    types_are_compat,
    types_match,
)
from .queries import sizeof, skip_qualifiers
from .spec import Spec
from .types import Array, Enum, Type

MAX_ACCESS_LEN = 64  # libbpf's BPF_CORE_SPEC_MAX_LEN

FIELD_KINDS = frozenset({0, 1, 2, 3, 4, 5})  # FIELD_BYTE_OFFSET .. FIELD_RSHIFT_U64
TYPE_KINDS = frozenset({6, 7, 8, 9, 12})     # TYPE_ID_LOCAL/TARGET, TYPE_EXISTS/SIZE/MATCHES
ENUMVAL_KINDS = frozenset({10, 11})          # ENUMVAL_EXISTS, ENUMVAL_VALUE
TYPE_MATCHES = 12


@dataclass
class Accessor:
    """One *named* step of an access: a member (``name`` set) or an array element.

    ``parent`` is the struct/union (or array, for elements; the root type for step 0) the
    step indexes into; ``index`` the member/element/enumerator index there.
    """

    parent: Type
    index: int
    name: str | None = None


@dataclass
class AccessSpec:
    """A resolved access: root type, named steps, every raw index and the bit offset.

    ``raw`` includes the steps through anonymous members (as clang writes them for the
    local side); ``accessors`` only the named ones (what is matched against a target).
    """

    btf: Spec
    root: Type
    kind: int
    raw: list[int] = field(default_factory=list)
    accessors: list[Accessor] = field(default_factory=list)
    bit_offset: int = 0

    @property
    def access_string(self) -> str:
        return ":".join(map(str, self.raw))

    def describe(self) -> str:
        """``[id] struct task_struct.comm[3] (0:0:3 @ offset 3)``-style text for messages."""
        text = f"[{_type_id(self.btf, self.root)}] {describe_type(self.root)}"
        if self.kind in ENUMVAL_KINDS and self.accessors:
            return f"{text}::{self.accessors[0].name}"
        if self.kind in TYPE_KINDS:
            return text
        for i, acc in enumerate(self.accessors):
            if acc.name:
                text += f".{acc.name}"
            elif i > 0:
                text += f"[{acc.index}]"
        bits = self.bit_offset % 8
        where = f"{self.bit_offset // 8}" + (f".{bits}" if bits else "")
        return f"{text} ({self.access_string} @ offset {where})"


def _type_id(spec: Spec, t: Type) -> int | str:
    try:
        return spec.type_id(t)
    except KeyError:
        return "?"


def describe_type(t: Type) -> str:
    """``struct task_struct``, ``typedef u32``, ``union <anon>``: a type in messages."""
    word = {4: "struct", 5: "union", 6: "enum", 19: "enum64", 8: "typedef", 7: "fwd",
            1: "int", 2: "ptr", 3: "array", 13: "func_proto", 16: "float"}.get(
                int(t.kind), f"kind {int(t.kind)}")
    return f"{word} {t.name or '<anon>'}"


def _size(t: Type, what: str) -> int:
    try:
        return sizeof(t)
    except BTFError as err:
        raise CORERelocationError(f"{what} has no size: {err.message}") from None


def parse_access_string(text: str) -> list[int]:
    """``"0:1:2"`` -> ``[0, 1, 2]``; raises CORERelocationError for anything else."""
    if not text or text.startswith(":"):
        raise CORERelocationError(f"malformed access string {text!r}")
    parts = text.split(":")
    if len(parts) > MAX_ACCESS_LEN:
        raise CORERelocationError(f"access string {text!r} is longer than "
                                  f"{MAX_ACCESS_LEN} steps")
    try:
        indexes = [int(p) for p in parts]
    except ValueError:
        raise CORERelocationError(f"malformed access string {text!r}") from None
    if any(i < 0 for i in indexes):
        raise CORERelocationError(f"negative index in access string {text!r}")
    return indexes


def _is_flex_array(prev: Accessor | None, array: Array) -> bool:
    """A zero-length array that is the last member of its struct may be indexed freely."""
    if prev is None or not prev.name or array.nelems > 0:
        return False
    parent = skip_qualifiers(prev.parent)
    return is_composite(parent) and prev.index == len(parent.members) - 1


def parse_local_access(btf: Spec, root: Type, access: str, kind: int) -> AccessSpec:
    """Walk ``access`` from ``root`` in the object's BTF ``btf``.

    Type-based kinds need the access string ``"0"``; enum kinds one enumerator index; field
    kinds a chain of member/element indexes. Raises CORERelocationError saying which step
    does not fit the type.
    """
    spec = AccessSpec(btf=btf, root=root, kind=kind)
    if kind in TYPE_KINDS:
        if access != "0":
            raise CORERelocationError(f"type relocation needs access string '0', "
                                      f"not {access!r}")
        spec.raw = [0]
        return spec
    spec.raw = parse_access_string(access)
    t = skip_qualifiers(root)
    first = spec.raw[0]
    spec.accessors.append(Accessor(t, first))
    if kind in ENUMVAL_KINDS:
        if not is_any_enum(t) or len(spec.raw) > 1 or first >= len(t.values):
            raise CORERelocationError(f"enum relocation access {access!r} does not name an "
                                      f"enumerator of {t!r}")
        spec.accessors[0].name = t.values[first].name
        return spec
    if kind not in FIELD_KINDS:
        raise CORERelocationError(f"unknown relocation kind {kind}")
    spec.bit_offset = first * _size(t, f"root type {t!r}") * 8
    for step, index in enumerate(spec.raw[1:], start=1):
        t = skip_qualifiers(t)
        if is_composite(t):
            members = t.members
            if index >= len(members):
                raise CORERelocationError(f"step {step}: member index {index} out of range "
                                          f"for {t!r} ({len(members)} members)")
            member = members[index]
            spec.bit_offset += member.bit_offset
            if member.name:
                spec.accessors.append(Accessor(t, index, member.name))
            t = member.type
        elif isinstance(t, Array):
            flex = _is_flex_array(_last_named(spec.accessors), t)
            if not flex and index >= t.nelems:
                raise CORERelocationError(f"step {step}: element {index} out of range for "
                                          f"an array of {t.nelems}")
            element = skip_qualifiers(t.type)
            spec.accessors.append(Accessor(element, index))
            spec.bit_offset += index * _size(element, "array element") * 8
            t = element
        else:
            raise CORERelocationError(f"step {step}: index {index} applied to {t!r}, which "
                                      f"is neither struct, union nor array")
    return spec


def _last_named(accessors: list[Accessor]) -> Accessor | None:
    return accessors[-1] if accessors else None


# ---- candidates -------------------------------------------------------------------------


def find_candidates(local_type: Type, target: Spec) -> list[Type]:
    """Target types of a compatible kind whose essential name equals the local one's.

    In target id order, as libbpf searches. The local type must be named (CO-RE cannot find
    an anonymous type in another BTF).
    """
    essential = essential_name(local_type.name)
    found: list[tuple[int, Type]] = []
    for name in _names_with_essential(target, essential):
        for t in target.types_by_name(name):
            if kinds_core_compat(t, local_type):
                found.append((target.type_id(t), t))
    found.sort(key=lambda pair: pair[0])
    return [t for _, t in found]


def _names_with_essential(target: Spec, essential: str) -> list[str]:
    """``essential`` itself and every flavored name ``essential___*`` the target holds."""
    names = [essential]
    names.extend(n for n in target.flavors_of(essential)
                 if n != essential and essential_name(n) == essential)
    return names


# ---- matching a local access in one candidate ------------------------------------------


def match_candidate(local: AccessSpec, target: Spec, candidate: Type) -> AccessSpec | None:
    """The target-side spec of ``local`` in ``candidate``, or None when it does not fit."""
    spec = AccessSpec(btf=target, root=candidate, kind=local.kind)
    if local.kind in TYPE_KINDS:
        if local.kind == TYPE_MATCHES:
            ok = types_match(local.root, candidate)
        else:
            ok = types_are_compat(local.root, candidate)
        return spec if ok else None
    if local.kind in ENUMVAL_KINDS:
        return _match_enumerator(local, spec, candidate)
    t: Type = candidate
    for i, acc in enumerate(local.accessors):
        if acc.name:
            found = _match_member(local, acc, spec, t)
            if found is None:
                return None
            t = found
            continue
        if i > 0:
            t = skip_qualifiers(t)
            if not isinstance(t, Array):
                return None
            prev = spec.accessors[-1] if spec.accessors else None
            if not _is_flex_array(prev, t) and acc.index >= t.nelems:
                return None
            t = skip_qualifiers(t.type)
        if len(spec.raw) >= MAX_ACCESS_LEN:
            raise CORERelocationError(f"target access deeper than {MAX_ACCESS_LEN} steps")
        spec.accessors.append(Accessor(t, acc.index))
        spec.raw.append(acc.index)
        spec.bit_offset += acc.index * _size(t, f"target type {t!r}") * 8
    return spec


def _match_enumerator(local: AccessSpec, spec: AccessSpec, candidate: Type
                      ) -> AccessSpec | None:
    t = skip_qualifiers(candidate)
    if not isinstance(t, Enum):
        return None
    wanted = essential_name(local.accessors[0].name or "")
    for index, value in enumerate(t.values):
        if essential_name(value.name) == wanted:
            spec.accessors.append(Accessor(t, index, value.name))
            spec.raw.append(index)
            return spec
    return None


def _match_member(local: AccessSpec, acc: Accessor, spec: AccessSpec, target_type: Type
                  ) -> Type | None:
    """Find member ``acc.name`` in ``target_type`` (searching anonymous members depth-first).

    On success the member's steps are appended to ``spec`` and its type returned.
    """
    t = skip_qualifiers(target_type)
    if not is_composite(t):
        return None
    parent = skip_qualifiers(acc.parent)
    if not is_composite(parent):
        raise CORERelocationError(f"local access step {acc.name!r} is not into a struct/union")
    local_member = parent.members[acc.index]
    for index, member in enumerate(t.members):
        if len(spec.raw) >= MAX_ACCESS_LEN:
            raise CORERelocationError(f"target access deeper than {MAX_ACCESS_LEN} steps")
        spec.bit_offset += member.bit_offset
        spec.raw.append(index)
        if not member.name:
            found = _match_member(local, acc, spec, member.type)
            if found is not None:
                return found
        elif member.name == acc.name:
            # a same-named member of an incompatible type ends the search at this level
            # (an enclosing anonymous member's search goes on, as libbpf's does)
            if not fields_are_compat(local_member.type, member.type):
                return None
            spec.accessors.append(Accessor(t, index, member.name))
            return member.type
        spec.bit_offset -= member.bit_offset
        spec.raw.pop()
    return None
