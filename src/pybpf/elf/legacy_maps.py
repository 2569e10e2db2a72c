"""Legacy map definitions: ``struct bpf_map_def`` variables in the ``maps`` section.

Before BTF-defined maps, a map was a variable of this layout (five u32, older loaders
appended more fields that we ignore)::

    struct bpf_map_def { type, key_size, value_size, max_entries, map_flags; };

libbpf 1.0 dropped them; reading them is cheap and old objects still carry them.
"""

from __future__ import annotations

import struct

from ..spec import MapSpec, MapType
from .reader import STT_SECTION, ObjectFile, Section

LEGACY_MAPS_SECTION = "maps"
_MAP_DEF = struct.Struct("<IIIII")


def read_legacy_maps(obj: ObjectFile, section: Section) -> list[tuple[int, MapSpec]]:
    """Every map of the ``maps`` section with its byte offset.

    Raises :class:`ELFError` for a definition running past the section, or an unknown type.
    """
    symbols = sorted((s for s in obj.symbols
                      if s.section == section.index and s.type != STT_SECTION and s.name),
                     key=lambda s: s.value)
    found = []
    for sym in symbols:
        if sym.value + _MAP_DEF.size > len(section.data):
            raise obj.error(f"legacy map {sym.name!r} runs past the end of the section",
                            section=section, offset=sym.value)
        map_type, key_size, value_size, max_entries, flags = _MAP_DEF.unpack_from(
            section.data, sym.value)
        try:
            kind = MapType(map_type)
        except ValueError:
            raise obj.error(f"legacy map {sym.name!r}: unknown map type {map_type}",
                            section=section, offset=sym.value) from None
        found.append((sym.value, MapSpec(sym.name, kind, key_size, value_size, max_entries,
                                          flags)))
    return found
