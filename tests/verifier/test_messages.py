"""Rejections explain themselves: instruction, path, registers, fix; ``.log`` has states."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R10
from pybpf.errors import VerifierError
from pybpf.spec import MapSpec, MapType
from pybpf.verifier import verify

ARRAY = MapSpec("arr", MapType.HASH, 4, 16, 4)


def test_null_message_names_register_helper_and_fix() -> None:
    insns = [asm.st(4, R10, 0, -4), asm.mov_reg(R2, R10), asm.add(R2, -4),
             asm.ld_map_fd(R1, "arr"), asm.call(1),
             asm.ldx(8, R0, R0, 0).with_(source="value = *p;"), asm.exit()]
    with pytest.raises(VerifierError) as info:
        verify(insns, maps={"arr": ARRAY})
    text = str(info.value)
    assert "insn 6 `r0 = *(u64 *)(r0 + 0)`" in text
    assert "may be NULL" in text
    assert "check the result of bpf_map_lookup_elem" in text
    assert "source: value = *p;" in text
    assert "R0=map_value_or_null(" in text
    assert info.value.insn == 6
    assert any(line.startswith("5: call 1") or "call" in line for line in info.value.log)


def test_path_names_the_branches_taken() -> None:
    insns = [asm.ldx(4, R2, R1, 0), asm.mov(R0, 0), asm.jgt(R2, 5, "bad"), asm.exit(),
             asm.label("bad"), asm.ldx(8, R0, R2, 0), asm.exit()]
    with pytest.raises(VerifierError) as info:
        verify(insns)
    assert "2 (jump taken)" in str(info.value)
    assert "R2=scalar(" in str(info.value)
    assert "umin=6" in str(info.value)


def test_accepted_program_log_has_every_instruction() -> None:
    result = verify([asm.mov(R0, 1), asm.add(R0, 2), asm.exit()], log=True)
    assert [line.split(":")[0] for line in result.log] == ["0", "1", "2"]
    assert result.insns_processed == 3
