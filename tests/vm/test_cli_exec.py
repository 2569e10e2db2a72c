"""``pybpf vm exec``: the plugin contract of eBPF conformance suites."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2
from pybpf.cli import main


def _hex(items: list[object], *, spaced: bool = True) -> str:
    raw = asm.encode_all(asm.link(items))
    return " ".join(f"{b:02x}" for b in raw) if spaced else raw.hex()


SUM_FIRST_BYTE_AND_LENGTH = [asm.ldx(1, R0, R1, 0), asm.add(R0, R2), asm.exit()]


def test_prints_r0_in_hex(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vm", "exec", "--program", _hex(SUM_FIRST_BYTE_AND_LENGTH), "10 00 00"]) == 0
    assert capsys.readouterr().out == "0x13\n"


def test_full_64_bit_result_and_compact_hex(capsys: pytest.CaptureFixture[str]) -> None:
    prog = _hex([asm.mov(R0, -1), asm.exit()], spaced=False)
    assert main(["vm", "exec", "--program", prog]) == 0
    assert capsys.readouterr().out == "0xffffffffffffffff\n"


def test_program_from_stdin(monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(_hex([asm.mov(R0, 2), asm.exit()]) + "\n"))
    assert main(["vm", "exec"]) == 0
    assert capsys.readouterr().out == "0x2\n"


@pytest.mark.parametrize("args, message", [
    (["--program", "ff00000000000000"], "unknown opcode 0xff"),
    (["--program", "zz"], "not hex"),
    (["--program", "9500"], "not a multiple of 8"),
    (["--program", "7910000000000000 9500000000000000"], "touches no memory"),
    (["--program", "0500ffff00000000 9500000000000000", "--budget", "100"], "budget"),
])
def test_errors_are_one_line_and_exit_non_zero(args: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vm", "exec", *args]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("pybpf vm:")


def test_real_process_contract() -> None:
    done = subprocess.run([sys.executable, "-m", "pybpf", "vm", "exec", "--program",
                           _hex(SUM_FIRST_BYTE_AND_LENGTH), "05"], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "0x6\n", "")
