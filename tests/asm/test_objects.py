"""Every clang-compiled test object: our listing is llvm-objdump's, and it re-assembles.

The objects are all of tests/bpf/*.bpf.c (other areas' programs included), compiled with
``-mcpu=v3``. The comparison is instruction by instruction in both immediate styles and
with/without ``--mattr=+alu32``. Where LLVM 14 cannot print an instruction (it prints
``<unknown>`` for 32-bit fetch atomics without +alu32, and misprints a 32-bit fetch-add as
``lock ... +=``), the test demands our text be exactly the +alu32 form LLVM does print.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from pybpf.asm import Instruction, assemble, disassemble, encode_all, format_instruction
from pybpf.elf.listing import objdump_listing, read_program_sections
from tests.bpfobjs import all_sources, build_object

pytestmark = pytest.mark.clang

_LINE = re.compile(r"^\s*(\d+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\t(.*)$")
MODES = [pytest.param(False, False, id="dec"), pytest.param(True, False, id="hex"),
         pytest.param(False, True, id="dec-alu32"), pytest.param(True, True, id="hex-alu32")]


def _objdump(path: Path, imm_hex: bool, alu32: bool) -> str:
    tool = shutil.which("llvm-objdump")
    if tool is None:
        pytest.skip("needs llvm-objdump (apt-get install llvm)")
    args = [tool, "-d", str(path)]
    if imm_hex:
        args.append("--print-imm-hex")
    if alu32:
        args.append("--mattr=+alu32")
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@cache
def _object(name: str) -> Path:
    return build_object(name)


def _llvm14_gap(insn: Instruction, alu32: bool) -> bool:
    """32-bit atomics other than a plain add, which LLVM 14 without +alu32 cannot print."""
    return not alu32 and insn.opcode == 0xC3 and insn.imm != 0


@pytest.mark.parametrize("name", all_sources())
@pytest.mark.parametrize("imm_hex, alu32", MODES)
def test_listing_equals_llvm_objdump(name: str, imm_hex: bool, alu32: bool) -> None:
    path = _object(name)
    theirs = _objdump(path, imm_hex, alu32).splitlines()
    ours = objdump_listing(str(path), imm_hex=imm_hex, alu32=alu32).splitlines()
    assert len(ours) == len(theirs)
    compared = 0
    for our_line, their_line in zip(ours, theirs):
        m = _LINE.match(their_line)
        if m is None or our_line == their_line:
            assert our_line == their_line  # headers, symbols, blank lines: exactly equal
            compared += m is not None
            continue
        insn = Instruction.decode(bytes.fromhex(m.group(2)))[0]
        assert _llvm14_gap(insn, alu32), f"{our_line!r} != {their_line!r}"
        # our text must be what LLVM prints for these bytes with +alu32
        assert our_line.split("\t")[2] == format_instruction(insn, imm_hex=imm_hex, alu32=True)
        compared += 1
    assert compared > 0


@pytest.mark.parametrize("name", all_sources())
@pytest.mark.parametrize("imm_hex, alu32", MODES)
def test_listing_reassembles_to_the_same_bytes(name: str, imm_hex: bool, alu32: bool) -> None:
    for sec in read_program_sections(str(_object(name))):
        insns = Instruction.decode(sec.data)
        symbols = {slot: names[0] for slot, names in sec.symbols.items()}
        text = disassemble(insns, symbols=symbols, imm_hex=imm_hex, alu32=alu32)
        again = assemble(text, source=f"{name}:{sec.name}")
        assert encode_all(again) == sec.data
        assert [i.with_(symbol=None) for i in again] == insns
        slots = {}
        at = 0
        for insn in again:
            if insn.symbol:
                slots[at] = insn.symbol
            at += insn.slots
        assert slots == symbols


def test_pseudo_calls_keep_their_source_through_text() -> None:
    sections = read_program_sections(str(_object("asm_loops")))
    calls = [i for s in sections for i in Instruction.decode(s.data) if i.is_call]
    assert {i.src for i in calls} >= {0, 1}
    for sec in sections:
        insns = Instruction.decode(sec.data)
        assert assemble(disassemble(insns)) == insns
