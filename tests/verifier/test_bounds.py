"""Abstract arithmetic is sound: every concrete result lies in the computed bounds, and
branch refinement never drops a value that takes that branch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.asm.opcodes import ALUOp, JumpOp
from pybpf.verifier import bounds as B
from pybpf.verifier.scalar_ops import _concrete, alu, refine

U64 = (1 << 64) - 1
OPS = [ALUOp.ADD, ALUOp.SUB, ALUOp.MUL, ALUOp.AND, ALUOp.OR, ALUOp.XOR, ALUOp.LSH,
       ALUOp.RSH, ALUOp.ARSH, ALUOp.DIV, ALUOp.MOD]
values = st.one_of(st.integers(0, 300), st.integers(0, U64), st.integers(U64 - 300, U64))


def _range_around(v: int, width: int) -> B.Bounds:
    return B.unsigned_range(max(0, v - width), min(U64, v + width))


def _holds(b: B.Bounds, v: int) -> bool:
    s = B.to_s64(v)
    lo = v & 0xFFFFFFFF
    return (b.umin <= v <= b.umax and b.smin <= s <= b.smax and b.u32min <= lo <= b.u32max
            and b.s32min <= B.to_s32(lo) <= b.s32max and v & ~b.var[1] & U64 == b.var[0])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(OPS), values, values, st.integers(0, 70), st.integers(0, 70),
       st.booleans())
def test_alu_covers_concrete_results(op, a, b, wa, wb, alu64):
    if op in (ALUOp.LSH, ALUOp.RSH, ALUOp.ARSH):
        b %= 64 if alu64 else 32
    ra, rb = _range_around(a, wa), _range_around(b, wb)
    result = alu(op, ra, rb, alu64=alu64)
    width = 64 if alu64 else 32
    mask = (1 << width) - 1
    for x in {a, ra.umin, ra.umax}:
        for y in {b, rb.umin, rb.umax}:
            if op in (ALUOp.LSH, ALUOp.RSH, ALUOp.ARSH) and y >= width:
                continue
            concrete = _concrete(op, x & mask, y & mask, width, False)
            assert _holds(result, concrete), (op, x, y, concrete, result)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([JumpOp.JEQ, JumpOp.JNE, JumpOp.JGT, JumpOp.JGE, JumpOp.JLT,
                        JumpOp.JLE, JumpOp.JSGT, JumpOp.JSGE, JumpOp.JSLT, JumpOp.JSLE,
                        JumpOp.JSET]), values, values, st.integers(0, 40), st.booleans())
def test_refine_keeps_values_on_their_branch(op, a, b, wa, jmp32):
    ra, rb = _range_around(a, wa), B.const(b)
    width = 32 if jmp32 else 64
    mask = (1 << width) - 1
    x, y = a & mask, b & mask
    sx, sy = B.to_signed(x, width), B.to_signed(y, width)
    truth = {JumpOp.JEQ: x == y, JumpOp.JNE: x != y, JumpOp.JGT: x > y, JumpOp.JGE: x >= y,
             JumpOp.JLT: x < y, JumpOp.JLE: x <= y, JumpOp.JSGT: sx > sy,
             JumpOp.JSGE: sx >= sy, JumpOp.JSLT: sx < sy, JumpOp.JSLE: sx <= sy,
             JumpOp.JSET: bool(x & y)}[op]
    pair = refine(op, ra, rb, truth, jmp32=jmp32)
    assert pair is not None
    assert _holds(pair[0], a)


def test_normalize_finds_contradiction() -> None:
    assert B.normalize(B.Bounds(umin=5, umax=3)) is None
    assert B.normalize(B.Bounds(umin=8, umax=8, var=(0, 7))) is None
