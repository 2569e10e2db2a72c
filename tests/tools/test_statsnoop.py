"""statsnoop: stat() calls the test makes show with result, errno and path."""

from __future__ import annotations

import os

import pytest

from pybpf.tools import statsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's statsnoop: %-6s PID, %-16s COMM, %4s FD, %3s ERR, PATH (-t: %-14s TIME(s))
BCC_HEADER = "PID    COMM               FD ERR PATH"
BCC_HEADER_T = "TIME(s)       PID    COMM               FD ERR PATH"


def test_stats_show_with_result_errno_and_path(tmp_path) -> None:
    present = tmp_path / "pybpf-statsnoop-present"
    present.write_text("x")

    def act() -> None:
        os.stat(present)
        os.lstat(present)
        with pytest.raises(FileNotFoundError):
            os.stat(tmp_path / "pybpf-statsnoop-missing")

    result = run_tool(statsnoop, ["-p", str(os.getpid())], action=act,
                      until=lambda out: "pybpf-statsnoop-missing" in out)
    assert result.lines[0] == BCC_HEADER
    ok = next(ln for ln in result.lines if ln.endswith("pybpf-statsnoop-present"))
    assert ok.split()[0] == str(os.getpid()) and ok.split()[-3:-1] == ["0", "0"]
    missing = next(ln for ln in result.lines if ln.endswith("pybpf-statsnoop-missing"))
    assert missing.split()[-3:-1] == ["-1", "2"]


def test_failed_only_with_timestamps_and_syscall_names(tmp_path) -> None:
    def act() -> None:
        os.stat(tmp_path)
        with pytest.raises(FileNotFoundError):
            os.stat(tmp_path / "pybpf-statsnoop-missing")

    result = run_tool(statsnoop, ["-x", "-t", "-p", str(os.getpid())], action=act,
                      until=lambda out: "pybpf-statsnoop-missing" in out)
    assert result.lines[0] == BCC_HEADER_T
    assert all(ln.split()[-2] != "0" for ln in result.lines[1:])
    named = run_tool(statsnoop, ["-s", "-p", str(os.getpid())], action=act,
                     until=lambda out: "pybpf-statsnoop-missing" in out)
    line = next(ln for ln in named.lines if "pybpf-statsnoop-missing" in ln)
    assert line.split()[0] in statsnoop.SYSCALLS
