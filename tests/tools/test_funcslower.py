"""funcslower: libc usleep() calls of this process above the threshold show; fast ones
do not."""

from __future__ import annotations

import ctypes
import json
import os

import pytest

from pybpf.tools import funcslower
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _sleeps() -> None:
    libc = ctypes.CDLL("libc.so.6")
    for us in (100, 5000, 100, 6000):
        libc.usleep(us)
    libc.getppid()


def test_only_slow_calls_show() -> None:
    run = run_tool(funcslower, ["-m", "3", "-p", str(os.getpid()), "c:usleep", "c:getppid"],
                   action=_sleeps, leaves_nothing=True,
                   until=lambda out: out.count("c:usleep") >= 2)
    assert run.lines[0] == "Tracing function calls slower than 3 ms... Ctrl+C to quit."
    assert run.lines[1].split() == ["COMM", "PID", "LAT(ms)", "RVAL", "FUNC"]
    rows = [ln.split() for ln in run.lines[2:]]
    assert [r[-1] for r in rows] == ["c:usleep", "c:usleep"]
    assert float(rows[0][2]) >= 5.0 and float(rows[1][2]) >= 6.0
    assert all(r[3] == "0" for r in rows)


def test_arguments_json_in_us() -> None:
    run = run_tool(funcslower, ["-u", "50", "-a", "1", "--json", "-p", str(os.getpid()),
                                "c:usleep"], action=_sleeps,
                   until=lambda out: out.count("usleep") >= 4)
    calls = [json.loads(ln) for ln in run.lines]
    assert [c["args"] for c in calls] == [[100], [5000], [100], [6000]]
    assert all(c["lat_us"] >= 50 for c in calls)
