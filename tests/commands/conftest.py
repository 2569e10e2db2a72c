"""CLI command tests: each proves it leaked no file descriptor, and helpers to run a command
in-process or as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from pybpf.cli import main
from tests.kernel.conftest import fd_leak_check


@pytest.fixture(autouse=True)
def no_fd_leak() -> Iterator[None]:
    with fd_leak_check():
        yield


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``pybpf ARGV`` in this process: (exit status, stdout, stderr)."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    status, out, err = run_cli(capsys, *argv)
    assert status == 0, err
    return json.loads(out)


def bpftool_json(*argv: str) -> Any:
    """``bpftool -j ARGV`` parsed (the reference the commands are compared with)."""
    proc = subprocess.run(["bpftool", "-j", *argv], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def bpftool_or_skip() -> None:
    import shutil

    if shutil.which("bpftool") is None:
        pytest.skip("needs bpftool (apt-get install bpftool) as the reference")


PYBPF = [sys.executable, "-m", "pybpf"]
