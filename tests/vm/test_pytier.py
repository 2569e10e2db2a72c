"""The Python tier's code generation against the reference interpreter where it takes
short cuts: masks dropped for registers known to be narrow, blocks written inline, budgets
checked once per acyclic function or counted by a ``for`` in self-loops, packet loads
read from a hoisted view."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R6, R10
from pybpf.asm.opcodes import LDDW_OPCODE
from pybpf.vm import BudgetExceededError
from pybpf.vm.pytier import translate
from tests.vm.unverified import load_unverified

from .program_generator import random_program


def _narrow(program: list[asm.Instruction], rng: random.Random) -> list[asm.Instruction]:
    """The random program with its ten register set-ups (lddw) given narrow values, so the
    width analysis has something to drop masks on."""
    out, seen = [], 0
    for insn in program:
        if insn.opcode == LDDW_OPCODE and seen < 10:
            seen += 1
            insn = dataclasses.replace(insn, imm=rng.randrange(1 << rng.choice(
                [0, 1, 8, 16, 31, 32, 33, 48, 63, 64])))
        out.append(insn)
    return out


def _same(prog, **kwargs):  # type: ignore[no-untyped-def]
    outcomes = []
    for tier in ("interp", "python"):
        try:
            result = prog.run(tier=tier, **kwargs)
            outcomes.append((result.r0, result.insns))
        except BudgetExceededError:  # (the Python tier names the block, not the insn)
            outcomes.append(("budget", 0))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_narrow_random_programs_agree(seed: int) -> None:
    rng = random.Random(seed)
    program = _narrow(random_program(rng, length=rng.randint(4, 40)), rng)
    _same(load_unverified(program))


@pytest.mark.parametrize("turns", [1, 2, 7, 100])
def test_self_loops_count_and_stop_like_the_interpreter(turns: int) -> None:
    down = load_unverified(asm.link([
        asm.mov(R0, 0), asm.mov(R1, turns), asm.label("loop"), asm.add(R0, R1),
        asm.sub(R1, 1), asm.jne(R1, 0, "loop"), asm.exit()]))
    up = load_unverified(asm.link([
        asm.mov(R0, 0), asm.mov32(R1, 0), asm.label("loop"), asm.add32(R0, R1),
        asm.add32(R1, 1), asm.jlt32(R1, turns, "loop"), asm.exit()]))
    for prog in (down, up):
        _, insns = _same(prog)
        for budget in (insns - 4, insns - 3, insns - 1, insns, insns + 1, 1, 0):
            _same(prog, budget=max(budget, 0))
        assert "for it_ in range" in translate(prog).source


def test_filters_run_straight_line_with_one_budget_check() -> None:
    # a forward-only program: no dispatch loop, one budget test on entry
    prog = load_unverified(asm.link([
        asm.mov_reg(R6, R1), asm.ld_abs(2, 12), asm.jne32(R0, 0x800, "no"),
        asm.ld_abs(1, 23), asm.jne32(R0, 6, "no"), asm.mov32(R0, 1), asm.exit(),
        asm.label("no"), asm.mov32(R0, 0), asm.exit()]))
    source = translate(prog).source
    unchecked = source[source.index("def f0("):]
    assert "while True" not in unchecked and "budget_exceeded" not in unchecked
    tcp = bytes(12) + b"\x08\x00" + bytes(9) + b"\x06" + bytes(20)
    for packet in (tcp, tcp[:23], tcp[:13], b"", bytes(40)):
        assert prog.run(packet=packet, tier="python") == prog.run(packet=packet,
                                                                  tier="interp")
        for budget in (0, 3, 5, 6, 7):
            _same(prog, packet=packet, budget=budget)


def test_loads_through_context_and_stack_pointers() -> None:
    # the inline region checks must fall back to the checked load: a pointer to the
    # stack, a context field, a fault past the context's end
    items = [asm.mov_reg(R6, R1), asm.ldx(4, R0, R6, 4), asm.mov_reg(R2, R10),
             asm.add(R2, -8), asm.st(8, R10, 7, -8), asm.ldx(8, R3, R2, 0),
             asm.add(R0, R3), asm.ldx(2, R3, R6, 6), asm.add(R0, R3), asm.exit()]
    prog = load_unverified(asm.link(items))
    memory = bytes(range(8))
    assert prog.run(memory, tier="python") == prog.run(memory, tier="interp")
    with pytest.raises(Exception, match="outside") as python:
        prog.run(memory[:5], tier="python")
    with pytest.raises(Exception, match="outside") as interp:
        prog.run(memory[:5], tier="interp")
    assert str(python.value) == str(interp.value)


# -- single-use fusion across a register's rewrite, and count-down loops ----------------------

_FEW = [R0, R1, R2, R3]
_OPS = ["add", "sub", "mul", "xor", "or_", "and_", "rsh", "lsh", "mov"]


def _dense_op(rng: random.Random) -> asm.Instruction:
    """An ALU op over four registers only, so that values are often pending on a register
    that is rewritten next (``r0 ^= r2; r2 >>= 7``)."""
    if rng.random() < 0.15:  # the frame: loads and stores end any pending value
        size, off = rng.choice([(8, -8), (8, -16), (4, -4), (1, -9)])
        reg = rng.choice(_FEW)
        return asm.ldx(size, reg, R10, off) if rng.random() < 0.5 else \
            asm.stx(size, R10, reg, off)
    if rng.random() < 0.1:  # a copy of the loop's counter (never 0 inside the loop)
        return asm.mov(rng.choice(_FEW), R6)
    name = rng.choice(_OPS)
    wide = rng.random() < 0.75
    build = getattr(asm, name if wide else name.rstrip("_") + "32")
    dst = rng.choice(_FEW)
    if rng.random() < 0.6:
        return build(dst, rng.choice(_FEW))
    imm = rng.randrange(64 if wide else 32) if name in ("rsh", "lsh") else \
        rng.choice([1, 7, -1, 0x9E37_79B1, rng.randint(-(1 << 31), (1 << 31) - 1)])
    return build(dst, imm)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_fused_rewrites_agree_in_straight_code_and_in_count_down_loops(seed: int) -> None:
    rng = random.Random(seed)
    body = [_dense_op(rng) for _ in range(rng.randint(2, 12))]
    setup = [asm.lddw(r, rng.randrange(1 << rng.choice([3, 31, 64]))) for r in _FEW]
    straight = load_unverified(asm.link([*setup, *body, asm.exit()]))
    _same(straight)
    # the same body in a loop counted down by r6 (which it never writes)
    turns = rng.choice([0, 1, 2, 5, 33])
    loop = load_unverified(asm.link([
        *setup, asm.mov(R6, turns), asm.label("loop"), *body,
        asm.sub(R6, 1) if rng.random() < 0.5 else asm.add(R6, -1),
        (asm.jne if rng.random() < 0.5 else asm.jgt)(R6, 0, "loop"), asm.exit()]))
    if turns:
        _, insns = _same(loop)
        for budget in (insns - 1, insns, insns - len(body) - 2):
            _same(loop, budget=max(budget, 0))
    else:  # r6 wraps to 2**64 - 1: the budget ends it on both tiers
        _same(loop, budget=5000)


def test_a_value_pending_on_a_rewritten_register_fuses_into_its_reader() -> None:
    # the bench's hash step: r0 ^ r2 is still pending when r2 is shifted; the shifted r2
    # is pending too, and both end up in the one assignment of r0 (unmasked: r0 is an
    # accumulator, masked after the loop)
    prog = load_unverified(asm.link([
        asm.mov(R0, 0), asm.mov(R1, 100), asm.label("loop"), asm.mov(R2, R1),
        asm.mul(R2, 0x9E37_79B1), asm.xor(R0, R2), asm.rsh(R2, 7), asm.add(R0, R2),
        asm.sub(R1, 1), asm.jne(R1, 0, "loop"), asm.exit()]))
    source = translate(prog).source
    assert "r0 = (r0 ^ r2) + (r2 >> 7)\n" in source
    assert "for r1 in range(r1, 0, -1):" in source  # the count-down loop
    assert "while True" not in source  # entered from one place: written inline, no dispatch
    _, insns = _same(prog)
    for budget in (insns - 8, insns - 1, insns, 7, 0):
        _same(prog, budget=budget)


@pytest.mark.parametrize("imm", [-1, -7, 0x9E37_79B1, -(1 << 31)])
@pytest.mark.parametrize("turns", [1, 2, 100])
def test_a_multiply_by_a_negative_immediate_of_a_counter_is_a_subtraction(imm: int,
                                                                          turns: int) -> None:
    # r1 is 1..turns in the counted loop (its width from outside the loop, not the wrapped
    # r1 - 1 of its own edge), so r1 * imm is 2**64 - r1 * -imm with no mask; r3 = r1 - 1
    # may be 0, where 2**64 - 0 would be wrong: it keeps the masked product
    prog = load_unverified(asm.link([
        asm.mov(R0, 0), asm.mov(R1, turns), asm.label("loop"), asm.mov(R2, R1),
        asm.mul(R2, imm), asm.xor(R0, R2), asm.mov(R3, R1), asm.sub(R3, 1),
        asm.mul(R3, imm), asm.add(R0, R3), asm.sub(R1, 1), asm.jne(R1, 0, "loop"),
        asm.exit()]))
    source = translate(prog).source
    assert f"18446744073709551616 - (r1) * {-imm & 0xFFFF_FFFF}" in source
    assert source.count("18446744073709551616 - ") == 1  # r3's product stays masked
    _, insns = _same(prog)
    for budget in (insns - 1, insns, 5):
        _same(prog, budget=budget)


def test_a_rewrite_with_pending_readers_of_its_old_value_assigns_them_together() -> None:
    # r0 + r1 is pending on the old r1 and r2 >> 3 on the old r2 when r1 = r2 ^ r1 (read
    # twice: assigned) is written: assigning r2 first would feed r1 the new r2, so all
    # three are one tuple assignment of the old values
    prog = load_unverified(asm.link([
        asm.lddw(R0, 0x1234_5678_9ABC), asm.lddw(R1, 77), asm.lddw(R2, 0xFFFF_0000_1111),
        asm.mov(R3, R2), asm.xor(R3, R1), asm.add(R0, R1), asm.rsh(R2, 3),
        asm.mov(R1, R3), asm.add(R0, R2), asm.add(R0, R1), asm.add(R0, R1), asm.exit()]))
    assert "r0, r2, r1 = " in translate(prog).source
    _same(prog)


@pytest.mark.parametrize("turns", [1, 2, 100])
def test_an_accumulator_of_a_counted_loop_is_masked_once_after_it(turns: int) -> None:
    # r0 only has r2 added, r1 subtracted and 5 xored into it: its local goes unmasked
    # through the loop (wrapping below 0 and past 2**64) and is masked after it; r3 is
    # shifted right too, which needs its exact value: masked every turn
    prog = load_unverified(asm.link([
        asm.mov(R0, 3), asm.lddw(R3, (1 << 64) - 5), asm.mov(R1, turns), asm.label("loop"),
        asm.mov(R2, R1), asm.mul(R2, 0x9E37_79B1), asm.add(R0, R2), asm.sub(R0, R1),
        asm.sub(R0, 7), asm.xor(R0, 5), asm.add(R3, R2), asm.rsh(R3, 1), asm.sub(R1, 1),
        asm.jne(R1, 0, "loop"), asm.mov(R2, R0), asm.rsh(R2, 40), asm.add(R0, R2),
        asm.add(R0, R3), asm.exit()]))
    source = translate(prog).source
    assert source.count("r0 = r0 & 18446744073709551615") == 2  # after each branch's loop
    assert "r3 = r3 & 18446744073709551615" not in source
    _, insns = _same(prog)
    for budget in (insns - 1, insns, 9):
        _same(prog, budget=budget)
