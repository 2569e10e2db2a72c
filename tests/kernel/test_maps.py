"""Every map type this kernel offers, created from a MapSpec and exercised through Map."""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
import uuid

import pytest

from pybpf.errors import (
    ClosedError,
    InvalidInputError,
    KernelError,
    MapArgumentError,
    MapError,
    MapFullError,
    MapKeyExistsError,
    MapKeyNotFoundError,
    NotSupportedError,
)
from pybpf.kernel import features
from pybpf.kernel.maps import LOCAL_STORAGE_TYPES, Map, TypedMap, minimal_spec, possible_cpus
from pybpf.kernel.mounts import ensure_bpffs
from pybpf.spec import MapFlags, MapSpec, MapType, UpdateFlags

pytestmark = pytest.mark.kernel

NCPUS = possible_cpus()


def u32(n: int) -> bytes:
    return struct.pack("=I", n)


def u64(n: int) -> bytes:
    return struct.pack("=Q", n)


CREATABLE = [t for t in MapType if t not in (MapType.UNSPEC, MapType.STRUCT_OPS)]


@pytest.mark.parametrize("map_type", CREATABLE, ids=lambda t: t.name)
def test_every_map_type_creates_and_reports_info(map_type):
    spec = minimal_spec(map_type)
    if not features.default.supports_map_type(map_type):
        # the kernel may lack or withhold a type (ARENA needs more than CAP_BPF on some
        # machines): creating it must then fail exactly as the probe did
        with pytest.raises(NotSupportedError) as probed:
            features.default.have_map_type(map_type)
        with pytest.raises(KernelError) as created:
            Map.create(spec)
        assert created.value.errno == probed.value.errno
        return
    with Map.create(spec) as m:
        info = m.info()
        assert info.type == map_type
        assert info.id == m.id > 0
        assert info.name == spec.name[:15]
        assert (info.key_size, info.value_size) == (spec.key_size, spec.value_size)
        assert info.max_entries == spec.max_entries
    assert m.closed
    with pytest.raises(ClosedError):
        m.lookup(0)


def test_struct_ops_map_is_refused_with_a_sentence():
    with pytest.raises(InvalidInputError, match="kernel struct type"):
        Map.create(MapSpec("ops", MapType.STRUCT_OPS, 4, 8, 1))


@pytest.mark.parametrize("map_type", [MapType.HASH, MapType.LRU_HASH])
def test_hash_like_maps_behave_like_dicts(map_type):
    with Map.create(MapSpec("h", map_type, 4, 8, 16)) as m:
        assert 1 not in m
        m[1] = u64(10)
        m[u32(2)] = 20
        assert m[1] == u64(10) and m[2] == u64(20)
        assert 1 in m and m.get(3) is None and m.get(3, b"d") == b"d"
        assert sorted(m.keys()) == sorted([u32(1), u32(2)])
        assert dict(m.items()) == {u32(1): u64(10), u32(2): u64(20)}
        del m[1]
        with pytest.raises(KeyError):
            del m[1]
        with pytest.raises(KeyError):
            m[1]
        with pytest.raises(MapKeyExistsError) as info:
            m.update(2, 5, flags=UpdateFlags.NOEXIST)
        assert info.value.errno == errno.EEXIST
        with pytest.raises(MapKeyNotFoundError) as info:
            m.update(9, 5, flags=UpdateFlags.EXIST)
        assert info.value.errno == errno.ENOENT
        assert m.lookup_and_delete(2) == u64(20)
        assert list(m) == []


def test_hash_map_full_is_a_map_full_error_with_hint():
    with Map.create(MapSpec("small", MapType.HASH, 4, 4, 2)) as m:
        m[1], m[2] = 1, 2
        with pytest.raises(MapFullError) as info:
            m[3] = 3
        assert info.value.errno == errno.E2BIG
        assert "max_entries" in str(info.value) and "map 'small'" in str(info.value)


def test_array_map_has_every_index_and_no_delete():
    with Map.create(MapSpec("a", MapType.ARRAY, 4, 4, 3)) as m:
        assert [m[i] for i in range(3)] == [u32(0)] * 3
        m[2] = 7
        assert m[2] == u32(7)
        assert list(m.keys()) == [u32(0), u32(1), u32(2)]
        with pytest.raises(MapArgumentError) as info:
            del m[0]
        assert info.value.errno == errno.EINVAL
        with pytest.raises(KeyError):
            m[3]


@pytest.mark.parametrize("map_type", [MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
                                      MapType.LRU_PERCPU_HASH])
def test_percpu_values_are_lists_one_per_possible_cpu(map_type):
    with Map.create(MapSpec("pc", map_type, 4, 4, 4)) as m:  # 4 bytes: padded to 8 per CPU
        values = [u32(100 + cpu) for cpu in range(NCPUS)]
        m[1] = values
        assert m[1] == values
        m[2] = u32(5)  # one value: the same on every CPU
        assert m[2] == [u32(5)] * NCPUS
        with pytest.raises(InvalidInputError, match="possible CPUs"):
            m[1] = values + [u32(0)]
        got = dict(m.lookup_batch())
        assert got[u32(1)] == values


def test_lpm_trie_longest_prefix_match():
    # key: u32 prefix length then the address bytes
    def key(prefixlen: int, addr: str) -> bytes:
        return u32(prefixlen) + socket.inet_aton(addr)

    with Map.create(MapSpec("lpm", MapType.LPM_TRIE, 8, 4, 8)) as m:
        assert m.flags & MapFlags.NO_PREALLOC  # added: the kernel requires it
        m[key(8, "10.0.0.0")] = 8
        m[key(24, "10.1.2.0")] = 24
        assert m[key(32, "10.1.2.3")] == u32(24)
        assert m[key(32, "10.9.9.9")] == u32(8)
        with pytest.raises(KeyError):
            m[key(32, "11.0.0.1")]


@pytest.mark.parametrize("map_type,order", [(MapType.QUEUE, [1, 2, 3]),
                                            (MapType.STACK, [3, 2, 1])])
def test_queue_and_stack_push_pop_peek(map_type, order):
    with Map.create(MapSpec("q", map_type, 0, 4, 3)) as m:
        for n in (1, 2, 3):
            m.push(n)
        with pytest.raises(MapFullError) as info:
            m.push(4)
        assert info.value.errno == errno.E2BIG
        assert m.peek() == u32(order[0])
        assert [m.pop() for _ in range(3)] == [u32(n) for n in order]
        with pytest.raises(KeyError, match="empty"):
            m.pop()
        with pytest.raises(InvalidInputError, match="no keys"):
            m[0]


def test_bloom_filter_membership():
    with Map.create(MapSpec("bloom", MapType.BLOOM_FILTER, 0, 8, 64, map_extra=3)) as m:
        m.push(u64(42))
        assert u64(42) in m
        false_positives = sum(u64(n) in m for n in range(1000, 1100))
        assert false_positives <= 5  # one element in a 64-entry filter: almost none


def test_ringbuf_size_is_checked_and_elements_refused():
    with pytest.raises(InvalidInputError, match="power of two"):
        Map.create(MapSpec("rb", MapType.RINGBUF, 0, 0, 5000))
    with Map.create(MapSpec("rb", MapType.RINGBUF, 0, 0, 4096 * 4)) as m:
        with pytest.raises(InvalidInputError, match="no elements"):
            m[0]


def test_perf_event_array_defaults_to_one_slot_per_cpu():
    with Map.create(MapSpec("events", MapType.PERF_EVENT_ARRAY)) as m:
        assert (m.key_size, m.value_size, m.max_entries) == (4, 4, NCPUS)


def test_map_of_maps_holds_inner_maps_by_fd_and_returns_ids():
    inner_spec = MapSpec("inner", MapType.ARRAY, 4, 4, 1)
    for outer_type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        spec = MapSpec("outer", outer_type, 4, 4, 2, inner_map=inner_spec)
        with Map.create(spec) as outer, Map.create(inner_spec) as inner:
            outer[0] = inner  # a Map value is stored by its fd
            assert outer[0] == u32(inner.id)
        with pytest.raises(InvalidInputError, match="inner map"):
            Map.create(MapSpec("outer", outer_type, 4, 4, 2))


def test_stack_trace_map_starts_empty():
    with Map.create(minimal_spec(MapType.STACK_TRACE)) as m:
        assert list(m.keys()) == []


@pytest.mark.parametrize("map_type", sorted(LOCAL_STORAGE_TYPES), ids=lambda t: t.name)
def test_local_storage_maps_carry_minimal_btf(map_type):
    with Map.create(minimal_spec(map_type)) as m:
        info = m.info()
        assert info.btf_id > 0 and info.btf_value_type_id == 3


def test_task_storage_readable_by_pidfd():
    with Map.create(minimal_spec(MapType.TASK_STORAGE)) as m:
        pidfd = os.pidfd_open(os.getpid())
        try:
            m[pidfd] = 7
            assert m[pidfd] == u64(7)
            del m[pidfd]
            assert pidfd not in m
        finally:
            os.close(pidfd)


def test_batch_update_lookup_delete():
    with Map.create(MapSpec("b", MapType.HASH, 4, 8, 1000)) as m:
        keys = list(range(600))
        assert m.update_batch(keys, [k * 3 for k in keys]) == 600
        got = dict(m.lookup_batch(chunk=64))
        assert got == {u32(k): u64(k * 3) for k in keys}
        assert m.delete_batch(keys[:100]) == 100
        assert len(m.lookup_batch()) == 500
        drained = m.lookup_and_delete_batch()
        assert len(drained) == 500 and list(m.keys()) == []
        with pytest.raises(InvalidInputError, match="2 keys but 1 values"):
            m.update_batch([1, 2], [1])


def test_batch_lookup_on_array():
    with Map.create(MapSpec("ab", MapType.ARRAY, 4, 4, 10)) as m:
        m.update_batch(list(range(10)), list(range(10, 20)))
        assert m.lookup_batch(chunk=3) == [(u32(i), u32(i + 10)) for i in range(10)]


def test_wrong_sizes_are_caught_before_the_syscall():
    with Map.create(MapSpec("sz", MapType.HASH, 4, 8, 4)) as m:
        with pytest.raises(InvalidInputError, match="key is 3 bytes.*key size is 4") as info:
            m[b"abc"] = u64(1)
        assert "map 'sz'" in str(info.value)
        with pytest.raises(InvalidInputError, match="value is 4 bytes"):
            m[1] = b"abcd"
        with pytest.raises(InvalidInputError, match="does not fit"):
            m[1 << 40] = 1
        with pytest.raises(InvalidInputError, match="bytes or int"):
            m[1.5] = 1


def test_pin_open_and_unpin(tmp_path):
    ensure_bpffs()
    path = f"/sys/fs/bpf/pybpf-test-{uuid.uuid4().hex[:8]}"
    with Map.create(MapSpec("pinned", MapType.HASH, 4, 4, 4)) as m:
        m.pin(path)
        try:
            assert os.path.exists(path)
            m[1] = 11
            with Map.from_pin(path) as again:
                assert again.id == m.id and again.name == "pinned"
                assert again[1] == u32(11)
        finally:
            m.unpin()
        assert not os.path.exists(path)
    with pytest.raises(KernelError) as info:
        Map.from_pin(path)
    assert info.value.errno == errno.ENOENT


def test_pin_outside_bpffs_says_so(tmp_path):
    with Map.create(MapSpec("p", MapType.ARRAY, 4, 4, 1)) as m:
        with pytest.raises(KernelError, match="bpffs"):
            m.pin(tmp_path / "x")


def test_from_id_opens_the_same_map():
    with Map.create(MapSpec("byid", MapType.ARRAY, 4, 4, 1)) as m, Map.from_id(m.id) as same:
        m[0] = 5
        assert same[0] == u32(5)


def test_freeze_then_write_is_a_clear_error():
    with Map.create(MapSpec("frozen", MapType.ARRAY, 4, 4, 2)) as m:
        m[0] = 1
        m.freeze()
        assert m.frozen and m[0] == u32(1)
        with pytest.raises(MapError) as info:
            m[0] = 2
        assert info.value.errno == errno.EPERM
        assert "frozen" in str(info.value) and "map 'frozen'" in str(info.value)


def test_readonly_spec_is_populated_then_frozen():
    spec = MapSpec(".rodata", MapType.ARRAY, 4, 8, 1, data=b"constant", readonly=True)
    with Map.create(spec) as m:
        assert m[0] == b"constant" and m.frozen
        with pytest.raises(MapError):
            m[0] = b"changed!"


def test_mmapable_array_shares_memory_with_the_map():
    spec = MapSpec(".data", MapType.ARRAY, 4, 16, 1, flags=MapFlags.MMAPABLE)
    with Map.create(spec) as m:
        with m.mmap() as mem:
            mem[0:4] = b"\x01\x02\x03\x04"
            assert m[0][:4] == b"\x01\x02\x03\x04"
            m[0] = b"z" * 16
            assert mem[0:16] == b"z" * 16
        m.freeze()
        with m.mmap() as mem:
            with pytest.raises(TypeError):
                mem[0:1] = b"x"  # mapped read-only once frozen
    with Map.create(MapSpec("plain", MapType.ARRAY, 4, 4, 1)) as m:
        with pytest.raises(InvalidInputError, match="MMAPABLE"):
            m.mmap()


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_uint32), ("y", ctypes.c_int32)]


def test_typed_view_with_ctypes():
    with Map.create(MapSpec("typed", MapType.HASH, 4, 8, 4)) as raw:
        m = raw.typed(key=ctypes.c_uint32, value=Point)
        assert isinstance(m, TypedMap)
        m[7] = Point(1, -2)
        p = m[7]
        assert (p.x, p.y) == (1, -2)
        assert 7 in m and list(m.keys()) == [7]
        assert [(k, v.y) for k, v in m.items()] == [(7, -2)]
        del m[7]
        with pytest.raises(KeyError) as info:
            m[7]
        assert info.value.args == (7,)
        with pytest.raises(InvalidInputError, match="value type is 4 bytes"):
            raw.typed(key=ctypes.c_uint32, value=ctypes.c_uint32)


def test_typed_percpu_values():
    with Map.create(MapSpec("tpc", MapType.PERCPU_ARRAY, 4, 8, 1)) as raw:
        m = raw.typed(key=ctypes.c_uint32, value=ctypes.c_uint64)
        m[0] = list(range(NCPUS))
        assert m[0] == list(range(NCPUS))


def test_unknown_map_type_is_not_supported(monkeypatch):
    from pybpf.errors import NotSupportedError
    from pybpf.kernel import sys as bpfsys

    real = bpfsys._bpf

    def no_queues(cmd, attr, *, obj=None):
        if cmd == bpfsys.Cmd.MAP_CREATE and attr.map_type == MapType.QUEUE:
            raise KernelError("bpf(MAP_CREATE)", errno.EINVAL)
        return real(cmd, attr, obj=obj)

    monkeypatch.setattr(bpfsys, "_bpf", no_queues)
    with pytest.raises(NotSupportedError, match="lacks map type QUEUE"):
        Map.create(MapSpec("q", MapType.QUEUE, 0, 4, 9))
