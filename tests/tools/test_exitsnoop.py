"""exitsnoop: processes the test ends show with their exit code or signal and age."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable

import pytest

from pybpf.tools import exitsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's exitsnoop: %-16s PCOMM, %-6s PID PPID TID, %-7s AGE(s), EXIT_CODE
BCC_HEADER = "PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _has_rows(out: str, pids: Iterable[int]) -> bool:
    """Whether ``out`` has a row for each of ``pids`` (other processes exit meanwhile)."""
    shown = {ln.split()[1] for ln in out.splitlines()[1:] if len(ln.split()) > 1}
    return {str(p) for p in pids} <= shown


def test_exit_codes_signals_and_age() -> None:
    pids: dict[str, int] = {}

    def act() -> None:
        coded = subprocess.Popen(["sh", "-c", "sleep 0.3; exit 65"])
        # SIGINT default in the child: a test run started as a background job inherits
        # it ignored, and sleep would then live its whole 30 s
        killed = subprocess.Popen(["sleep", "30"], preexec_fn=_default_sigint)
        pids.update(coded=coded.pid, killed=killed.pid)
        time.sleep(0.1)
        killed.send_signal(signal.SIGINT)
        killed.wait()
        coded.wait()

    result = run_tool(exitsnoop, [], action=act, leaves_nothing=True,
                      until=lambda out: _has_rows(out, pids.values()))
    assert result.lines[0] == BCC_HEADER
    coded = next(ln for ln in result.lines if ln.split()[1] == str(pids["coded"]))
    fields = coded.split()
    assert fields[0] == "sh" and fields[2] == str(os.getpid()) and fields[3] == fields[1]
    assert 0.25 <= float(fields[4]) < 5
    assert coded.endswith("code 65")
    killed = next(ln for ln in result.lines if ln.split()[1] == str(pids["killed"]))
    assert killed.startswith("sleep ") and killed.endswith("signal 2 (INT)")


def test_failed_only_label_and_utc_timestamp() -> None:
    def act() -> None:
        subprocess.run(["true"])
        subprocess.run(["sh", "-c", "exit 3"])

    result = run_tool(exitsnoop, ["-x", "--utc", "--label", "exit"], action=act,
                      until=lambda out: "code 3" in out)
    assert result.lines[0].startswith("TIME-UTC     LABEL PCOMM ")
    body = list(result.lines[1:])
    assert all(not ln.endswith(" 0") for ln in body)
    line = next(ln for ln in body if ln.endswith("code 3"))
    assert line.split()[1] == "exit" and len(line.split()[0]) == 12


def test_describe_exit_follows_the_exit_code_layout() -> None:
    assert exitsnoop.describe_exit(0) == "0"
    assert exitsnoop.describe_exit(65 << 8) == "code 65"
    assert exitsnoop.describe_exit(9) == "signal 9 (KILL)"
    assert exitsnoop.describe_exit(0x80 | 11) == "signal 11 (SEGV), core dumped "
