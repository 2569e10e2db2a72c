"""CollectionSpec.variables: global variables found from BTF DATASECs, set on a copy."""

from __future__ import annotations

import sys

import pytest

from pybpf import load_collection_spec
from pybpf.errors import InvalidInputError
from tests.bpfobjs import build_object

PACKET = bytes(range(64))


@pytest.fixture(scope="module")
def maps_object():
    return build_object("coll_maps")


def test_elf_spec_lists_its_variables_by_section(maps_object):
    spec = load_collection_spec(str(maps_object))
    found = {name: (v.map, v.size, v.constant) for name, v in spec.variables.items()}
    assert found["rodata_factor"] == (".rodata", 4, True)
    assert found["rodata_tag"] == (".rodata", 8, True)
    assert found["data_counter"] == (".data", 8, False)
    assert found["bss_total"] == (".bss", 8, False)
    assert found["custom_word"] == (".data.custom", 4, False)
    factor = spec.variables["rodata_factor"]
    assert int.from_bytes(factor.get(), sys.byteorder) == 3
    assert spec.variables["rodata_tag"].get() == b"pybpf\0\0\0"


def test_set_edits_the_copy_and_leaves_the_original(maps_object):
    spec = load_collection_spec(str(maps_object))
    copy = spec.copy()
    copy.variables["rodata_factor"].set(7)
    copy.variables["rodata_tag"].set(b"Az")
    assert int.from_bytes(copy.variables["rodata_factor"].get(), sys.byteorder) == 7
    assert copy.variables["rodata_tag"].get() == b"Az" + bytes(6)
    assert int.from_bytes(spec.variables["rodata_factor"].get(), sys.byteorder) == 3
    assert spec.variables["rodata_tag"].get() == b"pybpf\0\0\0"


@pytest.mark.parametrize("value", [1 << 32, b"123456789", "text"])
def test_a_value_that_does_not_fit_is_refused(maps_object, value):
    spec = load_collection_spec(str(maps_object))
    name = "rodata_tag" if isinstance(value, bytes) else "rodata_factor"
    with pytest.raises(InvalidInputError, match=name):
        spec.variables[name].set(value)


@pytest.mark.kernel
def test_two_copies_load_side_by_side_with_their_own_constant(maps_object):
    from pybpf.kernel import load

    spec = load_collection_spec(str(maps_object))
    results = []
    colls = []
    try:
        for factor in (4, 6):
            copy = spec.copy()
            copy.variables["rodata_factor"].set(factor)
            colls.append(load(copy))
        for coll in colls:
            results.append(coll.programs["use_globals"].test_run(PACKET).retval)
    finally:
        for coll in colls:
            coll.close()
    # bss_total = 10 * factor + data_counter (5); plus rodata_tag[1] ('y')
    assert results == [45 + ord("y"), 65 + ord("y")]
