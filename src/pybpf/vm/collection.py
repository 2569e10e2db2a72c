"""A whole collection in the userspace machine: ``load_collection(spec) -> VMCollection``.

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
from dataclasses import dataclass, field

from ..errors import VerifierError
from ..spec import CollectionSpec, MapType
from .errors import VMError
from .helpers import Environment
from .map_factory import create_map
from .maps import VMMap
from .program import VMProgram


@dataclass
class VMCollection:
    """The live maps and programs of one collection, by name. A context manager, like the
    kernel's (closing drops nothing: the objects are plain Python)."""

    programs: dict[str, VMProgram] = field(default_factory=dict)
    maps: dict[str, VMMap] = field(default_factory=dict)
    env: Environment = field(default_factory=Environment)
    # programs the verifier could not judge (unsupported type or helper) -> why; they run
    # with only the VM's run-time memory checks
    unverified: dict[str, str] = field(default_factory=dict)

    def __enter__(self) -> "VMCollection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release in the VM; here so code runs unchanged on both backends."""


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
    programs = {name: VMProgram(prog_spec.instructions, name=name, maps=maps, env=env,
                                type=prog_spec.type, tier=tier)
                for name, prog_spec in spec.programs.items()}
    for name, map_spec in spec.maps.items():
        if map_spec.type == MapType.PROG_ARRAY:
            table: dict[str, object] = dict(programs)
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
    return VMCollection(programs, maps, env, unverified)
