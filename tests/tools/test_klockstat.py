"""klockstat: three processes hammering one pipe contend for its lock (and the run
queues'); those waits show under their callers, with the pipe functions in the stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from pybpf.tools import klockstat
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

WRITER = """
import os, sys, time
fd = int(sys.argv[1])
block = b"x" * 4096
start = time.time()
while time.time() - start < 1.0:
    os.write(fd, block)
"""


def _hammer_pipe() -> None:
    r, w = os.pipe()
    try:
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(w)], pass_fds=(w,))
                   for _ in range(3)]
    finally:
        os.close(w)
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and os.read(r, 65536):
            pass
    finally:
        os.close(r)
        for p in writers:
            p.kill()
            p.wait()


def test_pipe_contention_shows() -> None:
    run = run_tool(klockstat, ["--json", "-s", "4"], action=_hammer_pipe, timeout_s=0.5,
                   leaves_nothing=True)
    records = [json.loads(ln) for ln in run.lines]
    assert records and all(r["count"] >= 1 and r["max_wait_ns"] <= r["total_wait_ns"]
                           for r in records)
    assert any("pipe" in f for r in records for f in r["stack"])


def test_text_columns_and_callers() -> None:
    run = run_tool(klockstat, [], action=_hammer_pipe, timeout_s=0.5)
    assert run.lines[0] == "Tracing lock contention... Hit Ctrl-C to end."
    assert run.lines[2].split() == ["Caller", "Avg", "Wait", "Count", "Max", "Wait",
                                    "Total", "Wait"]
    assert klockstat.caller_of(["_raw_spin_lock+0x1", "mutex_lock+0x2", "pipe_write+0x3"]) \
        == "pipe_write+0x3"
