"""runqslower: a child that naps in a loop waits on the run queue after each wakeup; with
a 1 us threshold those waits show under its name and thread id."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pybpf.tools import runqslower
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

NAPPER = "import time\nwhile True:\n    time.sleep(0.002)\n"


@pytest.fixture
def napper():  # noqa: ANN201
    proc = subprocess.Popen([sys.executable, "-c", NAPPER])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_waits_of_the_napper_show(napper: subprocess.Popen[bytes]) -> None:
    pid = str(napper.pid)
    run = run_tool(runqslower, ["-p", pid, "-P", "1"], leaves_nothing=True,
                   until=lambda out: out.count(f" {pid} ") >= 3)
    assert run.lines[0] == "Tracing run queue latency higher than 1 us"
    assert run.lines[1].split() == ["TIME", "COMM", "TID", "LAT(us)", "PREV", "COMM",
                                    "PREV", "TID"]
    rows = [ln.split() for ln in run.lines[2:]]
    assert rows and all(r[2] == pid and r[1].startswith("python") and int(r[3]) >= 1
                        for r in rows)


def test_json(napper: subprocess.Popen[bytes]) -> None:
    run = run_tool(runqslower, ["--json", "-t", str(napper.pid), "1"],
                   until=lambda out: "lat_us" in out)
    ev = json.loads(run.lines[0])
    assert ev["tid"] == napper.pid and ev["lat_us"] >= 1
