"""bpf_get_prandom_u32 in the llvm tier draws natively from a copy of the run's
random.Random once the helper drew twice: the program sees the numbers the interpreter
sees, and the Random object is left where the interpreter leaves it."""

from __future__ import annotations

import random

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R7, R10
from pybpf.vm import HashMap
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

PRANDOM, UPDATE = int(HelperID["GET_PRANDOM_U32"]), int(HelperID["MAP_UPDATE_ELEM"])


def _draws(turns: int) -> list[asm.Instruction]:
    """r0 = the xor of ``turns`` draws, each shifted by its turn; every 97th draw goes to
    the map (a helper called back in Python between native draws)."""
    return asm.link([
        asm.mov(R6, turns), asm.mov(R7, 0),
        asm.label("turn"),
        asm.call(PRANDOM), asm.mov(R1, R6), asm.and_(R1, 31), asm.lsh(R0, R1),
        asm.xor(R7, R0), asm.mov(R1, R6), asm.mod(R1, 97), asm.jne(R1, 0, "next"),
        asm.stx(4, R10, R6, -4), asm.stx(8, R10, R0, -16), asm.ld_map_fd(R1, "m"),
        asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10), asm.add(R3, -16),
        asm.mov(R4, 0), asm.call(UPDATE),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "turn"),
        asm.mov(R0, R7), asm.exit()])


@pytest.mark.parametrize("turns", [1, 2, 3, 700, 1500])
def test_native_draws_are_the_interpreters(turns: int) -> None:
    seen = {}
    for tier in ("interp", "llvm"):
        m = HashMap("m", key_size=4, value_size=8, max_entries=64)
        prog = load_unverified(_draws(turns), maps={"m": m})
        prog.env.rng = random.Random(2026)
        r0s = [prog.run(tier=tier).r0 for _ in range(3)]
        r0s.append(prog.test_run(repeat=4, tier=tier).retval)
        after = prog.env.rng.getrandbits(32)  # Python draws on from where the runs left it
        prog.env.rng = random.Random(7)       # a new Random between runs is drawn from
        r0s.append(prog.run(tier=tier).r0)
        seen[tier] = (r0s, after, prog.env.rng.random(), sorted(m.items()))
    assert seen["llvm"] == seen["interp"]
    assert len(set(seen["llvm"][0])) == 5
