"""runqlen: three busy children pinned to CPU 0 make its run queue at least two long."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pybpf.tools import runqlen
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# spins until killed (a fixed spin time ran out on a loaded machine before the tool,
# slow to load there, began sampling); says so once it is on CPU 0
SPIN = """
import os
os.sched_setaffinity(0, {0})
print("spinning", flush=True)
while True:
    pass
"""


@pytest.fixture
def spinners():  # noqa: ANN201
    procs = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline() == "spinning\n"
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()
            if p.stdout is not None:
                p.stdout.close()


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
