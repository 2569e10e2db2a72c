"""compactsnoop: writing /proc/sys/vm/compact_memory compacts every zone, in this
process: each zone's compaction shows, synchronous, order -1, with a status name."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import compactsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _compact() -> None:
    with open("/proc/sys/vm/compact_memory", "w") as f:
        f.write("1")


def test_manual_compaction_shows() -> None:
    run = run_tool(compactsnoop, ["-p", str(os.getpid())], action=_compact,
                   leaves_nothing=True, until=lambda out: "ZONE_" in out)
    assert run.lines[0].split() == ["COMM", "PID", "NODE", "ZONE", "ORDER", "MODE", "LAT(ms)",
                                    "STATUS"]
    rows = [ln.split() for ln in run.lines[1:]]
    assert rows and all(r[1] == str(os.getpid()) and r[4] == "-1" and r[5] == "SYNC"
                        for r in rows)
    assert {r[3] for r in rows} <= {z for _, z in compactsnoop.zone_names().values()}
    assert {r[7] for r in rows} <= set(compactsnoop.status_names().values())


def test_json() -> None:
    run = run_tool(compactsnoop, ["--json", "-p", str(os.getpid())], action=_compact,
                   until=lambda out: "ZONE_" in out)
    ev = json.loads(run.lines[0])
    assert ev["order"] == -1 and ev["mode"] == "SYNC" and ev["lat_ms"] >= 0
