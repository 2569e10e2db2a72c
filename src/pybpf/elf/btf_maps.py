"""BTF-defined maps: the ``.maps`` section, read through its BTF DATASEC.

libbpf's map-definition macros encode every attribute in the *type* of a struct member,
not in the section's bytes (which stay zero):

* ``__uint(name, N)`` is ``int (*name)[N]``: a pointer to an array of N elements;
* ``__type(name, T)`` is ``typeof(T) *name``: a pointer to the key/value type;
* ``__array(values, T)`` is ``typeof(T) *values[]``: a zero-length array of pointers to the
  inner map definition (map-of-maps) or to a function prototype (prog array);
* ``__ulong(name, N)`` (newer libbpf) is an enum whose single enumerator is N (64 bits).

Initial values of a map-of-maps or prog array (``.values = { [1] = &inner }``) are
R_BPF_64_ABS64 relocations inside the ``values`` array; they become ``MapSpec.contents`` as
``(index, name)`` with the name of a map or program resolved at load.
"""

from __future__ import annotations

from typing import Any

from ..btf import Array, Datasec, Enum, FuncProto, Ptr, Struct, Union, Var, sizeof, skip_qualifiers
from ..errors import BTFError, ELFError
from ..spec import MapSpec, MapType, Pinning
from ..spec.model import MapKey, MapValue
from .reader import R_BPF_64_ABS64, STT_FUNC, ObjectFile, Section

MAPS_SECTION = ".maps"
_INT_ATTRIBUTES = ("type", "max_entries", "map_flags", "numa_node", "key_size",
                   "value_size", "pinning", "map_extra")
# a prog array's or map-of-maps' value is a 4-byte fd (or id) in the kernel's interface
_FD_VALUE_SIZE = 4


def read_btf_maps(obj: ObjectFile, section: Section, btf: Any | None
                  ) -> list[tuple[int, MapSpec]]:
    """Every map defined in ``.maps``, with the byte offset of its definition.

    Raises :class:`ELFError` (naming the map) when the object has no BTF, when an attribute
    has an unexpected shape or an unknown name, when key/value sizes disagree, or when an
    initial value relocation does not point at a program or map.
    """
    if btf is None:
        raise obj.error("BTF-defined maps need the object's .BTF section (compile with -g)",
                        section=section)
    try:
        datasec = btf.find(MAPS_SECTION, Datasec)
    except KeyError:
        raise obj.error("no BTF DATASEC describes the .maps section", section=section) from None

    found: list[tuple[int, MapSpec]] = []
    try:
        for info in datasec.vars:
            var = info.type
            if not isinstance(var, Var):
                raise obj.error(f"DATASEC .maps entry is a {type(var).__name__}, not a "
                                f"variable", section=section, offset=info.offset)
            definition = skip_qualifiers(var.type)
            if not isinstance(definition, Struct):
                raise obj.error(f"map {var.name!r}: definition is not a struct",
                                section=section, offset=info.offset)
            spec, values_offset = _parse_definition(obj, section, var.name, definition,
                                                    inner=False)
            spec.contents = _initial_values(obj, section, spec.name, info.offset,
                                            info.size, values_offset)
            found.append((info.offset, spec))
    except BTFError as err:
        raise obj.error(f"BTF of a map definition is broken: {err}", section=section) from None
    return found


def _parse_definition(obj: ObjectFile, section: Section, name: str,
                      definition: Struct | Union,
                      *, inner: bool) -> tuple[MapSpec, int | None]:
    """One map struct; returns the spec and the byte offset of its ``values`` member."""

    def fail(problem: str) -> ELFError:
        return obj.error(f"map {name!r}: {problem}", section=section)

    attrs: dict[str, int] = {}
    key_type = value_type = None
    inner_map: MapSpec | None = None
    values_offset: int | None = None
    for member in definition.members:
        mtype = skip_qualifiers(member.type)
        if member.name in _INT_ATTRIBUTES:
            attrs[member.name] = _int_attribute(mtype, fail, member.name)
        elif member.name in ("key", "value"):
            if not isinstance(mtype, Ptr):
                raise fail(f"'{member.name}' must be declared with __type(), a pointer")
            target = mtype.target
            if member.name == "key":
                key_type = target
            else:
                value_type = target
        elif member.name == "values":
            values_offset = member.bit_offset // 8
            inner_map = _values_member(obj, section, name, mtype, fail, inner)
        else:
            raise fail(f"unknown attribute {member.name!r}")

    map_type_number = attrs.get("type", 0)
    try:
        map_type = MapType(map_type_number)
    except ValueError:
        raise fail(f"unknown map type {map_type_number}") from None
    key_size = _size_of(key_type, attrs.get("key_size"), "key", fail)
    value_size = _size_of(value_type, attrs.get("value_size"), "value", fail)
    if values_offset is not None and not value_size:
        value_size = _FD_VALUE_SIZE
    if values_offset is not None and map_type not in (MapType.PROG_ARRAY,
                                                      MapType.ARRAY_OF_MAPS,
                                                      MapType.HASH_OF_MAPS):
        raise fail(f"'values' is only for prog arrays and maps of maps, not {map_type.name}")
    pinning_number = attrs.get("pinning", 0)
    try:
        pinning = Pinning(pinning_number)
    except ValueError:
        raise fail(f"unknown pinning {pinning_number}") from None
    spec = MapSpec(
        name=name, type=map_type, key_size=key_size, value_size=value_size,
        max_entries=attrs.get("max_entries", 0), flags=attrs.get("map_flags", 0),
        pinning=pinning, numa_node=attrs.get("numa_node", 0),
        map_extra=attrs.get("map_extra", 0), key_type=key_type, value_type=value_type,
        inner_map=inner_map,
    )
    return spec, values_offset


def _int_attribute(mtype: Any, fail: Any, attr: str) -> int:
    # __uint(attr, N): pointer to an array of N elements
    if isinstance(mtype, Ptr):
        target = skip_qualifiers(mtype.target)
        if isinstance(target, Array):
            return int(target.nelems)
    # __ulong(attr, N): an enum with one enumerator whose value is N
    if isinstance(mtype, Enum) and len(mtype.values) == 1:
        return int(mtype.values[0].value)
    raise fail(f"'{attr}' must be declared with __uint() or __ulong()")


def _size_of(t: Any, declared: int | None, what: str, fail: Any) -> int:
    if t is None:
        return declared or 0
    size = sizeof(t)
    if declared is not None and declared != size:
        raise fail(f"{what}_size {declared} disagrees with the size of its __type ({size})")
    return size


def _values_member(obj: ObjectFile, section: Section, name: str, mtype: Any, fail: Any,
                   inner: bool) -> MapSpec | None:
    """The inner map of ``__array(values, ...)``, or None for a prog array."""
    if inner:
        raise fail("an inner map cannot itself declare 'values'")
    if not isinstance(mtype, Array):
        raise fail("'values' must be declared with __array()")
    element = skip_qualifiers(mtype.type)
    if not isinstance(element, Ptr):
        raise fail("'values' must be an array of pointers")
    target = skip_qualifiers(element.target)
    if isinstance(target, FuncProto):
        return None  # prog array: the values are programs
    if isinstance(target, (Struct, Union)):
        inner_spec, _ = _parse_definition(obj, section, f"{name}.inner", target, inner=True)
        return inner_spec
    raise fail("'values' must point at a map definition or a function prototype")


def _initial_values(obj: ObjectFile, section: Section, map_name: str, map_offset: int,
                    map_size: int, values_offset: int | None) -> list[tuple[Any, Any]]:
    """(index, program or map name) for each relocation in this map's ``values`` slots."""
    contents: list[tuple[MapKey, MapValue]] = []
    end = map_offset + map_size
    for rel in obj.relocations.get(section.index, ()):
        if not map_offset <= rel.offset < end:
            continue
        where = f"map {map_name!r}: initial value relocation against {rel.symbol.name!r}"
        if values_offset is None or rel.offset < map_offset + values_offset:
            raise obj.error(f"{where} is outside its 'values' array", section=section,
                            offset=rel.offset)
        if rel.type != R_BPF_64_ABS64:
            raise obj.error(f"{where}: relocation type {rel.type} is not R_BPF_64_ABS64",
                            section=section, offset=rel.offset)
        slot = rel.offset - map_offset - values_offset
        if slot % 8:
            raise obj.error(f"{where} is not at a pointer slot", section=section,
                            offset=rel.offset)
        sym = rel.symbol
        if sym.is_undefined or not (sym.type == STT_FUNC or sym.section == section.index):
            raise obj.error(f"{where}: the symbol is neither a program nor a map",
                            section=section, offset=rel.offset)
        contents.append((slot // 8, sym.name))
    return contents
