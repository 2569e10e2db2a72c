"""sigsnoop: a signal the test sends, and the SIGCHLD the kernel sends back, show."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from pybpf.tools import sigsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "TIME     PID     COMM             SIG       TPID    RESULT"


def test_sent_signal_shows_with_sender_and_target() -> None:
    child = subprocess.Popen(["sleep", "30"])

    def act() -> None:
        os.kill(child.pid, signal.SIGTERM)
        child.wait()

    result = run_tool(sigsnoop, ["-t", str(child.pid), "-n"], action=act,
                      leaves_nothing=True, until=lambda out: "SIGTERM" in out)
    assert result.lines[0] == BCC_HEADER
    row = next(ln.split() for ln in result.lines if "SIGTERM" in ln)
    assert row[1] == str(os.getpid()) and row[-2:] == [str(child.pid), "0"]


def test_kill_only_mode_sees_a_failed_kill() -> None:
    gone = 4_000_003

    def act() -> None:
        with pytest.raises(ProcessLookupError):
            os.kill(gone, signal.SIGUSR1)

    result = run_tool(sigsnoop, ["-k", "-p", str(os.getpid()), "--json"], action=act,
                      until=lambda out: str(gone) in out)
    import json
    events = [json.loads(ln) for ln in result.lines]
    assert {"pid": os.getpid(), "sig": 10, "tpid": gone}.items() <= events[0].items()
