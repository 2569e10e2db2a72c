"""The llvm tier's native hash map updates and deletes (llvm_ir.map_write, synced into the
Python map by llvmtier) answer as the helpers do: random sequences of updates (every flag),
deletes, lookups and writes through held pointers give the interpreter's r0 and the same
map, in the same order; without held pointers, the kernel's r0 and map too."""

from __future__ import annotations

import errno

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R7, R8, R9, R10
from pybpf.vm import HashMap
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP, UPDATE, DELETE = (int(HelperID[n]) for n in
                          ("MAP_LOOKUP_ELEM", "MAP_UPDATE_ELEM", "MAP_DELETE_ELEM"))
KEYS, MAX_ENTRIES = 6, 4

_key = st.integers(0, KEYS - 1)
_op = st.one_of(
    st.tuples(st.just("update"), _key, st.integers(0, 1 << 40), st.sampled_from([0, 1, 2, 4])),
    st.tuples(st.just("delete"), _key),
    st.tuples(st.just("lookup"), _key),
    st.tuples(st.just("add"), _key, st.integers(1, 1000)))
# a pointer held across later updates sees the value it pointed to (a fresh buffer each
# update): only in the VM, the kernel reuses the old element at the next update
_held_op = st.one_of(_op, st.tuples(st.just("hold"), _key), st.tuples(st.just("read_held")))


def _fold(reg: object) -> list[object]:
    """r8 = r8 * 31 + reg: every result counts in r0."""
    return [asm.mul(R8, 31), asm.add(R8, reg)]


def _key_at_fp(key: int) -> list[object]:
    return [asm.mov(R1, key), asm.stx(4, R10, R1, -4), asm.ld_map_fd(R1, "m"),
            asm.mov(R2, R10), asm.add(R2, -4)]


def _program(ops: list[tuple]) -> list[object]:
    items: list[object] = [asm.mov(R8, 0), asm.mov(R9, 0)]
    for n, op in enumerate(ops):
        kind = op[0]
        if kind == "update":
            _, key, value, flags = op
            items += [asm.lddw(R1, value), asm.stx(8, R10, R1, -16), *_key_at_fp(key),
                      asm.mov(R3, R10), asm.add(R3, -16), asm.mov(R4, flags),
                      asm.call(UPDATE), *_fold(R0)]
        elif kind == "delete":
            items += [*_key_at_fp(op[1]), asm.call(DELETE), *_fold(R0)]
        elif kind in ("lookup", "add"):
            items += [*_key_at_fp(op[1]), asm.call(LOOKUP), asm.mov(R7, -1),
                      asm.jeq(R0, 0, f"miss{n}"), asm.ldx(8, R7, R0, 0)]
            if kind == "add":
                items += [asm.mov(R6, R7), asm.add(R6, op[2]), asm.stx(8, R0, R6, 0)]
            items += [asm.label(f"miss{n}"), *_fold(R7)]
        elif kind == "hold":
            items += [*_key_at_fp(op[1]), asm.call(LOOKUP), asm.mov(R9, R0)]
        else:  # read_held
            items += [asm.mov(R7, -2), asm.jeq(R9, 0, f"none{n}"), asm.ldx(8, R7, R9, 0),
                      asm.label(f"none{n}"), *_fold(R7)]
    return asm.link([*items, asm.mov(R0, R8), asm.exit()])


def _fresh_map(start: list[int]) -> HashMap:
    m = HashMap("m", key_size=4, value_size=8, max_entries=MAX_ENTRIES)
    for key in start:
        m[key] = key * 1000
    return m


def _vm(ops: list[tuple], start: list[int], tier: str) -> tuple[int, list, int, list]:
    m = _fresh_map(start)
    prog = load_unverified(_program(ops), maps={"m": m})
    first = prog.run(tier=tier).r0
    after_one = list(m.items())
    second = prog.test_run(repeat=3, tier=tier).retval  # runs on the map the first one left
    return first, after_one, second, list(m.items())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_held_op, max_size=40),
       start=st.lists(_key, max_size=MAX_ENTRIES, unique=True))
# a native update of 1, a callback (the first write of 2) replays it, then a write through
# the pointer to 1's new value: the map must hold that very buffer, not a copy
@example(ops=[("update", 1, 5, 0), ("update", 1, 6, 0), ("update", 2, 5, 0), ("add", 1, 100),
              ("lookup", 1)], start=[])
# a pointer held across a native update keeps reading the old value
@example(ops=[("update", 1, 5, 0), ("hold", 1), ("update", 1, 6, 0), ("read_held",),
              ("lookup", 1)], start=[])
# a spare value stored natively, then handed out by a lookup, then deleted: it must not go
# back to the pool (key 2's next native store would take it and the held pointer see it)
@example(ops=[("update", 1, 5, 0), ("update", 1, 6, 0), ("hold", 1), ("delete", 1),
              ("update", 2, 7, 0), ("update", 2, 8, 0), ("read_held",), ("lookup", 2)],
         start=[])
# written over in place (a spare no lookup handed out), deleted and inserted again: the
# map's order is the interpreter's
@example(ops=[("update", 1, 5, 0), ("update", 3, 1, 0), ("update", 1, 6, 0),
              ("update", 1, 7, 0), ("delete", 1), ("update", 1, 8, 0), ("update", 3, 2, 0)],
         start=[0, 1, 2])
def test_map_op_sequences_match_the_interpreter(ops: list[tuple], start: list[int]) -> None:
    assert _vm(ops, start, "llvm") == _vm(ops, start, "interp")


def test_a_churn_loop_stays_native_and_matches_the_interpreter(
        python_helper_calls: list[int]) -> None:
    """Inserts and deletes of 32 keys, 2 x 700 writes: more than the write log holds and
    the spare pool's first sizes, so both refill mid-run."""
    calls = python_helper_calls
    program = asm.link([
        asm.mov(R6, 700),
        asm.label("loop"),
        asm.mov(R7, R6), asm.and_(R7, 31), asm.stx(4, R10, R7, -4),
        asm.stx(8, R10, R6, -16),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10),
        asm.add(R3, -16), asm.mov(R4, 0), asm.call(UPDATE), asm.add(R8, R0),
        asm.mov(R7, R6), asm.add(R7, 7), asm.and_(R7, 31), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(DELETE),
        asm.add(R8, R0),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])
    results = {}
    for tier in ("interp", "llvm"):
        m = HashMap("m", key_size=4, value_size=8, max_entries=20)
        prog = load_unverified(program, maps={"m": m})
        results[tier] = (prog.run(tier=tier).r0, list(m.items()))
    assert results["llvm"] == results["interp"]
    # only the first write of each key and the refills of the pool and of the log call back
    assert 0 < len(calls) < 100, len(calls)


def _churn_with_lookups(keys: int, mul: int) -> list[object]:
    """3,000 turns: update key i*mul % keys, every third turn look up key (i+5)*mul % keys
    and add to its value, every other turn delete key (i+11)*mul % keys; r8 folds every
    answer and value read."""
    def key(offset: int) -> list[object]:
        return [asm.mov(R7, R6), asm.add(R7, offset), asm.mul(R7, mul), asm.mod(R7, keys),
                asm.stx(4, R10, R7, -4), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10),
                asm.add(R2, -4)]
    return asm.link([
        asm.mov(R6, 3000), asm.mov(R8, 0),
        asm.label("loop"),
        asm.stx(8, R10, R6, -16), *key(0), asm.mov(R3, R10), asm.add(R3, -16),
        asm.mov(R4, 0), asm.call(UPDATE), asm.mul(R8, 3), asm.add(R8, R0),
        asm.mov(R9, R6), asm.mod(R9, 3), asm.jne(R9, 0, "nolook"),
        *key(5), asm.call(LOOKUP), asm.jeq(R0, 0, "nolook"), asm.ldx(8, R1, R0, 0),
        asm.add(R1, 1), asm.stx(8, R0, R1, 0), asm.add(R8, R1),
        asm.label("nolook"),
        asm.mov(R9, R6), asm.mod(R9, 2), asm.jne(R9, 0, "nodel"),
        *key(11), asm.call(DELETE), asm.mul(R8, 5), asm.add(R8, R0),
        asm.label("nodel"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])


@pytest.mark.parametrize(("keys", "mul", "max_entries"),
                         [(40, 1, 30), (1500, 7919, 1200), (3000, 1, 4000)])
def test_churn_with_lookups_over_many_keys_matches_the_interpreter(
        keys: int, mul: int, max_entries: int) -> None:
    """More keys changed than the dirty list holds (a full list syncs through the
    helper), spares handed out by lookups between writes (written over only while no
    lookup handed them out), deletes giving spares back to pools refilled since, and a
    full map (E2BIG): the interpreter's answers and map, in its order, after a run and
    after test_run's loop."""
    results = {}
    for tier in ("interp", "llvm"):
        m = HashMap("m", key_size=4, value_size=8, max_entries=max_entries)
        for k in range(0, min(keys, max_entries), 3):
            m[k] = k
        prog = load_unverified(_churn_with_lookups(keys, mul), maps={"m": m})
        first = prog.run(tier=tier).r0
        after_one = list(m.items())
        results[tier] = (first, after_one, prog.test_run(repeat=3, tier=tier).retval,
                         list(m.items()))
    assert results["llvm"] == results["interp"]


def test_writes_go_to_the_helper_once_a_run_mapped_its_spares(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past _SPARES_PER_RUN spare values a run (and test_run's loop of runs) stores
    through the helper: the same answers and map, and no more spares mapped. (Each update
    follows a lookup of its key: a value no lookup handed out is written over in place,
    taking no spare.)"""
    from pybpf.vm import llvmtier

    monkeypatch.setattr(llvmtier, "_SPARES_PER_RUN", 40)

    def looked_up(k: int, value: int) -> list[tuple]:
        return [("lookup", k % 4), ("update", k % 4, value, 0)]

    ops = [op for k in range(30) for op in looked_up(k, k)] + [
        ("delete", k % 4) for k in range(0, 30, 7)] + [
        op for k in range(30) for op in looked_up(k, k * 3)] + [("lookup", 1), ("add", 2, 5)]
    assert _vm(ops, [0, 3], "llvm") == _vm(ops, [0, 3], "interp")
    m = _fresh_map([])
    prog = load_unverified(_program(ops), maps={"m": m})
    prog.run(tier="llvm")
    run = prog._compiled_for("llvm")._spare[-1]
    assert run.spares_spent and run.spares_mapped == 40


def test_errors_are_the_helpers() -> None:
    """EEXIST, ENOENT, E2BIG and EINVAL from native writes (the second write of a key)."""
    ops = [("update", 0, 1, 0), ("update", 0, 2, 1), ("delete", 0), ("delete", 0),
           ("update", 0, 3, 2), ("update", 1, 1, 0), ("update", 2, 1, 0),
           ("update", 3, 1, 0), ("update", 0, 4, 0), ("update", 4, 4, 0),
           ("update", 4, 4, 0), ("update", 1, 5, 4)]
    for tier in ("llvm", "interp"):
        results = []
        for end in range(1, len(ops) + 1):
            m = _fresh_map([])
            prog = load_unverified(asm.link([*_program(ops[:end])[:-2], asm.mov(R0, R0),
                                             asm.exit()]), maps={"m": m})
            results.append(prog.run(tier=tier).r0)
        codes = [r - (1 << 64) if r >> 63 else r for r in results]
        assert codes == [0, -errno.EEXIST, 0, -errno.ENOENT, -errno.ENOENT, 0, 0, 0, 0,
                         -errno.E2BIG, -errno.E2BIG, -errno.EINVAL], tier


@pytest.mark.kernel
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=30), start=st.lists(_key, max_size=MAX_ENTRIES,
                                                      unique=True))
def test_map_op_sequences_match_the_kernel(ops: list[tuple], start: list[int]) -> None:
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program
    from pybpf.spec import MapSpec, MapType, ProgramSpec, ProgramType

    insns = _program(ops)
    m = _fresh_map(start)
    vm_r0 = load_unverified(insns, maps={"m": m}).run(tier="llvm").r0
    spec = ProgramSpec("map_writes", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=insns, license="GPL")
    with Map.create(MapSpec("m", MapType.HASH, key_size=4, value_size=8,
                            max_entries=MAX_ENTRIES)) as kernel_map, \
            Program.load(spec, maps={"m": kernel_map}) as prog:
        for key in start:
            kernel_map[key] = key * 1000
        kernel_r0 = prog.test_run(bytes(64)).retval
        kernel_items = sorted(kernel_map.items())
    assert vm_r0 & 0xFFFF_FFFF == kernel_r0
    assert sorted(m.items()) == kernel_items


def test_writes_in_bpf_loop_callbacks_count_with_the_callers() -> None:
    """Native writes made in a bpf_loop callback (native code run from inside a helper)
    and around it give the interpreter's answers (E2BIG too) and map."""
    loop = int(HelperID["LOOP"])

    def write(key_reg: object, delete: bool) -> list[object]:
        return [asm.mov(R7, key_reg), asm.mod(R7, KEYS), asm.stx(4, R10, R7, -4),
                asm.stx(8, R10, R8, -16), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10),
                asm.add(R2, -4), *([] if delete else [asm.mov(R3, R10), asm.add(R3, -16),
                                                      asm.mov(R4, 0)]),
                asm.call(DELETE if delete else UPDATE), asm.mul(R8, 7), asm.add(R8, R0)]

    program = asm.link([
        asm.mov(R8, 1), asm.mov(R6, 9),
        asm.label("turn"),
        *write(R6, False), *write(R6, False),
        asm.mov(R1, R6), asm.ld_func(R2, "body"), asm.mov(R3, 0), asm.mov(R4, 0),
        asm.call(loop), asm.add(R8, R0),
        *write(R6, True), *write(R6, False),
        asm.sub(R6, 1), asm.jne(R6, 0, "turn"),
        asm.mov(R0, R8), asm.exit(),
        asm.label("body"), asm.mov(R6, R1), asm.mov(R8, R1),
        *write(R6, False), *write(R6, False), asm.add(R6, 3), *write(R6, True),
        asm.mov(R0, 0), asm.exit()])
    results = {}
    for tier in ("interp", "llvm"):
        m = _fresh_map([1, 2])
        prog = load_unverified(program, maps={"m": m})
        results[tier] = (prog.run(tier=tier).r0, list(m.items()))
    assert results["llvm"] == results["interp"]


def test_a_short_budget_stops_at_the_interpreters_instruction() -> None:
    """Whatever the budget, a run stops at the instruction the interpreter stops at, with
    the map writes (native or not) and value stores before it done and none after."""
    from pybpf.vm import BudgetExceededError

    program = asm.link([
        asm.mov(R8, 0), asm.mov(R9, 5),
        asm.label("turn"),
        asm.mov(R1, R9), asm.and_(R1, 3), asm.stx(4, R10, R1, -4),
        asm.stx(8, R10, R9, -16),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10),
        asm.add(R3, -16), asm.mov(R4, 0), asm.call(UPDATE), asm.add(R8, R0),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(LOOKUP),
        asm.jeq(R0, 0, "skip"), asm.mov(R1, 77), asm.stx(8, R0, R1, 0), asm.stx(8, R0, R9, 0),
        asm.label("skip"),
        asm.mov(R1, R9), asm.add(R1, 2), asm.and_(R1, 3), asm.stx(4, R10, R1, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(DELETE),
        asm.add(R8, R0), asm.sub(R9, 1), asm.jne(R9, 0, "turn"),
        asm.mov(R0, R8), asm.exit()])

    def outcome(tier: str, budget: int) -> object:
        m = _fresh_map([0, 1])
        prog = load_unverified(program, maps={"m": m})
        try:
            got = prog.run(tier=tier, budget=budget)
        except BudgetExceededError as err:
            return "over", err.insn, list(m.items())
        return got.r0, got.insns, list(m.items())

    needed = load_unverified(program, maps={"m": _fresh_map([0, 1])}).run(tier="interp").insns
    for budget in range(needed + 2):
        assert outcome("llvm", budget) == outcome("interp", budget), budget
