"""Programs whose jumps name labels run as linked, in the VM as in the kernel (the VM ran
them unlinked: every label jump fell through, after the verifier had checked the linked
program)."""

from __future__ import annotations

import pytest

import pybpf
from pybpf import asm
from pybpf.asm import R0, R1, R2
from pybpf.errors import AsmError
from pybpf.spec import CollectionSpec, ProgramSpec, ProgramType
from pybpf.vm import VMProgram

# XDP: drop (1) a frame shorter than 60 bytes, else pass (2); the jump names a label
SHORT_DROP = [
    asm.ldx("u32", R2, R1, 4),
    asm.ldx("u32", R1, R1, 0),
    asm.sub(R2, R1),
    asm.mov(R0, 1),
    asm.jlt(R2, 60, "out"),
    asm.mov(R0, 2),
    asm.exit(symbol="out"),
]


@pytest.mark.parametrize("tier", ["interp", "python"])
def test_a_label_jump_is_taken(tier: str) -> None:
    spec = CollectionSpec(programs={"short_drop": ProgramSpec(
        "short_drop", "xdp", ProgramType.XDP, license="GPL", instructions=SHORT_DROP)})
    with pybpf.load(spec, backend="vm", tier=tier) as coll:
        prog = coll.programs["short_drop"]
        assert prog.test_run(data=bytes(40)).retval == 1
        assert prog.test_run(data=bytes(64)).retval == 2


def test_an_unknown_label_is_refused_at_load() -> None:
    with pytest.raises(AsmError, match="nowhere"):
        VMProgram([asm.mov(R0, 0), asm.ja("nowhere"), asm.exit()], name="lost")
