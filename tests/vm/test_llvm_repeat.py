"""test_run(repeat=N) in the llvm tier loops in native code (CompiledProgram.run_repeat):
the runs leave the maps, the packet and r0 as the reference interpreter's N runs do, and as
the kernel's BPF_PROG_TEST_RUN does; a run that faults stops the loop with the same error."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R10
from pybpf.spec import MapSpec, MapType, ProgramSpec, ProgramType
from pybpf.vm import ArrayMap, HashMap, MemoryAccessError
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

LOOKUP, UPDATE = int(HelperID["MAP_LOOKUP_ELEM"]), int(HelperID["MAP_UPDATE_ELEM"])
PACKET = bytes(range(64))
REPEAT = 100


def _counters(tail: list[object]) -> list[asm.Instruction]:
    """arr[3] += 7 (a cached lookup), then hash[9] = 1 or += 1 (lookup, else update),
    then ``tail``."""
    return asm.link([
        asm.mov(R6, R1),
        asm.st(4, R10, 3, -4), asm.ld_map_fd(R1, "arr"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(LOOKUP), asm.jeq(R0, 0, "hash"),
        asm.ldx(8, R1, R0, 0), asm.add(R1, 7), asm.stx(8, R0, R1, 0),
        asm.label("hash"),
        asm.st(4, R10, 9, -8), asm.ld_map_fd(R1, "hash"), asm.mov(R2, R10), asm.add(R2, -8),
        asm.call(LOOKUP), asm.jeq(R0, 0, "insert"),
        asm.ldx(8, R1, R0, 0), asm.add(R1, 1), asm.stx(8, R0, R1, 0), asm.ja("tail"),
        asm.label("insert"),
        asm.st(8, R10, 1, -16), asm.ld_map_fd(R1, "hash"), asm.mov(R2, R10),
        asm.add(R2, -8), asm.mov(R3, R10), asm.add(R3, -16), asm.mov(R4, 0),
        asm.call(UPDATE),
        asm.label("tail"), *tail])


def _vm_maps() -> dict[str, object]:
    return {"arr": ArrayMap("arr", value_size=8, max_entries=4),
            "hash": HashMap("hash", key_size=4, value_size=8, max_entries=4)}


def _vm_runs(program: list[asm.Instruction], tier: str, repeat: int = REPEAT
             ) -> tuple[int, dict[str, list[tuple[bytes, bytes]]]]:
    maps = _vm_maps()
    prog = load_unverified(program, maps=maps, type=ProgramType.SOCKET_FILTER, tier=tier)
    result = prog.test_run(PACKET, repeat=repeat)
    return result.retval, {name: sorted(m.items()) for name, m in maps.items()}


def test_native_repeat_is_used_and_counts_as_the_interpreter() -> None:
    program = _counters([asm.ld_abs(1, 5), asm.exit()])
    prog = load_unverified(program, maps=_vm_maps(), tier="llvm")
    prog.run()
    assert prog._compiled["llvm"].repeatable  # type: ignore[attr-defined]
    for repeat in (2, REPEAT):
        assert _vm_runs(program, "llvm", repeat) == _vm_runs(program, "interp", repeat)
    retval, maps = _vm_runs(program, "llvm")
    assert retval == PACKET[14 + 5]  # a socket filter's LD_ABS starts past Ethernet
    assert maps["arr"][3] == ((3).to_bytes(4, "little"), (7 * REPEAT).to_bytes(8, "little"))
    assert maps["hash"] == [((9).to_bytes(4, "little"), REPEAT.to_bytes(8, "little"))]


def test_a_run_ended_by_ld_abs_past_the_packet_lets_the_next_runs_go_on() -> None:
    # LD_ABS out of bounds ends a run with r0 = 0; the other runs still count
    program = _counters([asm.ld_abs(4, 1000), asm.mov(R0, 1), asm.exit()])
    assert _vm_runs(program, "llvm") == _vm_runs(program, "interp")
    assert _vm_runs(program, "llvm")[1]["hash"][0][1] == REPEAT.to_bytes(8, "little")


def test_a_fault_stops_the_native_loop_with_the_interpreters_error() -> None:
    program = _counters([asm.mov(R1, 0), asm.ldx(8, R0, R1, 0), asm.exit()])
    errors = {}
    for tier in ("interp", "llvm"):
        maps = _vm_maps()
        prog = load_unverified(program, maps=maps, type=ProgramType.SOCKET_FILTER, tier=tier)
        with pytest.raises(MemoryAccessError) as caught:
            prog.test_run(PACKET, repeat=REPEAT)
        errors[tier] = (str(caught.value), sorted(maps["hash"].items()))
    assert errors["llvm"] == errors["interp"]
    assert errors["llvm"][1][0][1] == (1).to_bytes(8, "little")  # the first run only


@pytest.mark.kernel
def test_repeated_runs_leave_the_maps_as_the_kernels_test_run() -> None:
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program

    program = _counters([asm.ld_abs(1, 5), asm.exit()])
    spec = ProgramSpec("repeat", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=program, license="GPL")
    with Map.create(MapSpec("arr", MapType.ARRAY, key_size=4, value_size=8,
                            max_entries=4)) as arr, \
            Map.create(MapSpec("hash", MapType.HASH, key_size=4, value_size=8,
                               max_entries=4)) as hash_map, \
            Program.load(spec, maps={"arr": arr, "hash": hash_map}) as prog:
        retval = prog.test_run(PACKET, repeat=REPEAT).retval
        kernel = {"arr": sorted(arr.items()), "hash": sorted(hash_map.items())}
    assert _vm_runs(program, "llvm") == (retval, kernel)


@pytest.mark.kernel
def test_per_cpu_counters_sum_as_the_kernels() -> None:
    # the kernel counts on whichever CPU ran the test: per-CPU values are compared summed
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program
    from pybpf.vm import PercpuArrayMap

    program = asm.link([
        asm.st(4, R10, 2, -4), asm.ld_map_fd(R1, "arr"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(LOOKUP), asm.jeq(R0, 0, "out"),
        asm.ldx(8, R1, R0, 0), asm.add(R1, 7), asm.stx(8, R0, R1, 0),
        asm.label("out"), asm.mov(R0, 0), asm.exit()])
    spec = ProgramSpec("percpu", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=program, license="GPL")
    with Map.create(MapSpec("arr", MapType.PERCPU_ARRAY, key_size=4, value_size=8,
                            max_entries=4)) as arr, \
            Program.load(spec, maps={"arr": arr}) as prog:
        prog.test_run(PACKET, repeat=REPEAT)
        kernel = [sum(int.from_bytes(v, "little") for v in values)
                  for _, values in sorted(arr.items())]
    vm_map = PercpuArrayMap("arr", value_size=8, max_entries=4, ncpus=4)
    vm_prog = load_unverified(program, maps={"arr": vm_map}, type=ProgramType.SOCKET_FILTER,
                              tier="llvm")
    vm_prog.test_run(PACKET, repeat=REPEAT, cpu=1)
    assert [sum(int.from_bytes(v, "little") for v in values)
            for _, values in sorted(vm_map.items())] == kernel == [0, 0, 7 * REPEAT, 0]
    assert vm_map[2][1] == (7 * REPEAT).to_bytes(8, "little")  # all on CPU 1
