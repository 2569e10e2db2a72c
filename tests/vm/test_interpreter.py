"""Our own conformance cases: each instruction's RFC 9669 meaning, edge cases first."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R7, R8, R9, R10
from pybpf.vm import BudgetExceededError, CallDepthError
from tests.vm.unverified import load_unverified

from .conftest import U64, r0_of

M = U64
INT64_MIN = 1 << 63

# (name, instructions before the final exit, expected r0)
ALU_CASES = [
    ("add64 wraps", [asm.lddw(R0, M), asm.add(R0, 2)], 1),
    ("add32 zero-extends", [asm.lddw(R0, 0xFFFF_FFFF_0000_0001), asm.add32(R0, 1)], 2),
    ("mov32 clears the high half", [asm.lddw(R0, M), asm.mov32(R0, R0)], 0xFFFF_FFFF),
    ("mov64 imm sign-extends", [asm.mov(R0, -1)], M),
    ("mov32 imm does not sign-extend", [asm.mov32(R0, -1)], 0xFFFF_FFFF),
    ("sub64 below zero", [asm.mov(R0, 1), asm.sub(R0, 2)], M),
    ("mul64 keeps the low 64 bits", [asm.lddw(R0, 1 << 62), asm.mul(R0, 8)], 0),
    ("mul32", [asm.mov32(R0, 0x10000), asm.mul32(R0, 0x10001)], 0x10000),
    ("div by zero register gives 0", [asm.mov(R0, 7), asm.mov(R1, 0), asm.div(R0, R1)], 0),
    ("div32 by zero gives 0", [asm.mov(R0, 7), asm.mov(R1, 0), asm.div32(R0, R1)], 0),
    ("div64 is unsigned", [asm.mov(R0, -2), asm.div(R0, 2)], (M - 1) // 2),
    ("div64 imm is sign-extended first", [asm.mov(R0, -1), asm.div(R0, -1)], 1),
    ("mod by zero keeps the dividend", [asm.lddw(R0, 0x1_0000_0007), asm.mov(R1, 0),
                                        asm.mod(R0, R1)], 0x1_0000_0007),
    ("mod32 by zero keeps the low half", [asm.lddw(R0, 0x1_0000_0007), asm.mov(R1, 0),
                                          asm.mod32(R0, R1)], 7),
    ("mod64", [asm.mov(R0, 17), asm.mod(R0, 5)], 2),
    ("sdiv rounds toward zero", [asm.mov(R0, -7), asm.sdiv(R0, 2)], (-3) & M),
    ("sdiv INT64_MIN / -1 wraps", [asm.lddw(R0, INT64_MIN), asm.sdiv(R0, -1)], INT64_MIN),
    ("sdiv by zero gives 0", [asm.mov(R0, -7), asm.mov(R1, 0), asm.sdiv(R0, R1)], 0),
    ("smod takes the dividend's sign", [asm.mov(R0, -7), asm.smod(R0, 2)], (-1) & M),
    ("smod negative divisor", [asm.mov(R0, 7), asm.smod(R0, -2)], 1),
    ("smod by zero keeps the dividend", [asm.mov(R0, -7), asm.mov(R1, 0), asm.smod(R0, R1)],
     (-7) & M),
    ("sdiv32 uses 32-bit signs", [asm.mov32(R0, -8), asm.sdiv32(R0, 2)], 0xFFFF_FFFC),
    ("smod32 INT32_MIN % -1", [asm.mov32(R0, -(1 << 31)), asm.smod32(R0, -1)], 0),
    ("lsh64 masks the amount to 63", [asm.mov(R0, 1), asm.mov(R1, 65), asm.lsh(R0, R1)], 2),
    ("lsh32 masks the amount to 31", [asm.mov(R0, 1), asm.mov(R1, 33), asm.lsh32(R0, R1)], 2),
    ("rsh64 is logical", [asm.mov(R0, -1), asm.rsh(R0, 60)], 0xF),
    ("rsh32 works on the low half", [asm.mov(R0, -1), asm.rsh32(R0, 28)], 0xF),
    ("arsh64 keeps the sign", [asm.mov(R0, -16), asm.arsh(R0, 2)], (-4) & M),
    ("arsh32 keeps the 32-bit sign", [asm.mov32(R0, -16), asm.arsh32(R0, 2)], 0xFFFF_FFFC),
    ("neg64", [asm.mov(R0, 5), asm.neg(R0)], (-5) & M),
    ("neg32 zero-extends", [asm.mov(R0, 5), asm.neg32(R0)], 0xFFFF_FFFB),
    ("or/and/xor", [asm.mov(R0, 0b1100), asm.or_(R0, 0b0011), asm.and_(R0, 0b0110),
                    asm.xor(R0, 0b0101)], 0b0011),
    ("movsx8 to 64", [asm.mov(R1, 0x80), asm.movsx(R0, R1, 8)], (-128) & M),
    ("movsx16 to 64", [asm.mov(R1, 0x7FFF), asm.movsx(R0, R1, 16)], 0x7FFF),
    ("movsx32 to 64", [asm.mov32(R1, 0x8000_0000), asm.movsx(R0, R1, 32)],
     0xFFFF_FFFF_8000_0000),
    ("movsx32 8-bit zero-extends above 32", [asm.mov(R1, 0xFF), asm.movsx32(R0, R1, 8)],
     0xFFFF_FFFF),
    ("be16 swaps and truncates", [asm.lddw(R0, 0x1122_3344_5566_7788), asm.to_be(R0, 16)],
     0x8877),
    ("be32", [asm.lddw(R0, 0x1122_3344_5566_7788), asm.to_be(R0, 32)], 0x8877_6655),
    ("be64", [asm.lddw(R0, 0x1122_3344_5566_7788), asm.to_be(R0, 64)],
     0x8877_6655_4433_2211),
    ("le16 only truncates", [asm.lddw(R0, 0x1122_3344_5566_7788), asm.to_le(R0, 16)], 0x7788),
    ("le64 is the identity", [asm.lddw(R0, 0x1122_3344_5566_7788), asm.to_le(R0, 64)],
     0x1122_3344_5566_7788),
    ("bswap32", [asm.lddw(R0, 0x1122_3344_5566_7788), asm.bswap(R0, 32)], 0x8877_6655),
    ("lddw full 64-bit immediate", [asm.lddw(R0, 0x8000_0000_0000_0001)],
     0x8000_0000_0000_0001),
]


@pytest.mark.parametrize("body, expected", [c[1:] for c in ALU_CASES],
                         ids=[c[0] for c in ALU_CASES])
def test_alu(body: list[object], expected: int) -> None:
    assert r0_of(body + [asm.exit()]) == expected


def _branch(jump: object) -> list[object]:
    """r0 = 1 when ``jump`` is taken, 0 otherwise."""
    return [asm.mov(R0, 0), jump, asm.exit(), asm.label("taken"), asm.mov(R0, 1), asm.exit()]


JUMP_CASES = [
    ("jgt is unsigned", [asm.mov(R1, -1)], asm.jgt(R1, 1, "taken"), 1),
    ("jsgt is signed", [asm.mov(R1, -1)], asm.jsgt(R1, 1, "taken"), 0),
    ("jslt with a register", [asm.mov(R1, -5), asm.mov(R2, 3)], asm.jslt(R1, R2, "taken"), 1),
    ("jeq imm is sign-extended", [asm.mov(R1, -1)], asm.jeq(R1, -1, "taken"), 1),
    ("jeq32 ignores the high half", [asm.lddw(R1, 0x5_0000_0007)], asm.jeq32(R1, 7, "taken"),
     1),
    ("jsgt32 reads a 32-bit sign", [asm.mov32(R1, 0x8000_0000)],
     asm.jsgt32(R1, 0, "taken"), 0),
    ("jgt32 unsigned low half", [asm.mov32(R1, 0x8000_0000)], asm.jgt32(R1, 0, "taken"), 1),
    ("jset", [asm.mov(R1, 0b1010)], asm.jset(R1, 0b0100, "taken"), 0),
    ("jle equal", [asm.mov(R1, 4), asm.mov(R2, 4)], asm.jle(R1, R2, "taken"), 1),
    ("jsge32 register", [asm.mov32(R1, -1), asm.mov32(R2, -2)], asm.jsge32(R1, R2, "taken"),
     1),
    ("jne", [asm.mov(R1, 3)], asm.jne(R1, 3, "taken"), 0),
]


@pytest.mark.parametrize("setup, jump, expected", [c[1:] for c in JUMP_CASES],
                         ids=[c[0] for c in JUMP_CASES])
def test_conditional_jumps(setup: list[object], jump: object, expected: int) -> None:
    assert r0_of(setup + _branch(jump)) == expected


def test_gotol_uses_imm_offset() -> None:
    assert r0_of([asm.mov(R0, 1), asm.gotol("end"), asm.mov(R0, 2),
                  asm.label("end"), asm.exit()]) == 1


def test_backward_loop_sums() -> None:
    body = [asm.mov(R0, 0), asm.mov(R1, 10), asm.label("loop"), asm.add(R0, R1),
            asm.sub(R1, 1), asm.jne(R1, 0, "loop"), asm.exit()]
    assert r0_of(body) == 55


def test_stack_store_and_load_all_sizes() -> None:
    body = [asm.lddw(R1, 0x1122_3344_5566_7788), asm.stx(8, R10, R1, -8),
            asm.ldx(1, R2, R10, -8), asm.ldx(2, R3, R10, -8), asm.ldx(4, R4, R10, -8),
            asm.mov(R0, R2), asm.add(R0, R3), asm.add(R0, R4), asm.exit()]
    assert r0_of(body) == 0x88 + 0x7788 + 0x5566_7788


def test_st_imm_truncates_to_size() -> None:
    body = [asm.st(8, R10, -1, -8), asm.st(2, R10, 0x1234, -8), asm.ldx(8, R0, R10, -8),
            asm.exit()]
    assert r0_of(body) == 0xFFFF_FFFF_FFFF_1234


def test_sign_extending_loads() -> None:
    body = [asm.st(4, R10, -2, -8), asm.ldxsx(1, R0, R10, -8), asm.ldxsx(2, R1, R10, -8),
            asm.ldxsx(4, R2, R10, -8), asm.sub(R0, R1), asm.add(R0, R2), asm.exit()]
    assert r0_of(body) == (-2) & U64


def test_memory_is_r1_and_length_r2() -> None:
    body = [asm.ldx(2, R0, R1, 1), asm.lsh(R0, 8), asm.add(R0, R2), asm.exit()]
    assert r0_of(body, bytes([0xAA, 0x34, 0x12, 0xBB])) == (0x1234 << 8) + 4


def test_program_writes_reach_the_result_memory() -> None:
    prog = load_unverified(asm.link([asm.st(4, R1, 0x01020304, 0), asm.mov(R0, 0), asm.exit()]))
    assert prog.run(b"\0" * 6).memory == b"\x04\x03\x02\x01\0\0"


@pytest.mark.parametrize("size", [4, 8])
def test_atomic_add_or_and_xor_with_fetch(size: int) -> None:
    body = [asm.mov(R1, 0b1100), asm.stx(size, R10, R1, -8),
            asm.mov(R2, 1), asm.atomic_add(size, R10, R2, -8, fetch=True),    # 13, r2=12
            asm.mov(R3, 0b10000), asm.atomic_or(size, R10, R3, -8),           # 29
            asm.mov(R4, 0b11101), asm.atomic_and(size, R10, R4, -8, fetch=True),  # r4=29
            asm.mov(R6, 1), asm.atomic_xor(size, R10, R6, -8),                # 28
            asm.ldx(size, R0, R10, -8), asm.lsh(R0, 16), asm.add(R0, R2), asm.lsh(R0, 8),
            asm.add(R0, R4), asm.exit()]
    assert r0_of(body) == (28 << 24) + (12 << 8) + 29


def test_atomic32_fetch_zero_extends_and_keeps_neighbours() -> None:
    body = [asm.mov(R1, -1), asm.stx(8, R10, R1, -8), asm.mov(R2, 1),
            asm.atomic_add(4, R10, R2, -8, fetch=True), asm.ldx(8, R0, R10, -8),
            asm.xor(R0, R2), asm.exit()]
    # memory becomes 0xffffffff_00000000, r2 the old low word 0xffffffff (zero-extended)
    assert r0_of(body) == 0xFFFF_FFFF_0000_0000 ^ 0xFFFF_FFFF


def test_xchg_and_cmpxchg() -> None:
    body = [asm.mov(R1, 5), asm.stx(8, R10, R1, -8), asm.mov(R2, 9),
            asm.xchg(8, R10, R2, -8),                     # mem 9, r2 5
            asm.mov(R0, 1), asm.mov(R3, 42), asm.cmpxchg(8, R10, R3, -8),  # fails: r0 = 9
            asm.mov(R6, R0),
            asm.cmpxchg(8, R10, R3, -8),                  # r0 == 9: succeeds, mem 42
            asm.ldx(8, R7, R10, -8),
            asm.mov(R0, R2), asm.lsh(R0, 8), asm.add(R0, R6), asm.lsh(R0, 8), asm.add(R0, R7),
            asm.exit()]
    assert r0_of(body) == (5 << 16) + (9 << 8) + 42


def test_cmpxchg32_compares_low_half_of_r0() -> None:
    body = [asm.st(4, R10, 7, -4), asm.lddw(R0, 0xAB_0000_0007), asm.mov(R1, 8),
            asm.cmpxchg(4, R10, R1, -4), asm.ldx(4, R2, R10, -4), asm.lsh(R2, 32),
            asm.add(R0, R2), asm.exit()]
    assert r0_of(body) == (8 << 32) + 7


def test_load_acquire_store_release() -> None:
    body = [asm.mov(R1, 0x1FF), asm.store_release(2, R10, R1, -2),
            asm.load_acquire(1, R0, R10, -2), asm.exit()]
    assert r0_of(body) == 0xFF


def test_bpf_to_bpf_call_preserves_r6_to_r9_and_gets_its_own_stack() -> None:
    body = [asm.mov(R6, 6), asm.mov(R7, 7), asm.mov(R8, 8), asm.mov(R9, 9),
            asm.st(8, R10, 100, -8), asm.mov(R1, 3), asm.call_func("f"),
            asm.ldx(8, R1, R10, -8), asm.add(R0, R1),
            asm.add(R0, R6), asm.add(R0, R7), asm.add(R0, R8), asm.add(R0, R9), asm.exit(),
            asm.label("f"), asm.mov(R6, 0), asm.mov(R7, 0), asm.mov(R8, 0), asm.mov(R9, 0),
            asm.st(8, R10, 1000, -8), asm.ldx(8, R0, R10, -8), asm.add(R0, R1), asm.exit()]
    assert r0_of(body) == 1003 + 100 + 30


def test_callee_may_read_the_callers_stack_through_a_pointer() -> None:
    body = [asm.st(8, R10, 77, -8), asm.mov(R1, R10), asm.add(R1, -8), asm.call_func("f"),
            asm.exit(), asm.label("f"), asm.ldx(8, R0, R1, 0), asm.exit()]
    assert r0_of(body) == 77


def _recursion(depth_left: int) -> list[object]:
    return [asm.mov(R1, depth_left), asm.call_func("f"), asm.exit(),
            asm.label("f"), asm.mov(R0, R1), asm.jeq(R1, 0, "out"), asm.sub(R1, 1),
            asm.call_func("f"), asm.label("out"), asm.exit()]


def test_eight_frames_are_allowed() -> None:
    assert r0_of(_recursion(6)) == 0  # main + 7 nested calls


def test_ninth_frame_stops_the_run() -> None:
    with pytest.raises(CallDepthError, match="frame 9"):
        r0_of(_recursion(7))


def test_budget_stops_an_endless_loop() -> None:
    prog = load_unverified(asm.link([asm.label("top"), asm.ja("top")]))
    with pytest.raises(BudgetExceededError, match="budget") as info:
        prog.run(budget=1000)
    assert info.value.insn == 0


def test_budget_counts_executed_instructions() -> None:
    prog = load_unverified(asm.link([asm.mov(R0, 0), asm.mov(R1, 4), asm.label("l"), asm.sub(R1, 1),
                          asm.jne(R1, 0, "l"), asm.exit()]))
    assert prog.run().insns == 2 + 4 * 2 + 1
    with pytest.raises(BudgetExceededError):
        prog.run(budget=10)
    assert prog.run(budget=11).r0 == 0


def test_may_goto_falls_through_until_its_allowance_ends(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr("pybpf.vm.interpreter.MAY_GOTO_LOOPS", 1000)  # the real one is 8M
    body = [asm.mov(R0, 0), asm.label("loop"), asm.may_goto("out"), asm.add(R0, 1),
            asm.ja("loop"), asm.label("out"), asm.exit()]
    assert r0_of(body) == 1000


def test_ld_abs_and_ind_read_the_packet_big_endian() -> None:
    body = [asm.mov(R6, R1), asm.ld_abs(2, 1), asm.mov(R7, R0), asm.mov(R1, 2),
            asm.ld_ind(1, R1, 1), asm.lsh(R7, 8), asm.add(R0, R7), asm.exit()]
    prog = load_unverified(asm.link(body))
    assert prog.run(packet=bytes([0, 0x12, 0x34, 0x56])).r0 == 0x1234_56


def test_ld_abs_out_of_packet_ends_the_program_with_zero() -> None:
    prog = load_unverified(asm.link([asm.mov(R0, 5), asm.ld_abs(4, 2), asm.mov(R0, 9), asm.exit()]))
    assert prog.run(packet=b"\1\2\3\4").r0 == 0
