"""The llvm tier's native index of hash and per-CPU hash maps the program only reads: a
lookup the cache misses is answered natively (NULL for an absent key, the value mapped at
the address the helper would give), and the program sees the same addresses, NULLs and
values as in the interpreter however the map changes: from Python between runs, through
a helper during the run, on another CPU."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R7, R8, R9, R10
from pybpf.spec import ProgramType
from pybpf.vm import HashMap, LRUHashMap, PercpuHashMap
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP = int(HelperID["MAP_LOOKUP_ELEM"])
UPDATE = int(HelperID["MAP_UPDATE_ELEM"])
DELETE = int(HelperID["MAP_DELETE_ELEM"])
PACKET = bytes(64)
TIERS = ("interp", "python", "llvm")


def _lookup(key: int, into: object, m: str = "m") -> list[object]:
    """``into`` = lookup(m, key), the key at r10 - 4 (NULL stays in ``into``)."""
    return [asm.st(4, R10, key, -4), asm.ld_map_fd(R1, m), asm.mov(R2, R10), asm.add(R2, -4),
            asm.call(LOOKUP), asm.mov(into, R0)]


def _hash(keys: dict[int, int], kind: type = HashMap, entries: int = 8) -> HashMap:
    m = kind("m", key_size=4, value_size=8, max_entries=entries)
    for key, value in keys.items():
        m[key] = value
    return m


def _runs(program: list[object], make_maps, between=None, cpus=(0, 0)):  # type: ignore[no-untyped-def]
    """Per tier: r0 of two runs (``between(maps)`` after the first) and a test_run of 3
    repeats on each CPU of ``cpus``, and the maps' contents."""
    seen = {}
    for tier in TIERS:
        maps = make_maps()
        prog = load_unverified(asm.link(program), maps=maps, type=ProgramType.SOCKET_FILTER)
        results = [prog.run(tier=tier).r0]
        if between is not None:
            between(maps)
        results.append(prog.run(tier=tier).r0)
        results += [prog.test_run(PACKET, repeat=3, tier=tier, cpu=cpu).retval
                    for cpu in cpus]
        seen[tier] = (results, {name: sorted(m.items()) for name, m in maps.items()})
    return seen


def _mix(program: list[object]) -> list[object]:
    """r0 = r6 ^ r7 << 8 ^ r8 << 16 ^ r9 << 24 (each an address, NULL or a difference)."""
    return program + [asm.mov(R0, R6), asm.lsh(R7, 8), asm.xor(R0, R7), asm.lsh(R8, 16),
                      asm.xor(R0, R8), asm.lsh(R9, 24), asm.xor(R0, R9), asm.exit()]


def test_lookups_give_the_interpreters_addresses_and_nulls(
        python_helper_calls: list[int]) -> None:
    # m[3], absent 2, an LRU map's value (indexed too), m[5], m[3] again
    program = _mix(_lookup(3, R6) + _lookup(2, R7) + _lookup(1, R8, m="lru")
                   + [asm.sub(R8, R6)] + _lookup(5, R9) + [asm.sub(R9, R6)]
                   + _lookup(3, R1) + [asm.sub(R1, R6), asm.add(R7, R1)])

    def make_maps() -> dict[str, object]:
        return {"m": _hash({1: 10, 3: 30, 5: 50}), "lru": _hash({1: 1}, LRUHashMap)}

    python_helper_calls.clear()
    seen = _runs(program, make_maps)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert seen["llvm"][0][0] & 0xFF00 == 0  # the key absent: NULL
    assert python_helper_calls == []  # every lookup answered natively


def test_changes_from_python_between_runs_are_seen() -> None:
    # the value of m[3] and whether m[4] is there
    program = _lookup(3, R6) + _lookup(4, R7) + [
        asm.mov(R0, 0), asm.jeq(R6, 0, "no3"), asm.ldx(8, R0, R6, 0), asm.label("no3"),
        asm.jeq(R7, 0, "no4"), asm.ldx(8, R1, R7, 0), asm.lsh(R1, 16), asm.add(R0, R1),
        asm.label("no4"), asm.exit()]

    def between(maps: dict[str, HashMap]) -> None:
        maps["m"][3] = 33
        maps["m"][4] = 44

    seen = _runs(program, lambda: {"m": _hash({3: 30})}, between)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert seen["llvm"][0][:2] == [30, 33 + (44 << 16)]


@pytest.mark.parametrize("kind", [HashMap, PercpuHashMap])
def test_helper_writes_during_the_run_are_seen(kind: type) -> None:
    # the map's pointer comes from r6, so its updates are helper calls: lookup m[3], then
    # update m[3] (a new value), delete m[5], insert m[7]; look all three up again
    value = [asm.st(8, R10, 99, -16)]
    update = [asm.mov(R1, R9), asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10),
              asm.add(R3, -16), asm.mov(R4, 0), asm.call(UPDATE)]
    program = _mix([asm.ld_map_fd(R9, "m")] + _lookup(3, R6) + value + update
                   + [asm.st(4, R10, 5, -4), asm.mov(R1, R9), asm.mov(R2, R10),
                      asm.add(R2, -4), asm.call(DELETE), asm.st(4, R10, 7, -4)]
                   + update + _lookup(3, R7) + [asm.sub(R7, R6)] + _lookup(5, R8)
                   + _lookup(7, R1) + [asm.jeq(R1, 0, "gone"), asm.ldx(8, R1, R1, 0),
                                       asm.label("gone"), asm.mov(R9, R1)])
    seen = _runs(program, lambda: {"m": _hash({3: 30, 5: 50}, kind)},
                 cpus=(1, 0) if kind is PercpuHashMap else (0, 0))
    assert seen["llvm"] == seen["interp"] == seen["python"]


def test_per_cpu_values_follow_the_runs_cpu() -> None:
    program = _lookup(3, R6) + [asm.jeq(R6, 0, "miss"), asm.ldx(8, R0, R6, 0),
                                asm.add(R0, 1), asm.stx(8, R6, R0, 0), asm.exit(),
                                asm.label("miss"), asm.mov(R0, 99), asm.exit()]

    def make_maps() -> dict[str, object]:
        m = PercpuHashMap("m", key_size=4, value_size=8, max_entries=8, ncpus=2)
        m[3] = [10, 20]
        return {"m": m}

    seen = _runs(program, make_maps, cpus=(1, 0, 1))
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert seen["llvm"][0] == [11, 12, 23, 15, 26]  # two runs on CPU 0, then 3 per test_run


def test_a_value_the_helper_mapped_keeps_its_address() -> None:
    # the key of the first lookup of m[3] is in a map value (not the frame: the helper
    # answers and maps the value), then an update of the LRU map empties the lookup
    # cache, and the second lookup's key is in the frame (the index answers)
    program = _mix(_lookup(1, R8, m="keys") + [
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R8), asm.call(LOOKUP), asm.mov(R6, R0),
        asm.st(4, R10, 2, -4), asm.ld_map_fd(R1, "keys"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.mov(R3, R10), asm.add(R3, -4), asm.mov(R4, 0), asm.call(UPDATE)]
        + _lookup(3, R7) + [asm.jeq(R6, 0, "null"), asm.sub(R7, R6), asm.mov(R6, 0),
                            asm.mov(R8, 0), asm.mov(R9, 0), asm.ja("out"), asm.label("null"),
                            asm.mov(R0, 99), asm.exit(), asm.label("out")])

    def make_maps() -> dict[str, object]:
        keys = LRUHashMap("keys", key_size=4, value_size=4, max_entries=2)
        keys[1] = 3
        return {"m": _hash({3: 30}), "keys": keys}

    seen = _runs(program, make_maps)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert seen["llvm"][0] == [0, 0, 0, 0]  # both lookups gave the same address


def test_a_larger_map_is_indexed_once_it_goes_a_run_unchanged(
        python_helper_calls: list[int]) -> None:
    # 100 keys: the sum of their value addresses and values. After the second run two
    # changes from Python (the index follows them), after the third 100 (more than the map
    # keeps: the fourth run goes to the helper, the fifth is native again)
    program = asm.link([
        asm.mov(R6, 101), asm.mov(R8, 0),
        asm.label("loop"),
        asm.stx(4, R10, R6, -4), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(LOOKUP), asm.jeq(R0, 0, "next"),
        asm.add(R8, R0), asm.ldx(8, R1, R0, 0), asm.add(R8, R1),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])
    seen, calls = {}, []
    for tier in ("interp", "llvm"):
        m = HashMap("m", key_size=4, value_size=8, max_entries=128)
        for key in range(1, 101, 1):
            m[key] = key
        prog = load_unverified(program, maps={"m": m})
        results = []
        for run in range(5):
            python_helper_calls.clear()
            results.append(prog.run(tier=tier).r0)
            calls.append(len(python_helper_calls))
            if run == 1:
                del m[50]
                m[101] = 5
            if run == 2:
                for key in range(1, 101):
                    m[key] = key + 1
        seen[tier] = (results, sorted(m.items()))
    assert seen["llvm"] == seen["interp"]
    assert calls[5:] == [101, 0, 0, 101, 0]


def test_a_null_from_the_index_faults_as_in_the_interpreter() -> None:
    from pybpf.vm import MemoryAccessError
    program = asm.link(_lookup(2, R6) + [asm.ldx(8, R0, R6, 0), asm.exit()])
    errors = {}
    for tier in TIERS:
        prog = load_unverified(program, maps={"m": _hash({1: 10})})
        with pytest.raises(MemoryAccessError) as err:
            prog.run(tier=tier)
        errors[tier] = str(err.value)
    assert errors["llvm"] == errors["interp"] == errors["python"]


def test_lru_lookups_from_the_index_order_evictions_as_in_the_interpreter(
        python_helper_calls: list[int]) -> None:
    # keys 1-4 inserted in order; the program looks up 1 and 3 (now the most recent),
    # inserts 5 (evicting the least recently used, 2) and looks up 2, 4 and 5
    insert = [asm.st(4, R10, 5, -4), asm.st(8, R10, 55, -16), asm.ld_map_fd(R1, "m"),
              asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10), asm.add(R3, -16),
              asm.mov(R4, 0), asm.call(UPDATE)]
    program = _mix(_lookup(1, R6) + _lookup(3, R7) + [asm.sub(R7, R6)] + insert
                   + _lookup(2, R8) + _lookup(4, R9) + [asm.sub(R9, R6)] + _lookup(5, R1)
                   + [asm.jeq(R1, 0, "gone"), asm.ldx(8, R1, R1, 0), asm.label("gone"),
                      asm.add(R8, R1)])
    seen = _runs(program, lambda: {"m": _hash({1: 10, 2: 20, 3: 30, 4: 40}, LRUHashMap, 4)})
    assert seen["llvm"] == seen["interp"] == seen["python"]
    calls = len(python_helper_calls)
    python_helper_calls.clear()
    m = _hash({1: 10, 2: 20, 3: 30, 4: 40}, LRUHashMap, 4)
    prog = load_unverified(asm.link(program), maps={"m": m})
    prog.run(tier="llvm")
    # only the update calls back: the index follows the eviction and the insert
    assert len(python_helper_calls) == 1, (calls, python_helper_calls)
    assert sorted(int.from_bytes(k, "little") for k in m) == [1, 3, 4, 5]


def _write_mix(turns: int) -> list[asm.Instruction]:
    """For i = turns..1: update key i % 12 with flags i % 3 (ANY, NOEXIST, EXIST) and
    value i, and every 4th turn delete key 7i % 12; r0 sums every answer (0 or -errno:
    EEXIST, ENOENT, E2BIG in a map of 8) and the turn it came in."""
    return asm.link([
        asm.mov(R6, turns), asm.mov(R8, 0),
        asm.label("loop"),
        asm.mov(R7, R6), asm.mod(R7, 12), asm.stx(4, R10, R7, -4), asm.stx(8, R10, R6, -16),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10),
        asm.add(R3, -16), asm.mov(R4, R6), asm.mod(R4, 3), asm.call(UPDATE),
        asm.mul(R0, R6), asm.add(R8, R0),
        asm.mov(R7, R6), asm.and_(R7, 3), asm.jne(R7, 0, "next"),
        asm.mov(R7, R6), asm.mul(R7, 7), asm.mod(R7, 12), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(DELETE),
        asm.mul(R0, R6), asm.add(R8, R0),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])


def test_first_writes_are_native_with_the_interpreters_answers_and_order(
        python_helper_calls: list[int]) -> None:
    # new keys, deletes, refused flags and a full map, over runs and a test_run's repeats:
    # the same answers and the same map, in the same order (the index tells native code
    # whether a key the cache has not seen is there)
    program = _write_mix(60)
    seen = {}
    for tier in ("interp", "llvm"):
        m = _hash({1: 1, 5: 5, 9: 9})
        prog = load_unverified(program, maps={"m": m}, type=ProgramType.SOCKET_FILTER)
        python_helper_calls.clear()
        results = [prog.run(tier=tier).r0, prog.run(tier=tier).r0]
        m[11] = 11  # between runs, from Python
        del m[1]
        results.append(prog.test_run(PACKET, repeat=3, tier=tier).retval)
        seen[tier] = (results, list(m.items()))
    assert seen["llvm"] == seen["interp"]
    # the first store of each run (the pool of spare values is empty) and the refills
    assert len(python_helper_calls) <= 6, python_helper_calls


@pytest.mark.kernel
def test_first_writes_answer_as_the_kernel() -> None:
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program
    from pybpf.spec import MapSpec, MapType, ProgramSpec

    program = _write_mix(60)
    spec = ProgramSpec("writes", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=program, license="GPL")
    with Map.create(MapSpec("m", MapType.HASH, key_size=4, value_size=8,
                            max_entries=8)) as m, \
            Program.load(spec, maps={"m": m}) as prog:
        for key in (1, 5, 9):
            m[key] = key
        kernel = [prog.test_run(PACKET).retval, prog.test_run(PACKET).retval]
        kernel_items = sorted(m.items())
    vm_map = _hash({1: 1, 5: 5, 9: 9})
    vm_prog = load_unverified(program, maps={"m": vm_map}, type=ProgramType.SOCKET_FILTER,
                              tier="llvm")
    vm = [vm_prog.test_run(PACKET).retval, vm_prog.test_run(PACKET).retval]
    assert vm == kernel
    assert sorted(vm_map.items()) == kernel_items
