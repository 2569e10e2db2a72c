"""runqlen: three busy children pinned to CPU 0 make its run queue at least two long."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pybpf.tools import runqlen
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

SPIN = """
import os, time
os.sched_setaffinity(0, {0})
t = time.time()
while time.time() - t < 3:
    pass
"""


@pytest.fixture
def spinners():  # noqa: ANN201
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(3)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


@pytest.mark.usefixtures("spinners")
def test_busy_cpu_has_a_queue() -> None:
    run = run_tool(runqlen, ["-C"], timeout_s=1.0, leaves_nothing=True)
    assert run.lines[0] == "Sampling run queue length... Hit Ctrl-C to end."
    at = run.lines.index("cpu = 0")
    assert run.lines[at + 1] == "     runqlen       : count     distribution"
    rows = []
    for ln in run.lines[at + 2:]:
        if ":" not in ln:
            break
        rows.append((int(ln.split(":")[0]), int(ln.split(":")[1].split()[0])))
    assert sum(n for length, n in rows if length >= 2) > 0


@pytest.mark.usefixtures("spinners")
def test_occupancy_json() -> None:
    run = run_tool(runqlen, ["-C", "--json"], timeout_s=1.0)
    cpu0 = next(json.loads(ln) for ln in run.lines if '"cpu":0' in ln)
    # samples that interrupt a task of another group see that group's queue: less than all
    assert cpu0["runqocc_pct"] > 10
