"""wakeuptime: a child blocked reading a pipe is woken by this process's write: its sleep
shows under this process's name, with the pipe write in the waker's stack."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from pybpf.tools import wakeuptime
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

READER = "import os, sys\nprint('ready', flush=True)\nos.read(0, 1)\nos.read(0, 1)\n"


def _wake(child: subprocess.Popen[str]) -> None:
    """Wake the child (asleep since before tracing began), let it sleep again in its
    second read() for 0.2 s, traced, and wake it."""
    assert child.stdin is not None
    child.stdin.write("x")
    child.stdin.flush()
    time.sleep(0.2)
    child.stdin.write("y")
    child.stdin.flush()
    child.wait()


def _reader() -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", READER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def test_pipe_wakeup_has_the_writers_stack() -> None:
    child = _reader()
    with open("/proc/self/comm") as f:
        me = f.read().strip()
    try:
        run = run_tool(wakeuptime, ["--json", "-p", str(child.pid)],
                       action=lambda: _wake(child), timeout_s=0.3, leaves_nothing=True)
    finally:
        child.kill()
        child.wait()
        for f in (child.stdin, child.stdout):
            if f:
                f.close()
    records = [json.loads(ln) for ln in run.lines]
    mine = [r for r in records if r["waker"] == me]
    assert mine and max(r["us"] for r in mine) >= 150_000
    assert any("pipe_write" in f for r in mine for f in r["stack"])


def test_text_form() -> None:
    child = _reader()
    try:
        run = run_tool(wakeuptime, ["-p", str(child.pid)], action=lambda: _wake(child),
                       timeout_s=0.3)
    finally:
        child.kill()
        child.wait()
        for f in (child.stdin, child.stdout):
            if f:
                f.close()
    assert run.lines[0] == "Tracing blocked time (us) by kernel stack... Hit Ctrl-C to end."
    assert any(ln.startswith("    target:          python") for ln in run.lines)
    assert any(ln.startswith("    waker:           ") for ln in run.lines)
