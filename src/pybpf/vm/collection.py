"""A whole collection in the userspace machine: ``load_collection(spec) -> VMCollection``;
one program: ``load(instructions, maps=...) -> VMProgram``. Both verify first.

The VM twin of the kernel collection loader: maps are created first from their MapSpecs
(global data sections get their initial image), then programs are predecoded with their map
references resolved by name (bpf-to-bpf calls arrive linked by the ELF reader), and last the
prog arrays and maps of maps get their contents, which name programs and maps.

Every program is checked by :mod:`pybpf.verifier` before anything is created (DESIGN.md:
the verifier is mandatory for the VM): a rejected program raises
:class:`~pybpf.errors.VerifierError`. A program the verifier cannot judge (a program type or
helper it does not know: ``kernel_may_accept``) still runs, with a :class:`UnverifiedWarning`
and its reason in ``VMCollection.unverified``. ``verify=False`` skips the check, for tests
that run unsafe bytecode on purpose to exercise the VM's own run-time checks.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..asm.instruction import Instruction
from ..errors import AsmError, ClosedError, InvalidInputError, NotSupportedError, VerifierError
from ..spec import CollectionSpec, MapSpec, MapType, ProgramSpec, ProgramType
from .errors import ProgramLoadError, VMError
from .helpers import Environment
from .map_factory import create_map
from .maps import VMMap
from .program import VMProgram


@dataclass
class VMCollection:
    """The live maps and programs of one collection, by name: a
    :class:`pybpf.live.Collection`, like the kernel's.

    There are no events in the VM (no tracepoint fires, no packet arrives by itself): a
    program runs when a test calls its ``test_run``/``run``. So :meth:`attach` raises
    :class:`~pybpf.errors.NotSupportedError` naming that, rather than pretending; readers
    given to :meth:`own` are closed by :meth:`close`, and ``links`` stays empty.
    """

    programs: dict[str, VMProgram] = field(default_factory=dict)
    maps: dict[str, VMMap] = field(default_factory=dict)
    env: Environment = field(default_factory=Environment)
    # programs the verifier could not judge (unsupported type or helper) -> why; they run
    # with only the VM's run-time memory checks
    unverified: dict[str, str] = field(default_factory=dict)
    spec: CollectionSpec = field(default_factory=CollectionSpec)
    links: list[Any] = field(default_factory=list)  # always empty: see attach()
    readers: list[Any] = field(default_factory=list)
    closed: bool = False

    def attach(self, *names: str, target: Any = None, **options: Any) -> list[Any]:
        """Refused: the VM has no event sources. Raises InvalidInputError for a name that
        is not a program, NotSupportedError otherwise (run programs with ``test_run``)."""
        unknown = [n for n in names if n not in self.programs]
        if unknown:
            raise InvalidInputError(f"no program named {', '.join(map(repr, unknown))} "
                                    f"(it has: {', '.join(self.programs) or 'none'})")
        raise NotSupportedError("attaching programs in the VM", hint="the VM has no event "
                                "sources: run each program with test_run()")

    def own(self, reader: Any) -> Any:
        """Close ``reader`` with the collection; returns it."""
        if self.closed:
            raise ClosedError("collection closed: it cannot own a reader")
        self.readers.append(reader)
        return reader

    def __enter__(self) -> VMCollection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the readers it owns; the maps and programs are plain Python objects."""
        if self.closed:
            return
        self.closed = True
        for reader in reversed(self.readers):
            reader.close()


class UnverifiedWarning(UserWarning):
    """A program runs in the VM without a verdict: pybpf's verifier cannot judge it."""


def verify_programs(spec: CollectionSpec) -> dict[str, str]:
    """Run pybpf's verifier on every program of ``spec`` with the collection's maps.

    Returns the programs it could not judge (name -> reason), after warning about each.
    Raises :class:`~pybpf.errors.VerifierError` for the first program proven unsafe.
    """
    from ..verifier import verify

    unverified: dict[str, str] = {}
    for name, prog_spec in spec.programs.items():
        try:
            verify(prog_spec, maps=spec.maps)
        except VerifierError as err:
            if not getattr(err, "kernel_may_accept", False):
                raise
            reason = str(err).splitlines()[0]
            unverified[name] = reason
            warnings.warn(f"program '{name}' runs unverified in the VM: {reason}",
                          UnverifiedWarning, stacklevel=3)
    return unverified


def load(program: Sequence[Instruction] | bytes, *, verify: bool = True, name: str = "prog",
         maps: Mapping[str | int, VMMap] | None = None,
         type: ProgramType = ProgramType.UNSPEC, **options: Any) -> VMProgram:
    """One program (instructions or raw little-endian bytecode) live in the VM, checked by
    pybpf's verifier first, as every VM load is (``verify=False`` runs it unverified: for
    raw bytecode and tests of the VM's own run-time checks).

    ``maps`` are the VM maps it references (by name), ``type`` its program type (the
    verifier judges an UNSPEC program as a socket filter); ``options`` go to
    :class:`VMProgram` (``helpers``, ``env``, ``tier``). Raises
    :class:`~pybpf.errors.VerifierError` for a program proven unsafe (a program the
    verifier cannot judge runs with an :class:`UnverifiedWarning`), and
    :class:`~pybpf.errors.ProgramLoadError` for one the VM cannot run.
    """
    if isinstance(program, (bytes, bytearray, memoryview)):
        try:
            instructions = Instruction.decode(bytes(program))
        except AsmError as err:
            raise ProgramLoadError(str(err), program=name) from None
    else:
        instructions = list(program)
    if verify:
        verify_programs(_as_collection(instructions, name, type, maps or {}))
    return VMProgram(instructions, name=name, maps=maps, type=type, **options)


# lddw src values naming a map by fd (raw bytecode) or by fd plus a value offset
_PSEUDO_MAP_FD, _PSEUDO_MAP_VALUE = 1, 2


def _as_collection(instructions: list[Instruction], name: str, type: ProgramType,
                   maps: Mapping[str | int, VMMap]) -> CollectionSpec:
    """The spec the verifier judges: maps given by fd number (raw bytecode) get a name, and
    the lddw naming them that name as reference, as a linker would have left it."""
    by_number: dict[str | int, str] = {key: f"map_{key}" for key in maps
                                       if isinstance(key, int)}
    if by_number:
        instructions = [
            insn.with_(reference=by_number[insn.imm])
            if insn.is_wide and insn.src in (_PSEUDO_MAP_FD, _PSEUDO_MAP_VALUE)
            and insn.reference is None and insn.imm in by_number else insn
            for insn in instructions]
    map_specs = {by_number.get(key, str(key)): MapSpec(by_number.get(key, str(key)), m.type,
                                                       m.key_size, m.value_size,
                                                       m.max_entries)
                 for key, m in maps.items()}
    spec = ProgramSpec(name, "", type, instructions=instructions)
    return CollectionSpec(programs={name: spec}, maps=map_specs)


def load_collection(spec: CollectionSpec, *, tier: str = "interp",
                    env: Environment | None = None, ncpus: int | None = None,
                    verify: bool = True) -> VMCollection:
    """Maps and programs of ``spec`` live in the VM, each program verified first.

    ``tier`` is every program's default engine, ``env`` the world their helpers see (one
    shared Environment), ``ncpus`` the CPU count of per-CPU maps. ``verify=False`` skips
    pybpf's verifier (only the VM's run-time checks remain: for raw bytecode and tests of
    those checks). Raises :class:`~pybpf.errors.VerifierError` for a program the verifier
    rejects (nothing is created then), :class:`VMError` for a map type the VM lacks or
    contents naming a missing program/map, and :class:`~pybpf.vm.errors.ProgramLoadError`
    for a program it cannot run.
    """
    unverified = verify_programs(spec) if verify else {}
    env = env if env is not None else Environment()
    maps = {name: create_map(map_spec, ncpus=ncpus) for name, map_spec in spec.maps.items()}
    by_name: Mapping[str | int, VMMap] = maps  # type: ignore[assignment]  # str keys only
    programs = {name: VMProgram(prog_spec.instructions, name=name, maps=by_name, env=env,
                                type=prog_spec.type, tier=tier)
                for name, prog_spec in spec.programs.items()}
    for name, map_spec in spec.maps.items():
        if map_spec.type == MapType.PROG_ARRAY:
            table: dict[str, Any] = dict(programs)
        elif map_spec.type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
            table = dict(maps)
        else:
            continue
        for key, value in map_spec.contents:
            target = table.get(value) if isinstance(value, str) else None
            if target is None:
                raise VMError(f"map '{name}': its contents name {value!r}, which is not a "
                              f"{'program' if map_spec.type == MapType.PROG_ARRAY else 'map'}"
                              f" of the collection")
            maps[name].update(key, target)
    return VMCollection(programs, maps, env, unverified, spec=spec)
