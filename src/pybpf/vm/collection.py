"""A whole collection in the userspace machine: ``load_collection(spec) -> VMCollection``.

The VM twin of the kernel collection loader: maps are created first from their MapSpecs
(global data sections get their initial image), then programs are predecoded with their map
references resolved by name (bpf-to-bpf calls arrive linked by the ELF reader), and last the
prog arrays and maps of maps get their contents, which name programs and maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def __enter__(self) -> "VMCollection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release in the VM; here so code runs unchanged on both backends."""


def load_collection(spec: CollectionSpec, *, tier: str = "interp",
                    env: Environment | None = None, ncpus: int | None = None) -> VMCollection:
    """Maps and programs of ``spec`` live in the VM.

    ``tier`` is every program's default engine, ``env`` the world their helpers see (one
    shared Environment), ``ncpus`` the CPU count of per-CPU maps. Raises :class:`VMError`
    for a map type the VM lacks or contents naming a missing program/map, and
    :class:`~pybpf.vm.errors.ProgramLoadError` for a program it cannot run.
    """
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
    return VMCollection(programs, maps, env)
