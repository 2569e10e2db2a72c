"""VM maps: the Pythonic interface, the kernel's flag and errno rules, and programs using
them through the helpers."""

from __future__ import annotations

import errno
import random

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R5, R10
from pybpf.spec import MapSpec, MapType
from pybpf.vm import (
    BPF_EXIST,
    BPF_NOEXIST,
    ArrayMap,
    Environment,
    HashMap,
    MapError,
    PerfEventArrayMap,
    ProgramLoadError,
    UnverifiedWarning,
    VMError,
    create_map,
    load,
)
from pybpf.vm.helpers import HelperID

from .conftest import U64, run_items


def test_hash_map_python_interface() -> None:
    m = HashMap("h", key_size=4, value_size=2, max_entries=2)
    m[1] = b"\x01\x00"
    m[b"\x02\0\0\0"] = 7
    assert 1 in m and b"\x02\0\0\0" in m and 3 not in m and "x" not in m
    assert m[2] == b"\x07\0" and len(m) == 2
    assert dict(m.items()) == {b"\1\0\0\0": b"\1\0", b"\2\0\0\0": b"\7\0"}
    del m[1]
    assert m.get(1) is None and list(m) == [b"\2\0\0\0"]
    with pytest.raises(KeyError):
        m.lookup(1)
    with pytest.raises(KeyError):
        m[1]
    with pytest.raises(KeyError):
        del m[1]


def test_hash_map_flags_and_full() -> None:
    m = HashMap("h", key_size=1, value_size=1, max_entries=1)
    with pytest.raises(MapError) as info:
        m.update(1, 1, BPF_EXIST)
    assert info.value.errno == errno.ENOENT
    m.update(1, 1, BPF_NOEXIST)
    with pytest.raises(MapError) as info:
        m.update(1, 2, BPF_NOEXIST)
    assert info.value.errno == errno.EEXIST
    with pytest.raises(MapError, match="E2BIG"):
        m[2] = 2
    m[1] = 3  # replacing needs no room
    assert m[1] == b"\3"


def test_sizes_are_checked() -> None:
    m = HashMap("h", key_size=4, value_size=4, max_entries=1)
    with pytest.raises(MapError, match="key is 2 bytes, the map's key_size is 4"):
        m[b"ab"] = 1
    with pytest.raises(MapError, match="value 4294967296 does not fit in 4 bytes"):
        m[1] = 1 << 32
    with pytest.raises(VMError, match="do not fit"):
        HashMap("bad", key_size=0, value_size=4, max_entries=1)


def test_array_map_rules() -> None:
    m = ArrayMap("a", value_size=4, max_entries=3)
    assert len(m) == 3 and m[2] == b"\0" * 4 and 3 not in m
    m[1] = 5
    with pytest.raises(MapError) as info:
        del m[1]
    assert info.value.errno == errno.EINVAL
    with pytest.raises(MapError) as info:
        m[3] = 1
    assert info.value.errno == errno.E2BIG
    with pytest.raises(MapError, match="EEXIST"):
        m.update(0, 1, BPF_NOEXIST)
    assert [v for _, v in m.items()] == [b"\0" * 4, b"\5\0\0\0", b"\0" * 4]


def test_create_map_from_spec() -> None:
    spec = MapSpec("data", MapType.ARRAY, key_size=4, value_size=8, max_entries=1,
                   data=b"\x2a")
    assert create_map(spec)[0] == b"\x2a" + b"\0" * 7
    hspec = MapSpec("h", MapType.HASH, key_size=4, value_size=4, max_entries=4,
                    contents=[(1, 10)])
    assert create_map(hspec)[1] == (10).to_bytes(4, "little")
    with pytest.raises(VMError, match="SOCKMAP is not supported by the VM"):
        create_map(MapSpec("sm", MapType.SOCKMAP, key_size=4, value_size=4, max_entries=4))


def _counter_program() -> list[object]:
    """Count calls per key (r1 memory holds the 4-byte key) in map "counts"."""
    return [
        asm.ldx(4, R3, R1, 0), asm.stx(4, R10, R3, -4),
        asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(HelperID.MAP_LOOKUP_ELEM), asm.jeq(R0, 0, "new"),
        asm.mov(R1, 1), asm.atomic_add(8, R0, R1, 0), asm.mov(R0, 1), asm.exit(),
        asm.label("new"), asm.st(8, R10, 1, -16),
        asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.mov(R3, R10), asm.add(R3, -16), asm.mov(R4, BPF_NOEXIST),
        asm.call(HelperID.MAP_UPDATE_ELEM), asm.exit(),
    ]


@pytest.mark.parametrize("map_type", [HashMap, ArrayMap])
def test_program_counts_into_a_map(map_type: type) -> None:
    counts = map_type("counts", key_size=4, value_size=8, max_entries=4)
    prog = load(asm.link(_counter_program()), maps={"counts": counts})
    keys = [0, 1, 1, 2, 1, 3]
    for k in keys:
        prog.run(k.to_bytes(4, "little"))
    for k in set(keys):
        assert counts[k] == keys.count(k).to_bytes(8, "little")


def test_update_helper_returns_negative_errno() -> None:
    counts = HashMap("counts", key_size=4, value_size=8, max_entries=1)
    prog = load(asm.link(_counter_program()), maps={"counts": counts})
    assert prog.run(b"\1\0\0\0").r0 == 0
    assert prog.run(b"\2\0\0\0").r0 == (-errno.E2BIG) & ((1 << 64) - 1)


def test_delete_helper() -> None:
    h = HashMap("h", key_size=4, value_size=4, max_entries=2)
    h[5] = 1
    body = [asm.st(4, R10, 5, -4), asm.ld_map_fd(R1, "h"), asm.mov(R2, R10), asm.add(R2, -4),
            asm.call(HelperID.MAP_DELETE_ELEM), asm.exit()]
    prog = load(asm.link(body), maps={"h": h})
    assert prog.run().r0 == 0 and 5 not in h
    assert prog.run().r0 == (-errno.ENOENT) & ((1 << 64) - 1)


def test_maps_by_fd_number_in_raw_bytecode() -> None:
    a = ArrayMap("a", value_size=4, max_entries=1)
    a[0] = 99
    body = [asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, 7), asm.mov(R2, R10), asm.add(R2, -4),
            asm.call(HelperID.MAP_LOOKUP_ELEM), asm.ldx(4, R0, R0, 0), asm.exit()]
    raw = asm.encode_all(asm.link(body))
    assert load(raw, maps={7: a}).run().r0 == 99
    # the verifier cannot judge a map it was not given: it says so, then the load fails
    with pytest.warns(UnverifiedWarning), pytest.raises(ProgramLoadError, match="map 7"):
        load(raw)


def test_map_value_pointer_for_global_data() -> None:
    data = ArrayMap(".data", value_size=16, max_entries=1)
    data[0] = bytes(range(16))
    body = [asm.ld_map_value(R1, ".data", 4), asm.ldx(4, R0, R1, 0), asm.st(1, R1, 0xEE, 11),
            asm.exit()]
    assert run_items(body, maps={".data": data}).r0 == 0x07060504
    assert data[0][15] == 0xEE


def test_ktime_prandom_and_trace_printk() -> None:
    env = Environment(clock_ns=lambda: 123, rng=random.Random(1))
    fmt = b"n=%d u=%llx %s!%d\0"  # only three arguments: the 4th stays as text
    body = [asm.call(HelperID.KTIME_GET_NS), asm.mov(R4, R0)]
    for i in range(0, len(fmt), 8):  # put the format on the stack
        chunk = fmt[i:i + 8].ljust(8, b"\0")
        body += [asm.lddw(R1, int.from_bytes(chunk, "little")), asm.stx(8, R10, R1, -32 + i)]
    body += [asm.st(8, R10, int.from_bytes(b"hi\0\0", "little"), -40),
             asm.mov(R1, R10), asm.add(R1, -32), asm.mov(R2, len(fmt)), asm.mov(R3, -5),
             asm.mov(R5, R10), asm.add(R5, -40),
             asm.call(HelperID.TRACE_PRINTK), asm.call(HelperID.GET_PRANDOM_U32), asm.exit()]
    result = run_items(body, env=env)
    assert result.printk == ["n=-5 u=7b hi!%d"]
    assert env.printk == ["n=-5 u=7b hi!%d"]
    assert result.r0 == random.Random(1).getrandbits(32)


def _perf_output(flags: int) -> list[object]:
    return [asm.st(8, R10, 0x55, -8), asm.ld_map_fd(R2, "events"), asm.lddw(R3, flags),
            asm.mov(R4, R10), asm.add(R4, -8), asm.mov(R5, 8),
            asm.call(HelperID.PERF_EVENT_OUTPUT), asm.exit()]


def test_perf_event_array_slots_open_per_cpu() -> None:
    events = PerfEventArrayMap("events", max_entries=4, opened=[1, 2])
    env = Environment(cpu=1)
    current = load(asm.link(_perf_output(0xFFFF_FFFF)), maps={"events": events}, env=env)
    assert current.run().r0 == 0
    assert events.read() == [(1, (0x55).to_bytes(8, "little"))]
    env.cpu = 0  # slot 0 has no reader: the kernel's -ENOENT
    assert current.run().r0 == (-errno.ENOENT) & U64
    other = load(asm.link(_perf_output(2)), maps={"events": events}, env=Environment(cpu=1))
    assert other.run().r0 == (-errno.EOPNOTSUPP) & U64  # CPU 2's event, output on CPU 1
    events.close_cpu(1)
    env.cpu = 1
    assert current.run().r0 == (-errno.ENOENT) & U64
    events.open_cpu(1)
    assert current.run().r0 == 0 and len(events.read(cpu=1)) == 1 and events.read() == []
