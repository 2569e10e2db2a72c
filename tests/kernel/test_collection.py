"""pybpf.kernel.load / Collection: clang-built objects made live and run for real."""

from __future__ import annotations

import os
import struct

import pytest

from pybpf import load_collection_spec
from pybpf.errors import BPFError, ClosedError, InvalidInputError, VerifierError
from pybpf.kernel.collection import Collection, CollectionOptions, load
from pybpf.kernel.maps import Map
from pybpf.spec import MapSpec, MapType, ProgramType
from tests.bpfobjs import build_object
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

PACKET = bytes(range(64))  # an Ethernet frame's worth, all that socket/XDP runs need
XDP_PASS = 2


@pytest.fixture(scope="module")
def maps_object():
    return build_object("coll_maps")


def _u64(raw: bytes) -> int:
    return struct.unpack("<Q", raw)[0]


def test_every_map_kind_is_created_with_its_type(maps_object):
    spec = load_collection_spec(maps_object)
    with load(spec) as coll:
        assert set(coll.maps) == set(spec.maps)
        for name, m in coll.maps.items():
            assert m.info().type == spec.maps[name].type, name
        # BTF key/value types where the kernel takes them, none for fd/keyless maps
        assert coll.btf_fd is not None
        hash_info = coll.maps["hash"].info()
        assert hash_info.btf_id and hash_info.btf_key_type_id and hash_info.btf_value_type_id
        assert coll.maps[".bss"].info().btf_value_type_id  # the DATASEC
        assert coll.maps["jump_table"].info().btf_value_type_id == 0
        assert coll.warnings == []


def test_tail_calls_through_the_prog_array_filled_at_load(maps_object):
    with load(maps_object) as coll:
        dispatch = coll.programs["dispatch"]
        results = coll.maps["results"]
        for slot, expected in ((0, 111), (2, 222), (1, 7), (3, 7)):
            results[0] = struct.pack("<Q", slot)
            assert dispatch.test_run(PACKET).retval == expected, slot
        jump_table = coll.maps["jump_table"]
        assert 0 in jump_table and 2 in jump_table and 1 not in jump_table


def test_globals_calls_callbacks_and_maps_of_maps(maps_object):
    with load(maps_object) as coll:
        result = coll.programs["use_globals"].test_run(PACKET)
        # bpf_loop sums 0..4 = 10, scale() multiplies by rodata_factor 3, plus
        # data_counter 5; plus rodata_tag[1] ('y')
        assert coll.bss.bss_total == 35
        assert result.retval == 35 + ord("y")
        assert coll.bss.bss_hits == [0, 1, 0, 0]
        assert coll.data.data_counter == 6
        assert coll.globals[".data.custom"].custom_word == 0x1235
        assert coll.rodata.rodata_tag == b"pybpf\0\0\0"
        # the initial slots of both maps of maps point at the inner maps
        assert coll.maps["inner_b"][0] == struct.pack("<I", 0xB)
        assert coll.maps["inner_a"][0] == struct.pack("<I", 0xA)
        # .data is live through the mmap: a write changes the next run
        coll.data.data_counter = 100
        coll.programs["use_globals"].test_run(PACKET)
        assert coll.bss.bss_total == 130
        with pytest.raises(InvalidInputError, match="frozen"):
            coll.rodata.rodata_factor = 9


def test_rodata_set_before_load_changes_the_result(maps_object):
    coll = Collection.open(maps_object)
    assert coll.rodata.rodata_factor == 3
    coll.rodata.rodata_factor = 4
    coll.rodata.rodata_tag = "Az"
    with coll.load():
        assert coll.programs["use_globals"].test_run(PACKET).retval == 45 + ord("z")
        assert coll.rodata.rodata_factor == 4
    # the spec itself was not changed: a new load sees the compiled value
    with load(maps_object) as again:
        assert again.rodata.rodata_factor == 3


def test_rodata_values_are_type_checked(maps_object):
    coll = Collection.open(maps_object)
    with pytest.raises(InvalidInputError, match="rodata_factor.*does not fit"):
        coll.rodata.rodata_factor = -1
    with pytest.raises(InvalidInputError, match="needs an int"):
        coll.rodata.rodata_factor = "3"
    with pytest.raises(InvalidInputError, match="needs 8 bytes"):
        coll.rodata.rodata_tag = b"123456789"
    with pytest.raises(AttributeError, match="no variable 'target_pid'.*rodata_factor"):
        coll.rodata.target_pid = 1
    assert sorted(coll.rodata) == ["rodata_factor", "rodata_tag"]


def test_xdp_program_uses_the_other_maps(maps_object):
    with load(maps_object) as coll:
        assert coll.programs["xdp_maps"].test_run(PACKET).retval == XDP_PASS
        assert coll.maps["hash"][1] == struct.pack("<IIQ", 1, 0, 2)
        assert coll.maps["queue"].pop() == struct.pack("<I", 9)
        assert coll.maps["stack"].pop() == struct.pack("<I", 9)
        assert coll.maps["bloom"].bloom_contains(9)
        assert coll.maps["lru"][2] == struct.pack("<I", 9)
        assert sum(_u64(v) for v in coll.maps["percpu"][1]) == 1


def test_raw_tracepoint_program_uses_task_storage(maps_object):
    with load(maps_object) as coll:
        assert coll.programs["raw_stack"].type == ProgramType.RAW_TRACEPOINT
        assert coll.programs["raw_stack"].test_run(ctx=bytes(16), repeat=0,
                                                       ctx_size_out=0).retval == 1
        assert 2 in coll.maps["results"]
        pidfd = os.pidfd_open(os.getpid())
        try:
            assert coll.maps["task_store"][pidfd] == struct.pack("<Q", 77)
        finally:
            os.close(pidfd)


def test_open_then_load_accepts_paths_bytes_and_specs(maps_object):
    for source in (str(maps_object), maps_object, maps_object.read_bytes()):
        with Collection.open(source) as coll:
            assert not coll.loaded
            coll.load()
            assert coll.loaded
    with load(maps_object) as coll:
        with pytest.raises(BPFError, match="already loaded"):
            coll.load()


def test_close_tears_everything_down_and_views_fail_after(maps_object):
    coll = load(maps_object)
    data = coll.data
    assert data.data_counter == 5
    coll.close()
    coll.close()
    assert all(m.closed for m in coll.maps.values())
    assert all(p.closed for p in coll.programs.values())
    with pytest.raises(ClosedError):
        _ = data.data_counter


# -- all or nothing ---------------------------------------------------------------------------

def test_failed_load_leaves_nothing_and_names_the_source_line():
    names = {"good", "bad", "values", ".bss"}
    with no_kernel_objects_left(names.__contains__, kinds=("prog", "map"), timeout_s=5.0), \
            pytest.raises(VerifierError) as caught:
        load(build_object("coll_bad"))
    err = caught.value
    assert err.program == "bad"
    assert "program 'bad'" in str(err)
    assert err.source_line is not None and "return value[1]" in err.source_line
    assert "coll_bad.bpf.c" in err.source_line
    assert any("invalid access to map value" in line for line in err.log)


# -- pinning by name --------------------------------------------------------------------------

@pytest.fixture
def pin_dir():
    from pybpf.kernel.mounts import ensure_bpffs

    ensure_bpffs()
    path = f"/sys/fs/bpf/pybpf-coll-test-{os.getpid()}"
    os.makedirs(path, exist_ok=True)
    yield path
    for leftover in os.listdir(path):
        os.unlink(os.path.join(path, leftover))
    os.rmdir(path)


def test_pinned_by_name_map_is_reused_then_removed(pin_dir):
    obj = build_object("coll_pinned")
    options = CollectionOptions(pin_path=pin_dir)
    with load(obj, options=options) as first:
        path = os.path.join(pin_dir, "coll_shared")
        assert first.pinned == {"coll_shared": path}
        assert os.path.exists(path)
        assert first.programs["bump"].test_run(PACKET).retval == 1
        map_id = first.maps["coll_shared"].id
    with load(obj, options=options) as second:
        assert second.maps["coll_shared"].id == map_id  # the same kernel map
        assert second.programs["bump"].test_run(PACKET).retval == 2
        second.unpin_maps()
        assert not os.path.exists(path)
        assert second.pinned == {}


def test_incompatible_pinned_map_is_a_clear_error(pin_dir):
    with Map.create(MapSpec("coll_shared", MapType.HASH, 4, 4, 8)) as other:
        other.pin(os.path.join(pin_dir, "coll_shared"))
    with pytest.raises(InvalidInputError, match=r"cannot be reused: value_size 4 \(pinned\) "
                                                r"!= 8 \(object\)"):
        load(build_object("coll_pinned"), options=CollectionOptions(pin_path=pin_dir))


def test_failed_load_removes_the_pins_it_made(pin_dir, monkeypatch):
    obj = build_object("coll_pinned")

    def refuse(*args, **kwargs):
        raise InvalidInputError("refused by the test")

    from pybpf.kernel import collection as collection_module
    monkeypatch.setattr(collection_module._Loader, "_fill_slots", refuse)
    with pytest.raises(InvalidInputError, match="refused by the test"):
        load(obj, options=CollectionOptions(pin_path=pin_dir))
    monkeypatch.undo()
    # the pin is made last, so a failure in an earlier step never creates it
    assert os.listdir(pin_dir) == []
