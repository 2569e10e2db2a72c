"""Maps of tests/bpf/elf_maps.bpf.c (BTF-defined) and elf_legacy.bpf.c (struct bpf_map_def)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.asm.opcodes import PseudoSrc
from pybpf.btf import Int, Struct, skip_qualifiers
from pybpf.elf import load_collection_spec
from pybpf.spec import CollectionSpec, MapType, Pinning
from tests.bpfobjs import build_object

from . import llvm_tools


@pytest.mark.parametrize("name, map_type, key_size, value_size, max_entries, flags", [
    ("typed_hash", MapType.HASH, 4, 16, 128, 0),
    ("sized_array", MapType.ARRAY, 4, 24, 16, 0),
    ("pinned_lru", MapType.LRU_HASH, 8, 4, 64, 2),  # BPF_F_NO_COMMON_LRU
    ("bloom", MapType.BLOOM_FILTER, 0, 4, 100, 0),
    ("ring", MapType.RINGBUF, 0, 0, 4096, 0),
    ("perf", MapType.PERF_EVENT_ARRAY, 4, 4, 0, 0),
    ("inner_a", MapType.ARRAY, 4, 4, 1, 0),
    ("outer_array", MapType.ARRAY_OF_MAPS, 4, 4, 4, 0),
    ("outer_hash", MapType.HASH_OF_MAPS, 4, 4, 8, 0),
    ("jump_table", MapType.PROG_ARRAY, 4, 4, 3, 0),
])
def test_btf_map_attributes(maps_spec: CollectionSpec, name, map_type, key_size, value_size,
                            max_entries, flags):
    m = maps_spec.maps[name]
    assert (m.type, m.key_size, m.value_size, m.max_entries, m.flags) == (
        map_type, key_size, value_size, max_entries, flags)


def test_all_maps_of_the_object_and_only_those(maps_spec: CollectionSpec, maps_path: Path):
    defined = {s.name for s in llvm_tools.symbols(maps_path) if s.section == ".maps"}
    assert set(maps_spec.maps) == defined


def test_key_and_value_types_come_from_btf(maps_spec: CollectionSpec):
    m = maps_spec.maps["typed_hash"]
    value = skip_qualifiers(m.value_type)
    assert isinstance(value, Struct) and value.name == "pair"
    assert isinstance(skip_qualifiers(m.key_type), Int)
    # sizes given with __uint(key_size/value_size) leave the types unknown
    assert maps_spec.maps["sized_array"].value_type is None


def test_pinning_numa_and_map_extra(maps_spec: CollectionSpec):
    assert maps_spec.maps["pinned_lru"].pinning == Pinning.BY_NAME
    assert maps_spec.maps["pinned_lru"].numa_node == 0
    assert maps_spec.maps["typed_hash"].pinning == Pinning.NONE
    assert maps_spec.maps["bloom"].map_extra == 3  # declared with __ulong (an enum)


def test_map_of_maps_inner_definitions_and_initial_values(maps_spec: CollectionSpec):
    outer = maps_spec.maps["outer_array"]
    assert outer.inner_map is not None
    assert (outer.inner_map.type, outer.inner_map.key_size, outer.inner_map.value_size,
            outer.inner_map.max_entries) == (MapType.ARRAY, 4, 4, 1)
    assert outer.contents == [(0, "inner_a"), (2, "inner_b")]
    hashed = maps_spec.maps["outer_hash"]
    assert (hashed.inner_map.type, hashed.inner_map.key_size, hashed.inner_map.value_size,
            hashed.inner_map.max_entries) == (MapType.HASH, 2, 8, 2)
    assert hashed.contents == []


def test_prog_array_initial_values_name_programs(maps_spec: CollectionSpec):
    table = maps_spec.maps["jump_table"]
    assert table.inner_map is None
    assert table.contents == [(1, "tail_a"), (2, "tail_b")]
    assert all(name in maps_spec.programs for _, name in table.contents)


def test_map_loads_refer_to_maps_by_name(maps_spec: CollectionSpec, maps_path: Path):
    program = maps_spec.programs["use_maps"]
    refs = [(i.reference, i.src, i.imm) for i in program.instructions if i.reference]
    expected = [r.symbol for r in llvm_tools.relocations(maps_path) if r.section == "socket"]
    assert [r for r, _, _ in refs] == expected
    assert all(src == PseudoSrc.MAP_FD and imm == 0 for _, src, imm in refs)


def test_legacy_maps_section():
    spec = load_collection_spec(build_object("elf_legacy"))
    hashed, array = spec.maps["legacy_hash"], spec.maps["legacy_array"]
    assert (hashed.type, hashed.key_size, hashed.value_size, hashed.max_entries,
            hashed.flags) == (MapType.HASH, 4, 8, 32, 1)
    assert (array.type, array.value_size, array.max_entries) == (MapType.ARRAY, 16, 4)
    refs = [i.reference for i in spec.programs["use_legacy"].instructions if i.reference]
    assert refs == ["legacy_hash", "legacy_array"]
