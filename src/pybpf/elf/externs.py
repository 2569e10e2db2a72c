"""Extern variables and functions: ``__kconfig`` values, ``__ksym`` variables, kfuncs.

An extern is an undefined ELF symbol; only BTF says which kind it is, through the DATASEC
clang puts it in (``.kconfig`` or ``.ksyms``). ``__kconfig`` externs get a place in a
read-only ARRAY map named ``.kconfig`` whose value the loader fills from the running kernel's
config; like libbpf we order them by alignment (largest first), then name, so each is
naturally aligned without padding surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..btf import Datasec, Func, Var, Void, alignof, sizeof, skip_qualifiers
from ..errors import BTFError
from ..spec import ExternKind, ExternSpec, MapSpec, MapType
from .globaldata import MAX_SECTION_MAP_BYTES
from .reader import STB_WEAK, ObjectFile

KCONFIG_SECTION = ".kconfig"
KSYMS_SECTION = ".ksyms"


@dataclass
class Externs:
    """The externs found, plus the ``.kconfig`` map when any ``__kconfig`` extern exists."""

    specs: dict[str, ExternSpec] = field(default_factory=dict)
    kconfig_map: MapSpec | None = None

    @property
    def kconfig_offsets(self) -> dict[str, int]:
        return {e.name: e.offset for e in self.specs.values() if e.kind == ExternKind.KCONFIG}

    @property
    def ksyms(self) -> set[str]:
        return {e.name for e in self.specs.values() if e.kind != ExternKind.KCONFIG}

    @property
    def untyped_ksyms(self) -> set[str]:
        return {e.name for e in self.specs.values() if e.kind == ExternKind.KSYM
                and e.type is not None and isinstance(skip_qualifiers(e.type), Void)}


def collect_externs(obj: ObjectFile, btf: Any | None) -> Externs:
    """Classify the undefined symbols of ``obj`` using its BTF (nothing without BTF).

    Raises :class:`ELFError` for a ``.kconfig`` extern whose type has no size.
    """
    found = Externs()
    if btf is None:
        return found
    undefined = {s.name: s for s in obj.symbols if s.is_undefined and s.name}
    kconfig: list[tuple[int, str, Any, int, bool]] = []
    for section_name in (KCONFIG_SECTION, KSYMS_SECTION):
        try:
            datasec = btf.find(section_name, Datasec)
        except KeyError:
            continue
        for info in datasec.vars:
            t = info.type
            sym = undefined.get(t.name)
            weak = sym is not None and sym.bind == STB_WEAK
            if section_name == KCONFIG_SECTION and isinstance(t, Var):
                try:
                    size, align = sizeof(t.type), alignof(t.type)
                except BTFError as err:
                    raise obj.error(f"__kconfig extern {t.name!r} has a type without size: "
                                    f"{err}", section=KCONFIG_SECTION) from None
                kconfig.append((max(align, 1), t.name, t.type, size, weak))
            elif isinstance(t, Func):
                found.specs[t.name] = ExternSpec(t.name, ExternKind.KFUNC, t.type, weak=weak)
            elif isinstance(t, Var):
                found.specs[t.name] = ExternSpec(t.name, ExternKind.KSYM, t.type, weak=weak)

    if kconfig:
        kconfig.sort(key=lambda k: (-k[0], k[1]))
        offset = 0
        for align, name, var_type, size, weak in kconfig:
            offset = (offset + align - 1) // align * align
            found.specs[name] = ExternSpec(name, ExternKind.KCONFIG, var_type, offset, size,
                                           weak)
            offset += size
        value_size = (offset + 7) // 8 * 8
        if value_size > MAX_SECTION_MAP_BYTES:
            raise obj.error(f"__kconfig externs need {value_size} bytes, too many for a map "
                            f"value", section=KCONFIG_SECTION)
        found.kconfig_map = MapSpec(name=KCONFIG_SECTION, type=MapType.ARRAY, key_size=4,
                                    value_size=value_size, max_entries=1,
                                    value_type=_kconfig_datasec(btf, found.specs,
                                                                value_size),
                                    data=bytes(value_size), section=KCONFIG_SECTION,
                                    readonly=True)
    return found


def _kconfig_datasec(btf: Any, externs: dict[str, ExternSpec], value_size: int) -> Any:
    """The ``.kconfig`` DATASEC, given the layout chosen here so BTF and map agree."""
    datasec = btf.find(KCONFIG_SECTION, Datasec)
    datasec.size = value_size
    for info in datasec.vars:
        placed = externs.get(info.type.name)
        if placed is not None:
            info.offset = placed.offset
    return datasec
