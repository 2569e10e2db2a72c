"""threadsnoop: threads this process starts show with its pid and a named start function."""

from __future__ import annotations

import json
import os
import threading

import pytest

from pybpf.tools import threadsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _start_threads(n: int = 3) -> None:
    threads = [threading.Thread(target=lambda: None) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_new_threads_show() -> None:
    me = str(os.getpid())
    run = run_tool(threadsnoop, [], action=_start_threads, leaves_nothing=True,
                   until=lambda out: sum(f" {me} " in ln for ln in out.splitlines()) >= 3)
    assert run.lines[0] == "TIME(ms)   PID     COMM             FUNC"
    mine = [ln.split() for ln in run.lines if f" {me} " in ln]
    assert len(mine) >= 3
    # the start routine is a symbol of this python (not a bare address)
    assert not mine[0][3].startswith("0x")


def test_json() -> None:
    run = run_tool(threadsnoop, ["--json"], action=lambda: _start_threads(1),
                   until=lambda out: f'"pid":{os.getpid()}' in out)
    ev = next(json.loads(ln) for ln in run.lines if f'"pid":{os.getpid()}' in ln)
    assert ev["func"] and ev["time_ms"] >= 0
