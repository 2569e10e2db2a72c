"""numasched: a thread the test moves from CPU to CPU (sched_setaffinity) migrates; with
-a the migration shows even within one node, with the nodes /sys says the CPUs are on."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from pybpf.tools import numasched
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _hop(tids: list[int]) -> None:
    cpus = sorted(os.sched_getaffinity(0))

    def spin() -> None:
        tids.append(threading.get_native_id())
        for cpu in cpus * 3:
            os.sched_setaffinity(0, {cpu})
            t = time.monotonic()
            while time.monotonic() - t < 0.01:
                pass
        os.sched_setaffinity(0, set(cpus))

    t = threading.Thread(target=spin)
    t.start()
    t.join()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to move between")
def test_migrations_show_with_all() -> None:
    tids: list[int] = []
    run = run_tool(numasched, ["-a", "-p", str(os.getpid())], action=lambda: _hop(tids),
                   leaves_nothing=True,
                   until=lambda out: bool(tids) and f" {tids[0]} " in out)
    assert run.lines[0] == "TIME     COMM             PID     TID     SRC_NID DST_NID"
    nodes = numasched.cpu_nodes()
    mine = [ln.split() for ln in run.lines[1:] if ln.split()[3] == str(tids[0])]
    assert mine and all(r[2] == str(os.getpid()) for r in mine)
    assert {int(r[4]) for r in mine} | {int(r[5]) for r in mine} <= set(nodes.values()) | {0}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to move between")
def test_json_cpus() -> None:
    tids: list[int] = []
    run = run_tool(numasched, ["-a", "--json", "-p", str(os.getpid())],
                   action=lambda: _hop(tids),
                   until=lambda out: bool(tids) and f'"tid":{tids[0]}' in out)
    moves = [json.loads(ln) for ln in run.lines if f'"tid":{tids[0]}' in ln]
    assert all(m["src_cpu"] != m["dst_cpu"] for m in moves)
