"""The llvm tier (native code through llvmlite) against the reference interpreter: random
programs, its mechanics (one function per eBPF function, checked memory, budget, call
depth, callbacks) and a clean error without llvmlite. The instruction-level modules also run
in this tier (see conftest.vm_tier)."""

from __future__ import annotations

import random

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R6, R10
from pybpf.vm import (
    ArrayMap,
    BudgetExceededError,
    CallDepthError,
    MemoryAccessError,
    ProgramLoadError,
)
from pybpf.vm.helpers import CLOBBERED, HelperID
from tests.vm.unverified import load_unverified

from .program_generator import random_program

llvmlite = pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")


def test_random_programs_agree_in_all_tiers() -> None:
    rng = random.Random(4242)
    for _ in range(60):
        prog = load_unverified(random_program(rng, length=rng.randint(4, 40)))
        reference = prog.run(tier="interp")
        for tier in ("python", "llvm"):
            got = prog.run(tier=tier)
            assert (got.r0, got.insns) == (reference.r0, reference.insns), tier


def test_random_memory_programs_agree_in_all_tiers() -> None:
    """Loads and stores of every size through r1 and the stack, then a fold of them."""
    rng = random.Random(99)
    memory = bytes(rng.randrange(256) for _ in range(64))
    for _ in range(20):
        items: list[object] = [asm.mov(R6, R1)]
        for _ in range(12):
            size = rng.choice([1, 2, 4, 8])
            off = rng.randrange(0, 64 - size + 1)
            kind = rng.random()
            if kind < 0.4:
                items += [asm.ldx(size, R2, R6, off), asm.add(R0, R2), asm.mul(R0, 31)]
            elif kind < 0.7:
                items.append(asm.stx(size, R6, R0, off))
            else:
                items += [asm.stx(size, R10, R0, -size - 8 * rng.randrange(8)),
                          asm.ldx(size, R3, R10, -size - 8 * rng.randrange(8)),
                          asm.xor(R0, R3)]
        items.append(asm.exit())
        prog = load_unverified(asm.link([asm.mov(R0, 1), asm.mov(R3, 0)] + [
            asm.stx(8, R10, R3, -8 * (k + 1)) for k in range(8)] + items))
        reference = prog.run(memory, tier="interp")
        assert prog.run(memory, tier="llvm") == reference


def test_one_native_function_per_ebpf_function() -> None:
    prog = load_unverified(asm.link([asm.mov(R1, 3), asm.call_func("double"), asm.exit(),
                          asm.label("double"), asm.mov(R0, R1), asm.add(R0, R1), asm.exit()]))
    from pybpf.vm.llvmtier import compile_program
    ir = compile_program(prog).ir
    assert "define i64 @f0(" in ir and "define i64 @f3(" in ir
    assert prog.run(tier="llvm").r0 == 6


def test_faults_name_the_instruction_and_region() -> None:
    prog = load_unverified(asm.link([asm.mov(R0, 0), asm.ldx(4, R0, R1, 6), asm.exit()]))
    with pytest.raises(MemoryAccessError, match="instruction 1: read of 4 bytes") as info:
        prog.run(b"12345678", tier="llvm")
    assert info.value.region == "memory"
    store = load_unverified(asm.link([asm.mov(R0, 0), asm.stx(8, R1, R0, -8), asm.exit()]))
    with pytest.raises(MemoryAccessError, match="write of 8 bytes"):
        store.run(b"12345678", tier="llvm")


def test_map_values_are_written_natively_and_seen_by_python() -> None:
    counts = ArrayMap("counts", value_size=8, max_entries=4)
    prog = load_unverified(asm.link([
        asm.st(4, R10, 2, -4), asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10),
        asm.add(R2, -4), asm.call(HelperID.MAP_LOOKUP_ELEM), asm.jeq(R0, 0, "out"),
        asm.st(8, R0, 0x1234, 0), asm.ldx(8, R1, R0, 0), asm.add(R1, 1),
        asm.stx(8, R0, R1, 0), asm.ldx(8, R0, R0, 8),  # one past the value: faults
        asm.label("out"), asm.exit()]), maps={"counts": counts})
    with pytest.raises(MemoryAccessError, match="value of map counts"):
        prog.run(tier="llvm")
    assert counts[2] == (0x1235).to_bytes(8, "little")  # written before the fault


def test_budget_and_call_depth_stop_native_code() -> None:
    spin = load_unverified(asm.link([asm.label("spin"), asm.ja("spin")]))
    with pytest.raises(BudgetExceededError):
        spin.run(tier="llvm", budget=10_000)
    recurse = load_unverified(asm.link([asm.call_func("f"), asm.exit(),
                             asm.label("f"), asm.call_func("f"), asm.exit()]))
    with pytest.raises(CallDepthError):
        recurse.run(tier="llvm")


def test_a_budget_short_of_a_loop_free_program_stops_it_as_in_the_interpreter() -> None:
    # loop-free programs run without budget checks when the budget covers every instruction:
    # any smaller budget takes the checked code, which must stop the runs the interpreter
    # stops, at the same instruction (the checked code counts one instruction at a time)
    rng = random.Random(77)

    def outcome(prog, tier: str, budget: int) -> object:  # type: ignore[no-untyped-def]
        try:
            got = prog.run(tier=tier, budget=budget)
        except BudgetExceededError as err:
            return "over", err.insn
        return got.r0, got.insns

    stopped = 0
    for _ in range(12):
        insns = random_program(rng, length=rng.randint(10, 30))
        prog = load_unverified(insns)
        needed = prog.run(tier="interp").insns
        for budget in range(max(0, needed - 4), len(insns) + 2):
            expected = outcome(prog, "interp", budget)
            assert outcome(prog, "llvm", budget) == expected, budget
            stopped += expected[0] == "over"
    assert stopped >= 12


def test_loops_with_calls_stop_on_a_short_budget_as_in_the_interpreter() -> None:
    # loops check the budget once per turn while it covers a turn, and after calls (a
    # bpf_loop callback spends it too): any budget around the run's needs must stop the
    # runs the interpreter stops, and count the same instructions in those it does not
    loop, lookup = int(HelperID["LOOP"]), int(HelperID["MAP_LOOKUP_ELEM"])
    program = asm.link([
        asm.mov(R6, 6),
        asm.label("turn"),
        asm.mov(R1, R6), asm.and_(R1, 3), asm.stx(4, R10, R1, -4),
        asm.ld_map_fd(R1, "m"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(lookup),
        asm.jeq(R0, 0, "skip"), asm.ldx(8, R1, R0, 0), asm.add(R1, R6), asm.stx(8, R0, R1, 0),
        asm.label("skip"),
        asm.mov(R1, R6), asm.ld_func(R2, "body"), asm.mov(R3, 0), asm.mov(asm.R4, 0),
        asm.call(loop), asm.add(R6, -1), asm.jne(R6, 0, "turn"),
        asm.mov(R0, 5), asm.exit(),
        asm.label("body"), asm.mov(R0, R1), asm.mul(R0, 3), asm.and_(R0, 1), asm.exit()])

    def outcome(tier: str, budget: int) -> object:
        m = ArrayMap("m", value_size=8, max_entries=3)
        prog = load_unverified(program, maps={"m": m})
        try:
            got = prog.run(tier=tier, budget=budget)
        except BudgetExceededError as err:  # at the same instruction, the map as it was
            return "over", err.insn, sorted(m.items())
        return got.r0, got.insns, sorted(m.items())

    needed = load_unverified(program, maps={"m": ArrayMap("m", value_size=8, max_entries=3)}
                             ).run(tier="interp").insns
    stopped = 0
    for budget in [*range(40), *range(needed - 60, needed + 3)]:
        expected = outcome("interp", budget)
        assert outcome("llvm", budget) == expected, budget
        stopped += expected[0] == "over"
    assert stopped == 40 + 60  # all but the three with budget >= needed


def test_arguments_are_clobbered_after_calls_in_every_tier() -> None:
    prog = load_unverified(asm.link([asm.mov(R1, 7), asm.call(HelperID.KTIME_GET_NS),
                          asm.mov(R0, R1), asm.exit()]))
    assert {prog.run(tier=t).r0 for t in ("interp", "python", "llvm")} == {CLOBBERED}


def test_missing_llvmlite_is_a_load_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pybpf.vm import llvmtier
    monkeypatch.setattr(llvmtier, "available", lambda: False)
    prog = load_unverified(asm.link([asm.mov(R0, 0), asm.exit()]))
    with pytest.raises(ProgramLoadError, match="needs llvmlite"):
        prog.run(tier="llvm")
