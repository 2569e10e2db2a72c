"""The llvm tier indexes array and per-CPU array maps directly (a table per map of the value
addresses this run handed out): the program sees the same value addresses, NULLs, faults
and map contents as in the interpreter, and counts as the kernel's JIT does."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R6, R7, R8, R9, R10
from pybpf.spec import MapSpec, MapType, ProgramSpec, ProgramType
from pybpf.vm import ArrayMap, HashMap, MemoryAccessError, PercpuArrayMap
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP = int(HelperID["MAP_LOOKUP_ELEM"])
PACKET = bytes(64)


def _lookup(key: int, into: object, miss: str, m: str = "m") -> list[object]:
    """``into`` = lookup(m, key) (the key at r10 - 4); to ``miss`` when NULL."""
    return [asm.st(4, R10, key, -4), asm.ld_map_fd(R1, m), asm.mov(R2, R10), asm.add(R2, -4),
            asm.call(LOOKUP), asm.jeq(R0, 0, miss), asm.mov(into, R0)]


def _outcomes(program: list[object], make_maps, runs: int = 2) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Per tier: r0 (or the error) of ``runs`` runs and a test_run(repeat=3), and the maps'
    contents after them."""
    seen = {}
    for tier in ("interp", "python", "llvm"):
        maps = make_maps()
        prog = load_unverified(asm.link(program), maps=maps, type=ProgramType.SOCKET_FILTER)
        results: list[object] = []
        for _ in range(runs):
            try:
                results.append(prog.run(tier=tier).r0)
            except MemoryAccessError as err:
                results.append(str(err))
        try:
            results.append(prog.test_run(PACKET, repeat=3, tier=tier).retval)
        except MemoryAccessError as err:
            results.append(str(err))
        seen[tier] = (results, {name: sorted(m.items()) for name, m in maps.items()})
    return seen


def _array(entries: int = 4) -> dict[str, object]:
    return {"m": ArrayMap("m", value_size=8, max_entries=entries)}


def test_value_addresses_are_handed_out_in_the_interpreters_order() -> None:
    # keys 2, 0, 2, 1: the second lookup of 2 gives the first's address; r0 mixes the
    # three addresses so that any other order or reuse shows
    program = (_lookup(2, R6, "miss") + _lookup(0, R7, "miss") + _lookup(2, R8, "miss")
               + [asm.sub(R8, R6)] + _lookup(1, R0, "miss")
               + [asm.sub(R0, R7), asm.lsh(R7, 3), asm.xor(R0, R7), asm.add(R0, R8),
                  asm.xor(R0, R6), asm.exit(), asm.label("miss"), asm.mov(R0, 99),
                  asm.exit()])
    seen = _outcomes(program, _array)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert 99 not in seen["llvm"][0]


@pytest.mark.parametrize("make_maps", [
    _array, lambda: {"m": PercpuArrayMap("m", value_size=8, max_entries=4, ncpus=2)}])
def test_a_key_past_the_end_is_null_from_the_frame_and_from_a_value(make_maps) -> None:  # type: ignore[no-untyped-def]
    # m[3] holds 4 (past the end), then that value itself is the key of the next lookup
    program = (_lookup(3, R6, "miss")
               + [asm.st(8, R6, 4, 0)]
               + _lookup(4, R7, "null")  # from the frame: NULL
               + [asm.mov(R0, 1), asm.exit(), asm.label("null"),
                  asm.ld_map_fd(R1, "m"), asm.mov(R2, R6), asm.call(LOOKUP),  # key in m[3]
                  asm.jeq(R0, 0, "null2"), asm.mov(R0, 2), asm.exit(),
                  asm.label("null2"), asm.st(8, R6, 1, 0),  # now key 1: found
                  asm.ld_map_fd(R1, "m"), asm.mov(R2, R6), asm.call(LOOKUP),
                  asm.jeq(R0, 0, "miss"), asm.ldx(8, R7, R0, 0), asm.add(R7, 5),
                  asm.stx(8, R0, R7, 0), asm.mov(R0, 3), asm.exit(),
                  asm.label("miss"), asm.mov(R0, 99), asm.exit()])
    seen = _outcomes(program, make_maps)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert seen["llvm"][0] == [3, 3, 3]


def test_a_stray_key_pointer_faults_as_in_the_interpreter() -> None:
    program = [asm.ld_map_fd(R1, "m"), asm.mov(R2, 0x1234), asm.call(LOOKUP), asm.exit()]
    seen = _outcomes(program, _array)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert "0x1234" in str(seen["llvm"][0][0])


def test_writes_through_direct_values_reach_the_map_and_user_space_changes_are_seen() -> None:
    m = ArrayMap("m", value_size=8, max_entries=4)
    program = asm.link(_lookup(1, R6, "miss") + [
        asm.ldx(8, R0, R6, 0), asm.add(R0, 1), asm.stx(8, R6, R0, 0), asm.exit(),
        asm.label("miss"), asm.mov(R0, 99), asm.exit()])
    prog = load_unverified(program, maps={"m": m})
    assert prog.run(tier="llvm").r0 == 1
    m[1] = 40  # between runs, from Python
    assert prog.run(tier="llvm").r0 == 41
    assert m[1] == (41).to_bytes(8, "little")


def _counter_loop(turns: int, keys: int) -> list[asm.Instruction]:
    """m[i % keys] += i for i = turns..1 (the bench's counter)."""
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


@pytest.mark.kernel
@pytest.mark.parametrize("kind", ["ARRAY", "PERCPU_ARRAY"])
def test_counter_loops_leave_the_kernels_counts(kind: str) -> None:
    # 20 keys over a 16-entry map: 4 of them NULL every time; per-CPU values summed
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program

    program = _counter_loop(500, 20)
    spec = ProgramSpec("direct", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=program, license="GPL")

    def counts(items) -> list[int]:  # type: ignore[no-untyped-def]
        return [sum(int.from_bytes(v, "little") for v in value)
                if isinstance(value, list) else int.from_bytes(value, "little")
                for _, value in sorted(items)]

    with Map.create(MapSpec("m", MapType[kind], key_size=4, value_size=8,
                            max_entries=16)) as m, \
            Program.load(spec, maps={"m": m}) as prog:
        prog.test_run(PACKET, repeat=10)
        kernel = counts(m.items())
    vm_map = (ArrayMap("m", value_size=8, max_entries=16) if kind == "ARRAY"
              else PercpuArrayMap("m", value_size=8, max_entries=16, ncpus=2))
    vm_prog = load_unverified(program, maps={"m": vm_map}, type=ProgramType.SOCKET_FILTER,
                              tier="llvm")
    vm_prog.test_run(PACKET, repeat=4, cpu=1)
    vm_prog.test_run(PACKET, repeat=6, cpu=0)
    assert counts(vm_map.items()) == kernel
    assert kernel[1] == 10 * sum(range(1, 501, 20))


def test_values_mapped_natively_and_by_helpers_share_the_interpreters_addresses(
        python_helper_calls: list[int]) -> None:
    # native code maps m[0], the percpu_elem helper maps m[2] of CPU 0 and a hash lookup a
    # value of h, then native lookups of m[2] (the helper's region again) and m[3] (the next
    # key): r0 mixes every address, so a value mapped twice or out of order shows
    percpu_elem = int(HelperID["MAP_LOOKUP_PERCPU_ELEM"])
    program = (_lookup(0, R6, "miss")
               + [asm.st(4, R10, 2, -4), asm.ld_map_fd(R1, "m"), asm.mov(R2, R10),
                  asm.add(R2, -4), asm.mov(R3, 0), asm.call(percpu_elem),
                  asm.jeq(R0, 0, "miss"), asm.mov(R7, R0)]
               + _lookup(5, R8, "miss", m="h")
               + _lookup(2, R9, "miss") + [asm.sub(R9, R7), asm.lsh(R9, 48)]
               + _lookup(3, R0, "miss")
               + [asm.sub(R0, R6), asm.xor(R0, R9), asm.sub(R8, R6), asm.lsh(R8, 8),
                  asm.xor(R0, R8), asm.exit(), asm.label("miss"), asm.mov(R0, 99),
                  asm.exit()])

    def make_maps() -> dict[str, object]:
        h = HashMap("h", key_size=4, value_size=8, max_entries=8)
        h[5] = 7
        return {"m": PercpuArrayMap("m", value_size=8, max_entries=4, ncpus=2), "h": h}

    seen = _outcomes(program, make_maps)
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert 99 not in seen["llvm"][0]
    assert seen["llvm"][0][0] >> 48 == 0  # m[2] natively: the percpu_elem helper's address


@pytest.mark.parametrize("entries", [1500, 5000])
def test_many_values_map_as_in_the_interpreter(entries: int,
                                               python_helper_calls: list[int]) -> None:
    # every key of the map once, r0 the sum of the value addresses: 1500 fill the native
    # mapping log (1024) and go on; 5000 is past what native code maps itself (the helper)
    program = asm.link([
        asm.mov(R6, entries), asm.mov(R8, 0),
        asm.label("loop"),
        asm.mov(R7, R6), asm.sub(R7, 1), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(LOOKUP), asm.jeq(R0, 0, "next"),
        asm.add(R8, R0), asm.ldx(8, R1, R0, 0), asm.add(R1, R6), asm.stx(8, R0, R1, 0),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])
    results = {}
    for tier in ("interp", "llvm"):
        m = ArrayMap("m", value_size=8, max_entries=entries)
        prog = load_unverified(program, maps={"m": m})
        python_helper_calls.clear()
        results[tier] = (prog.run(tier=tier).r0, prog.run(tier=tier).r0, list(m.items()))
    assert results["llvm"] == results["interp"]
    if entries == 1500:  # only when the log is full: once per run
        assert 0 < len(python_helper_calls) <= 2, len(python_helper_calls)
    else:
        assert len(python_helper_calls) == 2 * entries


def test_values_of_two_arrays_map_in_the_interpreters_order() -> None:
    # n[1], m[2], n[3], m[1] mapped natively from two tables (the runner finds each
    # logged entry's table when it adds them to the run's memory): r0 mixes the addresses
    program = (_lookup(1, R6, "miss", m="n") + _lookup(2, R7, "miss") + [asm.sub(R7, R6)]
               + _lookup(3, R8, "miss", m="n") + [asm.sub(R8, R6), asm.lsh(R8, 16),
                                                   asm.xor(R7, R8)]
               + _lookup(1, R0, "miss") + [asm.sub(R0, R6), asm.lsh(R0, 32),
                                           asm.xor(R0, R7), asm.exit(),
                                           asm.label("miss"), asm.mov(R0, 99), asm.exit()])
    seen = _outcomes(program, lambda: {"m": ArrayMap("m", value_size=8, max_entries=4),
                                       "n": ArrayMap("n", value_size=16, max_entries=8)})
    assert seen["llvm"] == seen["interp"] == seen["python"]
    assert 99 not in seen["llvm"][0]
