"""CO-RE: relocate a program's instructions from its own BTF to a target kernel's BTF.

A program compiled against one kernel's types records, in ``.BTF.ext``, each instruction
whose constant depends on a type layout: a field offset, a size, whether a type exists, an
enumerator's value... :func:`relocate` recomputes each constant against the *target* BTF
(usually the running kernel's, ``pybpf.btf.load_kernel_spec()``) and returns patched
instructions; it is pure, so it runs on any machine with any target BTF.

    from pybpf.btf import load_kernel_spec
    from pybpf.btf.core import relocate_program, format_results
    patched, results = relocate_program(prog, load_kernel_spec())
    print(format_results(results))

How a relocation resolves (the rules libbpf documents, reimplemented here):

1. the access string is walked in the local BTF (:mod:`.core_access`);
2. target *candidates* are the types of a compatible kind whose essential name (the name
   without a ``___flavor`` suffix) equals the local one's;
3. each candidate is matched: fields by name (through anonymous members), array elements
   by index, compatibility checked per kind (:mod:`.core_compat`);
4. all matching candidates must agree on the value, else the relocation is ambiguous;
5. with no match, exists-kinds and type-kinds give 0; a field offset/size or an
   enumerator value cannot be given and the instruction is *poisoned* (:mod:`.core_patch`);
6. the value is written into the instruction (:mod:`.core_patch`), after checking it
   still holds the local value.

Candidates that matched one relocation are the only ones later relocations of the same
local type consider (libbpf narrows its candidate cache the same way);
:class:`CandidateCache` makes that state visible and shareable across programs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..errors import BTFError, CORERelocationError
from .core_access import (
    ENUMVAL_KINDS,
    FIELD_KINDS,
    AccessSpec,
    describe_type,
    find_candidates,
    match_candidate,
    parse_local_access,
)
from .core_patch import POISON_HELPER, Patch, patch, poison
from .core_values import Poison, SideValue, enum_value, field_value, may_resize_access, type_value
from .ext import CORERelo, CORERelocKind
from .spec import Spec
from .types import Type

__all__ = ["relocate", "relocate_with_results", "relocate_program", "relocate_collection",
           "resolve",
           "format_results", "CORERelocationResult", "CandidateCache", "POISON_HELPER"]

INSN_BYTES = 8


class CandidateCache:
    """Target candidates per local type, narrowed to those that matched so far.

    One cache per (local BTF, target BTF) pair; share it across the programs of one object
    to resolve exactly as libbpf does for the whole object.
    """

    def __init__(self) -> None:
        self._by_type: dict[int, list[Type]] = {}

    def candidates(self, local_type: Type, target: Spec) -> list[Type]:
        key = id(local_type)
        if key not in self._by_type:
            self._by_type[key] = find_candidates(local_type, target)
        return self._by_type[key]

    def narrow(self, local_type: Type, matched: list[Type]) -> None:
        self._by_type[id(local_type)] = list(matched)


@dataclass
class CORERelocationResult:
    """How one relocation resolved: for logs, ``pybpf spec --core`` and tests.

    ``orig_value`` is what the compiler computed from the local types, ``new_value`` the
    target's answer (None when the instruction was poisoned). ``target`` is the access in
    the chosen target type (None when nothing matched); ``candidates`` every target type
    considered. ``insn_index`` is the instruction slot (8-byte units) of the relocated
    instruction; ``patch`` what was done to it (set by :func:`relocate`).
    """

    index: int
    relo: CORERelo
    kind: CORERelocKind
    local: AccessSpec
    target: AccessSpec | None = None
    candidates: list[Type] = field(default_factory=list)
    orig_value: int = 0
    new_value: int | None = 0
    validate: bool = True
    orig_size: int = 0
    new_size: int = 0
    resize_forbidden: bool = False
    patch: str = ""

    @property
    def insn_index(self) -> int:
        return self.relo.insn_off // INSN_BYTES

    @property
    def poisoned(self) -> bool:
        return self.new_value is None


def _kind_of(relo: CORERelo) -> CORERelocKind:
    try:
        return CORERelocKind(int(relo.kind))
    except ValueError:
        raise CORERelocationError(f"unknown CO-RE relocation kind {int(relo.kind)}") from None


def _local_root(relo: CORERelo, local: Spec) -> Type:
    t: Type | int = relo.type  # a type id until resolved
    if isinstance(t, int):
        return local.type_by_id(t)
    return t


def _describe(index: int, relo: CORERelo, local: Spec) -> str:
    try:
        root = _local_root(relo, local)
        type_text = f"[{local.type_id(root)}] {describe_type(root)}"
    except (KeyError, BTFError):
        type_text = repr(relo.type)
    kind = getattr(relo.kind, "name", relo.kind)
    return (f"relocation #{index} <{kind}> at insn #{relo.insn_off // INSN_BYTES} "
            f"(type {type_text}, access '{relo.access_str}')")


def _error(program: str, index: int, relo: CORERelo, local: Spec, problem: str
           ) -> CORERelocationError:
    return CORERelocationError(f"{_describe(index, relo, local)}: {problem}",
                               source=f"program '{program}'", offset=relo.insn_off)


def _side_values(kind: int, local_spec: AccessSpec, target_spec: AccessSpec | None,
                 local_id: int, target_id: int) -> tuple[SideValue, SideValue | None]:
    """(local value, target value or None when the target cannot answer: poison)."""
    if kind in FIELD_KINDS:
        compute = field_value
    elif kind in ENUMVAL_KINDS:
        compute = enum_value
    else:
        orig = type_value(kind, local_spec, local_id)
        return orig, type_value(kind, target_spec, target_id)
    orig = compute(kind, local_spec)
    try:
        return orig, compute(kind, target_spec)
    except Poison:
        return orig, None


def _resolve_one(index: int, relo: CORERelo, local: Spec, target: Spec,
                 cache: CandidateCache) -> CORERelocationResult:
    kind = _kind_of(relo)
    root = _local_root(relo, local)
    local_spec = parse_local_access(local, root, relo.access_str, kind)
    result = CORERelocationResult(index=index, relo=relo, kind=kind, local=local_spec)
    local_id = local.type_id(root)
    if kind == CORERelocKind.TYPE_ID_LOCAL:
        # no target needed; linking may renumber ids, so the old value is not checked
        result.orig_value = result.new_value = local_id
        result.validate = False
        return result
    if not root.name:
        raise CORERelocationError("CO-RE cannot find an anonymous type in the target")
    candidates = cache.candidates(root, target)
    result.candidates = list(candidates)
    matched: list[Type] = []
    chosen: tuple[AccessSpec, SideValue, SideValue | None] | None = None
    for candidate in candidates:
        cand_spec = match_candidate(local_spec, target, candidate)
        if cand_spec is None:
            continue
        orig, new = _side_values(kind, local_spec, cand_spec, local_id,
                                 target.type_id(candidate))
        if chosen is None:
            chosen = (cand_spec, orig, new)
        else:
            first_spec, _, first_new = chosen
            if cand_spec.bit_offset != first_spec.bit_offset:
                raise CORERelocationError(
                    f"field offset ambiguity: {first_spec.describe()} is at bit "
                    f"{first_spec.bit_offset} but {cand_spec.describe()} at bit "
                    f"{cand_spec.bit_offset}")
            if (new is None) != (first_new is None) or (
                    new is not None and first_new is not None
                    and new.value != first_new.value):
                raise CORERelocationError(
                    f"ambiguous: candidates {first_spec.describe()} and "
                    f"{cand_spec.describe()} give different results "
                    f"({_value_text(first_new)} vs {_value_text(new)})")
        matched.append(candidate)
    if matched:
        cache.narrow(root, matched)
    if chosen is None:
        orig, new = _side_values(kind, local_spec, None, local_id, 0)
        result.target = None
    else:
        result.target, orig, new = chosen
    result.orig_value = orig.value
    result.validate = orig.validate
    if new is None:
        result.new_value = None
        return result
    result.new_value = new.value
    if kind == CORERelocKind.FIELD_BYTE_OFFSET:
        result.orig_size, result.new_size = orig.field_size, new.field_size
        result.resize_forbidden = (orig.field_size != new.field_size and not
                                   may_resize_access(orig.field_type, new.field_type))
    return result


def _value_text(value: SideValue | None) -> str:
    return "poison" if value is None else str(value.value)


def resolve(relos: Iterable[CORERelo], local: Spec, target: Spec, *, program: str = "?",
            cache: CandidateCache | None = None) -> list[CORERelocationResult]:
    """Compute every relocation's local and target values without touching instructions.

    Raises :class:`CORERelocationError` naming the program, relocation, instruction, type
    and access string of the first relocation that cannot be resolved (a malformed access,
    an ambiguous target).
    """
    cache = cache if cache is not None else CandidateCache()
    results = []
    for index, relo in enumerate(relos):
        try:
            results.append(_resolve_one(index, relo, local, target, cache))
        except CORERelocationError as err:
            raise _error(program, index, relo, local, err.message) from None
        except BTFError as err:
            raise _error(program, index, relo, local, f"bad BTF: {err}") from None
        except KeyError:
            raise _error(program, index, relo, local,
                         "the relocation's type is not a type of the local BTF") from None
    return results


def relocate_with_results(insns: Sequence[Instruction], relos: Iterable[CORERelo],
                          local: Spec, target: Spec, *, program: str = "?",
                          cache: CandidateCache | None = None
                          ) -> tuple[list[Instruction], list[CORERelocationResult]]:
    """:func:`relocate`, also returning how each relocation resolved (in ``relos`` order).

    ``relo.insn_off`` is a byte offset from the first of ``insns``.
    """
    relos = list(relos)
    results = resolve(relos, local, target, program=program, cache=cache)
    listing = Instructions(insns)
    slot_to_index = listing.slot_to_index()
    pieces: list[list[Instruction]] = [[insn] for insn in insns]
    for result in results:
        relo = result.relo
        at = slot_to_index.get(relo.insn_off // INSN_BYTES) if relo.insn_off % INSN_BYTES == 0 \
            else None
        if at is None:
            raise _error(program, result.index, relo, local,
                         f"byte offset {relo.insn_off} is not the start of an instruction "
                         f"(program has {listing.slot_count} slots)")
        insn = pieces[at][0]
        try:
            done = _apply(insn, result)
        except CORERelocationError as err:
            raise _error(program, result.index, relo, local, err.message) from None
        pieces[at] = done.insns + pieces[at][1:]
        result.patch = done.description
    return [insn for piece in pieces for insn in piece], results


def _apply(insn: Instruction, result: CORERelocationResult) -> Patch:
    if result.new_value is None:
        return poison(insn)
    return patch(insn, orig_value=result.orig_value, new_value=result.new_value,
                 validate=result.validate, orig_size=result.orig_size,
                 new_size=result.new_size, resize_forbidden=result.resize_forbidden)


def relocate(insns: Sequence[Instruction], relos: Iterable[CORERelo], local: Spec,
             target: Spec, *, program: str = "?", cache: CandidateCache | None = None
             ) -> list[Instruction]:
    """``insns`` with every CO-RE relocation in ``relos`` applied against ``target``.

    ``local`` is the object's own BTF (the one ``relos`` refer to); ``relo.insn_off`` is a
    byte offset from the first of ``insns``. A poisoned ``lddw`` becomes two one-slot
    calls, so slot offsets never move. Raises :class:`CORERelocationError` (naming
    ``program``, the relocation, instruction, type and access string) for a relocation that
    cannot be resolved or applied.
    """
    return relocate_with_results(insns, relos, local, target, program=program,
                                 cache=cache)[0]


def relocate_program(prog: Any, target: Spec, *, local: Spec | None = None,
                     cache: CandidateCache | None = None
                     ) -> tuple[Any, list[CORERelocationResult]]:
    """``prog`` (a :class:`~pybpf.spec.ProgramSpec`) relocated against ``target``: a copy
    sharing everything but its instruction list, plus the per-relocation results.

    Uses ``prog.btf`` as the local BTF unless ``local`` is given, and ``prog.core_relos``
    whose ``insn_off`` is an instruction SLOT of ``prog.instructions`` (as
    :func:`pybpf.elf.load_collection_spec` makes them, subprograms already appended).
    Raises :class:`CORERelocationError`; a program without relocations comes back unchanged.
    """
    relos = [dataclasses.replace(r, insn_off=r.insn_off * INSN_BYTES)
             for r in (prog.core_relos or [])]
    if not relos:
        return dataclasses.replace(prog, instructions=list(prog.instructions)), []
    local = local if local is not None else prog.btf
    if local is None:
        raise CORERelocationError("program has CO-RE relocations but no BTF",
                                  source=f"program '{prog.name}'")
    insns, results = relocate_with_results(prog.instructions, relos, local, target,
                                           program=prog.name, cache=cache)
    # a shallow copy: the BTF and metadata are shared (never mutated), the list is new
    return dataclasses.replace(prog, instructions=insns), results


def relocate_collection(coll: Any, target: Spec
                        ) -> tuple[Any, dict[str, list[CORERelocationResult]]]:
    """Every program of a :class:`~pybpf.spec.CollectionSpec` relocated against ``target``.

    Returns a shallow copy of ``coll`` with relocated programs, and each program's results
    by name. One :class:`CandidateCache` serves the whole collection, as in libbpf. Raises
    :class:`CORERelocationError` for the first relocation that cannot be applied.
    """
    cache = CandidateCache()
    programs = {}
    results: dict[str, list[CORERelocationResult]] = {}
    for name, prog in coll.programs.items():
        programs[name], results[name] = relocate_program(prog, target, local=coll.btf
                                                         if prog.btf is None else None,
                                                         cache=cache)
    return dataclasses.replace(coll, programs=programs), results


def format_results(results: Iterable[CORERelocationResult]) -> str:
    """One line per relocation: number, instruction, kind, local access -> target, patch.

    ``#3 insn 7 FIELD_BYTE_OFFSET [17] struct task_struct.comm[3] (0:0:3 @ offset 3)
    -> [114] struct task_struct.comm[3] (0:57:3 @ offset 1755): off 3 -> 1755``
    """
    lines = []
    for r in results:
        if r.kind == CORERelocKind.TYPE_ID_LOCAL:
            target = "(local)"
        elif r.target is None:
            target = "not found"
        else:
            target = r.target.describe()
        if r.poisoned:
            outcome = r.patch or "poisoned"
        else:
            outcome = r.patch or f"{r.orig_value} -> {r.new_value}"
        lines.append(f"#{r.index} insn {r.insn_index} {r.kind.name} {r.local.describe()} "
                     f"-> {target}: {outcome}")
    return "\n".join(lines)
