"""The Python tier against the reference interpreter on random programs and on its own
mechanics (source per function, budget, callbacks). The instruction-level test modules also
run in both tiers (see conftest.vm_tier)."""

from __future__ import annotations

import random

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3
from pybpf.vm import BudgetExceededError, ProgramLoadError
from pybpf.vm.pytier import translate
from tests.vm.unverified import load_unverified

from .program_generator import random_program


def test_random_programs_agree_in_both_tiers() -> None:
    rng = random.Random(77)
    for _ in range(300):
        prog = load_unverified(random_program(rng, length=rng.randint(4, 40)))
        reference = prog.run(tier="interp")
        translated = prog.run(tier="python")
        assert (translated.r0, translated.insns) == (reference.r0, reference.insns)


def test_one_python_function_per_ebpf_function() -> None:
    prog = load_unverified(asm.link([asm.mov(R1, 3), asm.call_func("double"), asm.exit(),
                          asm.label("double"), asm.mov(R0, R1), asm.add(R0, R1), asm.exit()]))
    source = translate(prog).source
    assert "def f0(" in source and "def f3(" in source
    assert prog.run(tier="python").r0 == 6


def test_budget_stops_the_python_tier() -> None:
    prog = load_unverified(asm.link([asm.label("spin"), asm.ja("spin")]))
    with pytest.raises(BudgetExceededError):
        prog.run(tier="python", budget=1000)


def test_unknown_tier_is_refused() -> None:
    with pytest.raises(ProgramLoadError, match="unknown tier 'fast'"):
        load_unverified(asm.link([asm.mov(R0, 0), asm.exit()]), tier="fast")


def test_tiers_count_the_same_loop() -> None:
    prog = load_unverified(asm.link([asm.mov(R0, 0), asm.mov(R2, 100), asm.label("l"),
                          asm.add(R0, R2), asm.mov(R3, R0), asm.sub(R2, 1),
                          asm.jne(R2, 0, "l"), asm.exit()]))
    assert prog.run(tier="python") == prog.run(tier="interp")
