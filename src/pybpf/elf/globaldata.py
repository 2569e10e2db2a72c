"""Global-data sections (.data, .rodata, .bss and their .name variants) as ARRAY maps.

Each section becomes an ARRAY map of one entry whose value is the whole section: the
section's name is the map's name (shortening it to the kernel's 15 characters, as libbpf's
``<obj>.rodata`` does, is the loader's business). ``.rodata*`` maps are read-only (frozen
after load). ``.bss`` has no bytes in the file: its initial image is zeros.
"""

from __future__ import annotations

from ..btf import Datasec
from ..btf import Spec as BTFSpec
from ..spec import MapSpec, MapType
from .reader import SHT_NOBITS, SHT_PROGBITS, ObjectFile, Section

DATA_SECTION_PREFIXES = (".data", ".rodata", ".bss")
READONLY_PREFIX = ".rodata"
# far above any kernel's limit on a map value (KMALLOC_MAX_SIZE), far below what would
# exhaust memory when a corrupt .bss claims gigabytes
MAX_SECTION_MAP_BYTES = 1 << 28


def is_data_section(section: Section) -> bool:
    """True for .data/.rodata/.bss and ``.data.<anything>`` etc. holding data."""
    if section.type not in (SHT_PROGBITS, SHT_NOBITS) or section.is_code:
        return False
    return any(section.name == p or section.name.startswith(p + ".")
               for p in DATA_SECTION_PREFIXES)


def data_section_map(obj: ObjectFile, section: Section, btf: BTFSpec | None) -> MapSpec:
    """The MapSpec of one global-data section (``value_type`` its BTF DATASEC if any).

    Raises :class:`ELFError` for a section too large to be a map value.
    """
    if section.size > MAX_SECTION_MAP_BYTES:
        raise obj.error(f"global data section of {section.size} bytes is too large for a "
                        f"map value", section=section)
    readonly = section.name == READONLY_PREFIX or section.name.startswith(READONLY_PREFIX + ".")
    data = bytes(section.size) if section.type == SHT_NOBITS else section.data
    return MapSpec(
        name=section.name,
        type=MapType.ARRAY,
        key_size=4,
        value_size=section.size,
        max_entries=1,
        value_type=_datasec(btf, section.name),
        data=data,
        section=section.name,
        readonly=readonly,
    )


def _datasec(btf: BTFSpec | None, name: str) -> Datasec | None:
    if btf is None:
        return None
    try:
        return btf.find(name, Datasec)
    except KeyError:
        return None
