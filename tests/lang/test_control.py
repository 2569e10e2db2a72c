"""Control and data beyond constants: arrays indexed by variables (bounds-checked),
for-loops over ranges known at run time, bpf_loop with a callback, tail calls by program
name. Each runs in the VM and in the kernel (BPF_PROG_TEST_RUN)."""

from __future__ import annotations

import time

import pytest

from pybpf.errors import CompileError
from pybpf.lang import (
    XDP_DROP,
    XDP_PASS,
    Array,
    SpinLock,
    Timer,
    bpf,
    bpf_for,
    bpf_loop,
    compile_source,
    struct,
    tail_call,
    u32,
    u64,
)
from tests.lang.backends import BACKENDS, load, run


class Rec(struct):
    n: u32
    vals: u32[8]


recs = Array(Rec, max_entries=1)


@bpf.xdp
def indexes(ctx):
    a = u64[10]()
    for i in range(10):
        a[i] = i * i
    k = (ctx.data_end - ctx.data) // 8    # 8, from the packet: unknown to the compiler
    r = a[k] + a[k + 5]                   # 64, and 0 for the index past the end
    a[k + 50] = 7                         # out of range: goes nowhere
    rec = recs.lookup(0)
    if rec:
        n = rec.n
        rec.vals[n] = 11
        rec.vals[n + 100] = 12
        r += rec.vals[n] + rec.vals[n + 100]
    return r + a[9]


@pytest.mark.parametrize("backend", BACKENDS)
def test_variable_indexes_are_bounds_checked(backend: str) -> None:
    with load(bpf.compile(indexes), backend) as coll:
        coll.maps[recs][0] = Rec(n=3, vals=[0] * 8)
        assert run(coll, "indexes") == 64 + 11 + 81
        assert coll.maps[recs][0].vals == [0, 0, 0, 11, 0, 0, 0, 0]


STEP = 3


@bpf.xdp
def ranges(ctx):
    n = (ctx.data_end - ctx.data) // 4    # 16
    total = 0
    for i in range(n):
        total += i                        # 120
    for i in range(2, n, 5):
        total += i * 1000                 # 2 + 7 + 12
    for i in range(n, 0, -STEP):
        if i == 7:
            break
        total += 100000                   # 16, 13, 10
    a = u32[4]()
    for i in range(min(n, 6)):
        a[i] += 1
    return total + a[0] + a[3]


@bpf.xdp
def indexed_range(ctx):
    n = (ctx.data_end - ctx.data) // 4    # 16: the loop may go past the array's end
    a = u32[8]()
    for i in range(n):
        a[i] += i                         # the verifier checks this body once, not 16 times
    return a[0] + a[7] + a[n]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_time_range_may_index_arrays(backend: str) -> None:
    with load(bpf.compile(indexed_range), backend) as coll:
        assert run(coll, "indexed_range") == 7


@pytest.mark.parametrize("backend", BACKENDS)
def test_for_loops_over_ranges_known_at_run_time(backend: str) -> None:
    with load(bpf.compile(ranges), backend) as coll:
        assert run(coll, "ranges") == 120 + 21000 + 300000 + 2


class Acc(struct):
    total: u64
    steps: u32


def add_square(i, acc):
    acc.total += i * i
    acc.steps += 1
    if i == 9:
        return 1                          # stop
    return 0


def nothing(i):
    return 0


@bpf.xdp
def loops(ctx):
    acc = Acc()
    n = bpf_loop(100, add_square, acc)
    m = bpf_loop(5, nothing)
    return acc.total + acc.steps * 1000 + n * 100000 + m * 1000000


@pytest.mark.parametrize("backend", BACKENDS)
def test_bpf_loop_calls_a_python_function_back(backend: str) -> None:
    compiled = bpf.compile(loops)
    assert [sub.name for _, sub in compiled.programs["loops"].functions] == \
        ["add_square", "nothing"]
    with load(compiled, backend) as coll:
        assert run(coll, "loops") == 285 + 10 * 1000 + 10 * 100000 + 5 * 1000000


hits = Array(u64, max_entries=2)


@bpf.xdp
def second(ctx):
    hits[1] += 1
    return XDP_DROP


@bpf.xdp
def first(ctx):
    hits[0] += 1
    tail_call(ctx, second)
    return XDP_PASS


@pytest.mark.parametrize("backend", BACKENDS)
def test_tail_call_by_program_name(backend: str) -> None:
    compiled = bpf.compile(first)                 # the target comes along
    assert set(compiled.programs) == {"first", "second"}
    assert compiled.tail_calls == {"second": 0}
    with load(compiled, backend) as coll:
        assert run(coll, "first") == XDP_DROP
        assert (coll.maps[hits][0], coll.maps[hits][1]) == (1, 1)


def test_a_range_step_must_be_constant() -> None:
    source = '''
from pybpf.lang import bpf
@bpf.xdp
def prog(ctx):
    s = ctx.data_end - ctx.data
    for i in range(0, 10, s):
        pass
    return 0
'''
    with pytest.raises(CompileError, match=r"<bpf>:6:27: range\(\) step must be a nonzero"):
        compile_source(source)


class Counter(struct):
    lock: SpinLock
    hits: u64
    total: u64


counters = Array(Counter, max_entries=1)


@bpf.xdp
def locked(ctx):
    c = counters.lookup(0)
    if c:
        with c.lock:                      # bpf_spin_lock .. bpf_spin_unlock
            c.hits += 1
            c.total += ctx.data_end - ctx.data
    return 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_with_holds_a_spin_lock_of_a_map_value(backend: str) -> None:
    compiled = bpf.compile(locked)
    helpers = [i.imm for i in compiled.instructions() if i.is_helper_call]
    assert helpers == [1, 93, 94]         # lookup, spin_lock, spin_unlock
    with load(compiled, backend) as coll:
        for _ in range(3):
            run(coll, "locked")
        assert (coll.maps[counters][0].hits, coll.maps[counters][0].total) == (3, 192)


def test_a_locked_block_cannot_return() -> None:
    source = '''
from pybpf.lang import Array, SpinLock, bpf, struct, u64
class V(struct):
    lock: SpinLock
    n: u64
vals = Array(V, max_entries=1)
@bpf.xdp
def prog(ctx):
    v = vals.lookup(0)
    if v:
        with v.lock:
            return 1
    return 0
'''
    with pytest.raises(CompileError, match=r"<bpf>:12:13: a block holding a spin lock"):
        compile_source(source)


class Alarm(struct):
    timer: Timer
    armed: u64
    fired: u64


alarms = Array(Alarm, max_entries=1)


def ring(m, key, value):
    value.fired += 1                      # the map value the timer lives in, by reference
    return 0


@bpf.xdp
def arm(ctx):
    a = alarms.lookup(0)
    if a:
        a.timer.init(alarms)
        a.timer.set_callback(alarms, ring)
        a.timer.start(1000000)            # 1 ms
        a.armed += 1
    return 0


def test_a_timer_callback_is_a_subprogram_of_the_map_value() -> None:
    compiled = bpf.compile(arm)
    assert [sub.name for _, sub in compiled.programs["arm"].functions] == ["ring"]
    helpers = [i.imm for i in compiled.instructions() if i.is_helper_call]
    assert helpers == [1, 169, 170, 171]  # lookup, timer_init, set_callback, start


@pytest.mark.kernel
def test_a_timer_fires_its_callback() -> None:
    # the VM has no clock that fires: timers are the kernel's alone
    with bpf.compile(arm).load() as coll:
        run(coll, "arm")
        deadline = time.monotonic() + 5
        while coll.maps[alarms][0].fired == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (coll.maps[alarms][0].armed, coll.maps[alarms][0].fired) == (1, 1)


@bpf.xdp
def open_coded(ctx):
    n = (ctx.data_end - ctx.data) // 4    # 16
    a = u32[8]()
    total = 0
    for i in bpf_for(0, n):
        if i == 12:
            break                         # still destroys the iterator
        a[i] += 1
        total += i
    return total * 100 + a[0] + a[7]


def test_bpf_for_calls_the_numeric_iterator_kfuncs() -> None:
    insns = bpf.compile(open_coded).instructions()
    assert [i.reference for i in insns if i.is_kfunc_call] == [
        "bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy"]


@pytest.mark.kernel
def test_bpf_for_runs_in_the_kernel() -> None:
    # kfuncs are the kernel's: the VM does not run them
    with bpf.compile(open_coded).load() as coll:
        assert run(coll, "open_coded") == 66 * 100 + 2
