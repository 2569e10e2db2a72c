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
