"""``pybpf disasm`` and ``pybpf asm`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.cli import main
from pybpf.elf.listing import read_program_sections
from tests.bpfobjs import build_object


@pytest.mark.clang
def test_disasm_then_asm_gives_back_the_section_bytes(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    obj = build_object("asm_kinds")
    assert main(["disasm", str(obj), "--section", "socket", "--print-imm-hex"]) == 0
    listing = capsys.readouterr().out
    assert "Disassembly of section socket:" in listing
    assert "<packet>:" in listing and "r0 = *(u8 *)skb[0x17]" in listing
    src = tmp_path / "packet.s"
    src.write_text(listing)
    out = tmp_path / "packet.bin"
    assert main(["asm", str(src), "-o", str(out)]) == 0
    (section,) = [s for s in read_program_sections(str(obj)) if s.name == "socket"]
    assert out.read_bytes() == section.data


def test_asm_prints_hex_per_instruction(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    src = tmp_path / "t.s"
    src.write_text("r1 = 0x100000000 ll\nexit\n")
    assert main(["asm", str(src)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "18 01 00 00 00 00 00 00 00 00 00 00 01 00 00 00", "95 00 00 00 00 00 00 00"]


@pytest.mark.parametrize("argv, message", [
    (["asm", "/nonexistent.s"], "cannot read"),
    (["disasm", "/nonexistent.o"], "cannot read"),
])
def test_bad_input_is_one_line_exit_1(argv: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_bad_assembly_and_non_elf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.s"
    src.write_text("exit\nr0 = r99\n")
    assert main(["asm", str(src)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert main(["disasm", str(src)]) == 1
    assert "not an ELF file" in capsys.readouterr().err


@pytest.mark.clang
def test_unknown_section_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["disasm", str(build_object("minimal")), "--section", "nope"]) == 1
    assert "no program section 'nope'" in capsys.readouterr().err


@pytest.mark.clang
def test_unknown_opcode_in_object_names_section_and_offset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    obj = build_object("minimal")
    data = bytearray(obj.read_bytes())
    (xdp,) = [s for s in read_program_sections(str(obj)) if s.name == "xdp"]
    at = bytes(data).find(xdp.data)
    data[at + 8] = 0xFF  # second instruction of the xdp section
    bad = tmp_path / "bad.o"
    bad.write_bytes(bytes(data))
    assert main(["disasm", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "section xdp, offset 0x8: unknown instruction: opcode 0xff" in err
