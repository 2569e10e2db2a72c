"""Values live across helper calls survive them.

Only r6-r9 survive a call, and the compiler keeps at most four locals there: the rest, and
every temporary live across a call, go to the stack and come back afterwards. These tests
keep more than four values alive across several calls and check, on the VM (which poisons
r1-r5 after every call, as the kernel's verifier considers them unreadable) and in the
kernel, that each one still holds its value; and that a temporary saved in one branch is
where the other branch expects it when the two meet.

Regressions: the opensnoop exit handler lost its ring buffer record after a call (the
kernel refused the load with 'R0 invalid mem access scalar'), and a temporary restored
into another register after a call inside `a and helper()` was read from the wrong
register on the path that skipped the call.
"""

from __future__ import annotations

import struct as pystruct

import pytest

from pybpf import vm
from pybpf.lang import Hash, RingBuf, bpf, cast, compile_source, ktime_ns, struct, u32, u64
from pybpf.spec import ProgramType


class Pair(struct):
    first: u64
    second: u64


class Start(struct):
    flags: u64
    addr: u64


class Record(struct):
    ret: u64
    key: u64
    flags: u64
    addr: u64
    token: u64
    t1: u64
    t2: u64
    t3: u64


class Packet(struct):
    ret: u64
    key: u64


spill_ring = RingBuf(max_entries=1 << 12)
spill_starts = Hash(u32, Start, max_entries=16)
spill_records = RingBuf(max_entries=1 << 12)


def fill(x):
    # ctx, x, the return value and 'now' take r6-r9, so 'ev' lives on the stack and its
    # loaded copy is a temporary that the ktime_ns() call below must save and restore
    now = ktime_ns()
    ev = spill_ring.reserve(Pair)
    if ev:
        ev.first = now
        ev.second = ktime_ns()
        spill_ring.submit(ev)
    return 0


@bpf.tracepoint("syscalls/sys_exit_accept4")
def spill_prog(ctx):
    return fill(ctx.ret)


def report(ret, key):
    # ret, key, token, the map value pointer, the ring record and the return value: six
    # values, each still needed after the helper calls that follow its birth
    token = ret * 7 + key
    start = spill_starts.lookup(key)
    if not start:
        return 1
    ev = spill_records.reserve(Record)
    if not ev:
        return 2
    ev.t1 = ktime_ns()
    ev.ret = ret
    ev.t2 = ktime_ns()
    ev.key = key
    ev.flags = start.flags
    ev.t3 = ktime_ns()
    ev.addr = start.addr
    ev.token = token
    check = ret + key + start.flags + start.addr + token + ev.ret
    spill_records.submit(ev)
    return 3 if check == 2 * ret + key + 1000 + 2000 + token else 4


@bpf.xdp
def many_live(ctx):
    data = ctx.data
    if data + 16 > ctx.data_end:
        return 0
    p = cast(Packet, data)
    return report(p.ret, u32(p.key))


def _packet(ret: int, key: int) -> bytes:
    return pystruct.pack("<QQ", ret, key) + bytes(48)


def _start() -> bytes:
    return pystruct.pack("<QQ", 1000, 2000)


def test_more_than_four_values_survive_helper_calls_on_the_vm() -> None:
    compiled = bpf.compile(many_live)
    coll = vm.load_collection(compiled.spec)
    coll.maps["spill_starts"].update(pystruct.pack("<I", 9), _start())
    prog = coll.programs["many_live"]
    assert prog.test_run(_packet(5, 9)).retval == 3
    records = coll.maps["spill_records"].read()
    assert len(records) == 1
    ret, key, flags, addr, token, t1, t2, t3 = pystruct.unpack("<8Q", records[0])
    assert (ret, key, flags, addr, token) == (5, 9, 1000, 2000, 5 * 7 + 9)
    assert 0 < t1 <= t2 <= t3
    assert prog.test_run(_packet(5, 8)).retval == 1   # no start for key 8


# `ok` is a temporary set before the call and read after the paths meet again; p.a is
# loaded into another temporary beside it, which is where `ok` was once restored to
_JOIN_SOURCE = """
from pybpf.lang import *
class In(struct):
    a: u64
    b: u64
@bpf.xdp
def join(ctx):
    data = ctx.data
    if data + 16 > ctx.data_end:
        return 0
    p = cast(In, data)
    ok = p.a == 5 and ktime_ns() > 0
    pick = p.b if p.a == 7 else ktime_ns() * 0 + 40
    return ok + 10 + pick
"""


@pytest.mark.parametrize("a, b, expected", [(5, 1, 51), (6, 1, 50), (7, 2, 12)])
def test_a_temporary_saved_on_one_path_is_where_the_other_path_left_it(
        a: int, b: int, expected: int) -> None:
    compiled = compile_source(_JOIN_SOURCE, "join.py")
    prog = vm.load(compiled.instructions(), type=ProgramType.XDP)
    assert prog.test_run(pystruct.pack("<QQ", a, b) + bytes(48)).retval == expected


def test_spill_slots_are_reused_from_call_to_call() -> None:
    # twenty calls, each with a temporary live across it: one slot per register, not one
    # per call, or the 512-byte stack would run out in long programs
    body = "".join(f"    t = (t + {i}) + (ktime_ns() & 0)\n" for i in range(20))
    source = ("from pybpf.lang import *\n@bpf.xdp\ndef slots(ctx):\n    t = 0\n" + body +
              "    return t\n")
    compiled = compile_source(source, "slots.py")
    prog = vm.load(compiled.instructions(), type=ProgramType.XDP)
    assert prog.test_run(bytes(60)).retval == sum(range(20))
    used = {i.off for i in compiled.instructions() if i.dst == 10 or i.src == 10}
    assert len(used) <= 4


@pytest.mark.kernel
def test_store_after_helper_uses_the_restored_base_register() -> None:
    compiled = bpf.compile(spill_prog)
    with compiled.load() as coll:
        assert "spill_prog" in coll.programs


@pytest.mark.kernel
def test_more_than_four_values_survive_helper_calls_in_the_kernel() -> None:
    compiled = bpf.compile(many_live)
    with compiled.load() as coll:
        coll.raw_maps["spill_starts"].update(pystruct.pack("<I", 9), _start())
        prog = coll.programs["many_live"]
        assert prog.test_run(_packet(5, 9)).retval == 3
        assert prog.test_run(_packet(5, 8)).retval == 1


@pytest.mark.kernel
@pytest.mark.parametrize("a, b, expected", [(5, 1, 51), (6, 1, 50), (7, 2, 12)])
def test_temporaries_meet_in_the_same_register_in_the_kernel(a: int, b: int,
                                                              expected: int) -> None:
    compiled = compile_source(_JOIN_SOURCE, "join.py")
    with compiled.load() as coll:
        packet = pystruct.pack("<QQ", a, b) + bytes(48)
        assert coll.programs["join"].test_run(packet).retval == expected
