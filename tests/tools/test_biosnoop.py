"""biosnoop on a loop device: the test's O_DIRECT writes and reads show, one line each."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import biosnoop
from tests.tools.block_helpers import direct_io, loop_device  # noqa: F401 - a fixture
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's biosnoop.py header
BCC_HEADER = "TIME(s)     COMM           PID     DISK      T SECTOR     BYTES   LAT(ms)"


def test_each_direct_io_is_one_line(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biosnoop, ["-d", name], action=lambda: direct_io(loop_device, 10),
                   leaves_nothing=True,
                   until=lambda out: sum(f" {name} " in ln for ln in out.splitlines()) >= 20)
    assert run.lines[0] == BCC_HEADER
    rows = [ln.split() for ln in run.lines[1:]]
    mine = [r for r in rows if r[1].startswith("python") or r[2] == str(os.getpid())]
    writes = [r for r in mine if r[4] == "W"]
    reads = [r for r in mine if r[4] == "R"]
    assert len(writes) == 10 and len(reads) == 10
    assert sorted(int(r[5]) for r in writes) == [i * 8 for i in range(10)]
    assert {r[6] for r in mine} == {"4096"}


def test_json_and_queue_time(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biosnoop, ["-Q", "-d", name, "--json"],
                   action=lambda: direct_io(loop_device, 3, writes=False),
                   until=lambda out: out.count("\n") >= 3)
    events = [json.loads(ln) for ln in run.lines]
    assert len(events) == 3
    assert {e["rw"] for e in events} == {"R"} and {e["disk"] for e in events} == {name}
    assert all(e["queue_ms"] >= 0 and e["lat_ms"] > 0 for e in events)
