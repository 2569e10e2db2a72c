"""Map operations as Python spells them: del m[k], k in m, m.get(k, default),
m.setdefault(k, v), tuple keys and values; and the Python side's tuples, per-CPU sums and
batch reads. Each program runs in the VM and in the kernel (BPF_PROG_TEST_RUN)."""

from __future__ import annotations

import pytest

from pybpf.lang import (
    ArrayOfMaps,
    Hash,
    PerCPUArray,
    PerCPUHash,
    bpf,
    bytes16,
    comm,
    pid,
    u32,
    u64,
)
from tests.lang.backends import BACKENDS, load, run

counts = Hash((u32, bytes16), u64, max_entries=64)
seen = Hash(u32, u64, max_entries=64)
pairs = Hash(u32, (u32, u64), max_entries=64)


@bpf.xdp
def map_ops(ctx):
    k: u32 = 7
    seen[k] = 1
    seen[8] = 2
    del seen[8]
    r = 0
    if k in seen:
        r += 1
    if 8 not in seen:
        r += 10
    if 9 in seen:
        r += 1000
    d = k + 100
    r += seen.get(9, d)            # missing: the default, a variable (107)
    r += seen.setdefault(11, 40)   # inserted: 40
    r += seen.setdefault(11, 50)   # present: still 40
    return r


@bpf.xdp
def tuple_keys(ctx):
    k: u32 = 7
    counts[pid(), comm()] += 3
    counts[1, b"abc"] = 5
    counts[1, b"abc"] += 1
    pairs[3] = (k, 123456789012)
    return 1 if (1, b"abc") in counts else 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_delete_membership_get_and_setdefault(backend: str) -> None:
    with load(bpf.compile(map_ops), backend) as coll:
        assert run(coll, "map_ops") == 1 + 10 + 107 + 40 + 40
        assert dict(coll.maps[seen].items()) == {7: 1, 11: 40}


@pytest.mark.parametrize("backend", BACKENDS)
def test_tuple_keys_and_values_read_back_as_tuples(backend: str) -> None:
    import os
    with load(bpf.compile(tuple_keys), backend) as coll:
        assert run(coll, "tuple_keys") == 1
        got = dict(coll.maps[counts].items())
        assert got[1, b"abc"] == 6
        (mine,) = [k for k in got if k[0] != 1]
        if backend == "kernel":
            assert mine[0] == os.getpid()
        assert got[mine] == 3
        assert coll.maps[pairs][3] == (7, 123456789012)
        coll.maps[counts][2, b"xyz"] = 9            # the Python side packs tuples too
        assert (2, b"xyz") in coll.maps[counts]
        assert sorted(k for k, _ in coll.maps[counts].read_all()) == sorted(
            [(1, b"abc"), (2, b"xyz"), mine])
        assert coll.maps[counts].delete_all([(2, b"xyz")]) == 1
        assert (2, b"xyz") not in coll.maps[counts]


per_cpu = PerCPUHash(u32, u64, max_entries=8)
per_cpu_total = PerCPUArray(u64, max_entries=1)


@bpf.xdp
def per_cpu_counts(ctx):
    per_cpu[5] += 2
    per_cpu_total[0] += 1
    return 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_cpu_values_are_summed_on_the_python_side(backend: str) -> None:
    with load(bpf.compile(per_cpu_counts), backend) as coll:
        for _ in range(3):
            run(coll, "per_cpu_counts")
        assert coll.maps[per_cpu].sum(5) == 6
        assert coll.maps[per_cpu].sum(4) == 0
        assert coll.maps[per_cpu].sums() == {5: 6}
        assert coll.maps[per_cpu_total].sum(0) == 3
        assert isinstance(coll.maps[per_cpu][5], list)   # one value per CPU


per_user = Hash(u32, u64, max_entries=16)   # the shape of the inner maps, and one of them
other_user = Hash(u32, u64, max_entries=16)
tables = ArrayOfMaps(per_user, max_entries=4)


@bpf.xdp
def map_of_maps(ctx):
    per_user[0] = 0                         # used here, so both maps are created
    other_user[0] = 0
    r = 0
    for slot in range(2):
        t = tables.lookup(slot)             # a map, or 0 for an empty slot
        if t:
            t[7] += slot + 1
            if 7 in t:
                r += t[7] * 10
            t[8] = 5
            del t[8]
    inner = tables[1]
    if inner:
        r += inner.get(7, 0) * 1000
    return r


@pytest.mark.parametrize("backend", BACKENDS)
def test_maps_of_maps_hold_maps_used_as_any_map(backend: str) -> None:
    compiled = bpf.compile(map_of_maps)
    assert compiled.spec.maps["tables"].inner_map.key_size == 4
    with load(compiled, backend) as coll:
        coll.maps[tables][0] = coll.maps[per_user]
        coll.maps[tables][1] = coll.maps[other_user]
        assert run(coll, "map_of_maps") == 10 + 20 + 2000
        assert dict(coll.maps[per_user].items()) == {0: 0, 7: 1}
        assert dict(coll.maps[other_user].items()) == {0: 0, 7: 2}
