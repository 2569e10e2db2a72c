"""The llvm tier's map lookup cache answers as the helper does: after updates and deletes
by the program in the same run, after changes from user space between runs, and for many
keys (collisions in the cache), every tier sees the same map contents and the same r0."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R6, R7, R10
from pybpf.vm import (
    ArrayMap,
    HashMap,
    LRUHashMap,
    MemoryAccessError,
    PercpuArrayMap,
    PercpuHashMap,
)
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP, UPDATE, DELETE = (int(HelperID[n]) for n in
                          ("MAP_LOOKUP_ELEM", "MAP_UPDATE_ELEM", "MAP_DELETE_ELEM"))


def _lookup(key_reg_value: int, miss_label: str) -> list[object]:
    """r0 = lookup(m, key); to ``miss_label`` when NULL (r6, r7 kept)."""
    return [asm.mov(R1, key_reg_value), asm.stx(4, R10, R1, -4), asm.ld_map_fd(R1, "m"),
            asm.mov(R2, R10), asm.add(R2, -4), asm.call(LOOKUP), asm.jeq(R0, 0, miss_label)]


def _counter_loop(turns: int, keys: int) -> list[object]:
    """m[i % keys] += i for i = turns..1, through lookups only."""
    return asm.link([
        asm.mov(R6, turns),
        asm.label("loop"),
        asm.mov(R7, R6), asm.mod(R7, keys), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(LOOKUP), asm.jeq(R0, 0, "next"),
        asm.ldx(8, R1, R0, 0), asm.add(R1, R6), asm.stx(8, R0, R1, 0),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, 0), asm.exit()])


@pytest.mark.parametrize("make_map", [
    lambda: ArrayMap("m", value_size=8, max_entries=300),
    lambda: HashMap("m", key_size=4, value_size=8, max_entries=300),
    lambda: PercpuArrayMap("m", value_size=8, max_entries=300, ncpus=4),
    lambda: PercpuHashMap("m", key_size=4, value_size=8, max_entries=300, ncpus=4)])
def test_many_keys_count_the_same_in_every_tier(make_map) -> None:
    results = {}
    for tier in ("interp", "python", "llvm"):
        m = make_map()
        for k in range(300):
            m[k.to_bytes(4, "little")] = bytes(8)
        prog = load_unverified(_counter_loop(3000, 300), maps={"m": m})
        prog.run(tier=tier)
        prog.run(tier=tier)  # a second run starts with the cache emptied
        prog.env.cpu = 2  # per-CPU maps: the next runs count in another CPU's values
        prog.run(tier=tier)
        prog.test_run(repeat=3, tier=tier, cpu=3)
        results[tier] = sorted(m.items())
    assert results["llvm"] == results["interp"] == results["python"]


def test_a_key_deleted_by_the_program_is_not_found_again_in_the_same_run() -> None:
    m = HashMap("m", key_size=4, value_size=8, max_entries=4)
    m[(7).to_bytes(4, "little")] = (5).to_bytes(8, "little")
    program = asm.link(
        _lookup(7, "missing")                       # cached now
        + [asm.ldx(8, R6, R0, 0),                   # r6 = 5
           asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(DELETE)]
        + _lookup(7, "gone")                        # must miss: the key was deleted
        + [asm.mov(R0, 100), asm.exit(),
           asm.label("gone"), asm.mov(R0, R6), asm.exit(),
           asm.label("missing"), asm.mov(R0, 200), asm.exit()])
    prog = load_unverified(program, maps={"m": m})
    assert prog.run(tier="llvm").r0 == 5
    assert prog.run(tier="llvm").r0 == 200  # and the next run sees the empty map


def test_a_value_replaced_by_the_program_is_read_anew() -> None:
    m = HashMap("m", key_size=4, value_size=8, max_entries=4)
    m[(3).to_bytes(4, "little")] = (1).to_bytes(8, "little")
    program = asm.link(
        _lookup(3, "missing")
        + [asm.mov(R3, 42), asm.stx(8, R10, R3, -16),   # the new value, 42
           asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4),
           asm.mov(R3, R10), asm.add(R3, -16), asm.mov(asm.R4, 0), asm.call(UPDATE)]
        + _lookup(3, "missing")
        + [asm.ldx(8, R0, R0, 0), asm.exit(),
           asm.label("missing"), asm.mov(R0, 200), asm.exit()])
    prog = load_unverified(program, maps={"m": m})
    for tier in ("interp", "llvm"):
        m[(3).to_bytes(4, "little")] = (1).to_bytes(8, "little")
        assert prog.run(tier=tier).r0 == 42, tier


def test_changes_from_user_space_between_runs_are_seen() -> None:
    m = HashMap("m", key_size=4, value_size=8, max_entries=4)
    program = asm.link(_lookup(9, "missing")
                       + [asm.ldx(8, R0, R0, 0), asm.exit(),
                          asm.label("missing"), asm.mov(R0, 200), asm.exit()])
    prog = load_unverified(program, maps={"m": m})
    key = (9).to_bytes(4, "little")
    assert prog.run(tier="llvm").r0 == 200
    m[key] = (11).to_bytes(8, "little")
    assert prog.run(tier="llvm").r0 == 11
    m[key] = (12).to_bytes(8, "little")
    assert prog.run(tier="llvm").r0 == 12
    del m[key]
    assert prog.run(tier="llvm").r0 == 200


def _same_in_every_tier(program: list[object], make_map) -> list[object]:  # type: ignore[no-untyped-def]
    """Run ``program`` twice per tier on a fresh map; r0s (or the error text) and the map
    contents must match the interpreter's."""
    outcomes = []
    for tier in ("interp", "llvm"):
        m = make_map()
        prog = load_unverified(asm.link(program), maps={"m": m})
        seen: list[object] = []
        for _ in range(2):
            try:
                seen.append(prog.run(tier=tier).r0)
            except MemoryAccessError as err:
                seen.append(str(err))
        outcomes.append((seen, sorted(m.items())))
    assert outcomes[1] == outcomes[0]
    return outcomes[0][0]


def _array16() -> ArrayMap:
    return ArrayMap("m", value_size=16, max_entries=4)


def test_value_pointers_kept_across_blocks_read_and_write_the_value() -> None:
    # r6 = &m[1] (+8 after a copy), then through another lookup's blocks: writes at both
    # offsets, a read back through r0 of the second lookup of the same key
    seen = _same_in_every_tier(
        _lookup(1, "missing")
        + [asm.mov(R6, R0), asm.add(R6, 8), asm.st(8, R0, 5, 0), asm.st(8, R6, 7, 0)]
        + _lookup(1, "missing")
        + [asm.ldx(8, R7, R6, 0), asm.ldx(8, R0, R0, 0), asm.add(R0, R7),
           asm.stx(8, R6, R0, -8), asm.exit(),
           asm.label("missing"), asm.mov(R0, 200), asm.exit()], _array16)
    assert seen == [12, 12]


def test_an_access_past_a_known_value_faults_as_in_the_interpreter() -> None:
    for offset, size in ((16, 1), (12, 8), (-1, 1)):
        seen = _same_in_every_tier(
            _lookup(2, "missing")
            + [asm.ldx(size, R0, R0, offset), asm.exit(),
               asm.label("missing"), asm.mov(R0, 200), asm.exit()], _array16)
        assert "outside" in str(seen[0])


def test_a_pointer_into_a_replaced_value_keeps_the_old_bytes() -> None:
    # the program replaces m[3] while holding a pointer to it: the pointer sees the old
    # value, the next lookup the new one (the kernel swaps in a new element)
    def make() -> HashMap:
        m = HashMap("m", key_size=4, value_size=8, max_entries=4)
        m[(3).to_bytes(4, "little")] = (1).to_bytes(8, "little")
        return m
    seen = _same_in_every_tier(
        _lookup(3, "missing")
        + [asm.mov(R6, R0), asm.st(8, R10, 9, -16), asm.ld_map_fd(R1, "m"),
           asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10), asm.add(R3, -16),
           asm.mov(asm.R4, 0), asm.call(UPDATE)]
        + _lookup(3, "missing")
        + [asm.ldx(8, R0, R0, 0), asm.ldx(8, R7, R6, 0), asm.lsh(R0, 8), asm.add(R0, R7),
           asm.exit(), asm.label("missing"), asm.mov(R0, 200), asm.exit()], make)
    assert seen == [9 << 8 | 1, 9 << 8 | 9]  # the second run starts from 9


def test_an_lru_map_keeps_the_interpreters_order_and_evictions() -> None:
    # 12 keys cycle through an 8-entry LRU map: a hit (cached in the llvm tier) makes a key
    # the most recent, a miss inserts it and evicts the least recent; the order of items()
    # is the recency order, so every hit must count, in order
    program = asm.link([
        asm.mov(R6, 200),
        asm.label("loop"),
        asm.mov(R7, R6), asm.mul(R7, 7), asm.mod(R7, 12), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(LOOKUP),
        asm.jeq(R0, 0, "insert"),
        asm.ldx(8, R1, R0, 0), asm.add(R1, 1), asm.stx(8, R0, R1, 0), asm.ja("next"),
        asm.label("insert"),
        asm.stx(8, R10, R6, -16), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.mov(R3, R10), asm.add(R3, -16), asm.mov(asm.R4, 0), asm.call(UPDATE),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, 0), asm.exit()])
    orders = {}
    for tier in ("interp", "python", "llvm"):
        m = LRUHashMap("m", key_size=4, value_size=8, max_entries=8)
        prog = load_unverified(program, maps={"m": m})
        prog.run(tier=tier)
        first = list(m.items())
        m.lookup(first[0][0])  # user space makes the least recent key the most recent
        prog.test_run(repeat=4, tier=tier)
        orders[tier] = (first, list(m.items()))
    assert orders["llvm"] == orders["interp"] == orders["python"]


def test_lru_hits_reorder_by_their_last_hit() -> None:
    # hits only (no callback in between): 1, 2, 1, 3, 2 leave the order 1, 3, 2
    keys = (1, 2, 1, 3, 2)
    program = asm.link([item for key in keys for item in _lookup(key, "out")]
                       + [asm.label("out"), asm.mov(R0, 0), asm.exit()])
    for tier in ("interp", "llvm"):
        m = LRUHashMap("m", key_size=4, value_size=8, max_entries=8)
        for key in (1, 2, 3):
            m[key] = 0
        prog = load_unverified(program, maps={"m": m})
        # the native repeat keeps the cache: the second run's lookups are all hits
        prog.test_run(repeat=2, tier=tier)
        assert [int.from_bytes(k, "little") for k in m] == [1, 3, 2], tier


@pytest.mark.parametrize("make_map", [
    lambda: HashMap("m", key_size=4, value_size=8, max_entries=8),
    lambda: PercpuHashMap("m", key_size=4, value_size=8, max_entries=8, ncpus=2),
    lambda: LRUHashMap("m", key_size=4, value_size=8, max_entries=4)])
def test_a_missing_key_is_found_once_the_program_or_user_space_inserts_it(make_map) -> None:  # type: ignore[no-untyped-def]
    # keys 0-5 looked up 30 times (misses cached as NULL), key 3 inserted by the program
    # half way through; user space inserts key 5 between runs; an LRU map evicts
    program = asm.link([
        asm.mov(R6, 30), asm.mov(R7, 0),
        asm.label("loop"),
        asm.mov(R1, R6), asm.mod(R1, 6), asm.stx(4, R10, R1, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(LOOKUP),
        asm.jeq(R0, 0, "absent"), asm.ldx(8, R1, R0, 0), asm.add(R7, R1), asm.add(R7, 1000),
        asm.label("absent"),
        asm.jne(R6, 15, "next"),
        asm.st(4, R10, 3, -4), asm.st(8, R10, 7, -16), asm.ld_map_fd(R1, "m"),
        asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10), asm.add(R3, -16),
        asm.mov(asm.R4, 0), asm.call(UPDATE),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R7), asm.exit()])
    seen = {}
    for tier in ("interp", "python", "llvm"):
        m = make_map()
        m[1] = 2
        prog = load_unverified(program, maps={"m": m})
        r0s = [prog.run(tier=tier).r0]
        m[5] = 9
        r0s += [prog.run(tier=tier).r0, prog.test_run(repeat=3, tier=tier).retval]
        seen[tier] = (r0s, list(m.items()))
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert len(set(seen["llvm"][0])) == 2  # key 5 counts from the second run on
