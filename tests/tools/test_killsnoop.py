"""killsnoop: a signal the test sends shows with sender, signal, target and result."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from pybpf.tools import killsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's killsnoop: %-9s TIME, %-6s PID, %-16s COMM, %-4s SIG, %-6s TPID, RESULT
BCC_HEADER = "TIME      PID    COMM             SIG  TPID   RESULT"


def test_kill_shows_sender_signal_target_and_result() -> None:
    child = subprocess.Popen(["sleep", "30"])
    gone = 4_000_000   # above pid_max: kill() fails with ESRCH

    def act() -> None:
        os.kill(child.pid, signal.SIGTERM)
        child.wait()
        with pytest.raises(ProcessLookupError):
            os.kill(gone, signal.SIGUSR1)

    result = run_tool(killsnoop, ["-p", str(os.getpid())], action=act, leaves_nothing=True,
                      until=lambda out: str(gone) in out)
    assert result.lines[0] == BCC_HEADER
    ok = next(ln.split() for ln in result.lines if f" {child.pid} " in ln)
    assert ok[1:] == [str(os.getpid()), ok[2], "15", str(child.pid), "0"]
    failed = next(ln.split() for ln in result.lines if str(gone) in ln)
    assert failed[-3:] == ["10", str(gone), "-3"]      # SIGUSR1, ESRCH


def test_failed_only_and_signal_filter() -> None:
    def act() -> None:
        os.kill(os.getpid(), 0)                       # succeeds, signal 0
        with pytest.raises(ProcessLookupError):
            os.kill(4_000_001, signal.SIGUSR2)
        with pytest.raises(ProcessLookupError):
            os.kill(4_000_002, signal.SIGUSR1)

    result = run_tool(killsnoop, ["-x", "-s", "12", "-p", str(os.getpid())], action=act,
                      until=lambda out: "4000001" in out)
    body = result.lines[1:]
    assert len(body) == 1 and body[0].split()[-3:] == ["12", "4000001", "-3"]
