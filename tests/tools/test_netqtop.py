"""netqtop: a loopback TCP session's packets are counted on lo's queue, both directions,
by size."""

from __future__ import annotations

import json

import pytest

from pybpf.tools import netqtop
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel


def _section(lines: list[str], title: str) -> list[list[str]]:
    at = lines.index(title)
    rows = []
    for ln in lines[at + 2:]:
        if not ln.startswith(" "):
            break
        rows.append(ln.split())
    return rows


def test_loopback_queue_counts() -> None:
    run = run_tool(netqtop, ["-n", "lo", "-i", "1", "-t"],
                   action=lambda: loopback_session(send=100_000, reply=100_000),
                   leaves_nothing=True, timeout_s=2.5,
                   until=lambda out: any(ln.startswith(" Total") and ln.split()[2:7] !=
                                         ["0"] * 5 for ln in out.splitlines()))
    assert run.lines[0] == "Tracing queues of lo... Hit Ctrl-C to end."
    busy = None
    for i, ln in enumerate(run.lines):
        if ln == "TX" and any(r[0] == "Total" and r[2:7] != ["0"] * 5
                              for r in _section(run.lines[i:], "TX")):
            busy = run.lines[i:]
            break
    assert busy is not None
    tx, rx = _section(busy, "TX"), _section(busy, "RX")
    assert tx[0][0] == "0" and tx[-1][0] == "Total"
    assert sum(int(c) for c in tx[-1][2:7]) >= 4
    assert sum(int(c) for c in rx[-1][2:7]) >= 4     # lo receives what it sends


def test_json_and_buckets() -> None:
    run = run_tool(netqtop, ["--json", "-n", "lo", "-i", "1"],
                   action=lambda: loopback_session(send=50_000, reply=1000), timeout_s=2.5,
                   until=lambda out: '"dir":"RX"' in out)
    rows = [json.loads(ln) for ln in run.lines]
    assert {r["dir"] for r in rows} == {"TX", "RX"}
    assert all(r["packets"] == sum(r["sizes"].values()) for r in rows)
    assert netqtop.size_bucket(63) == 0 and netqtop.size_bucket(64) == 1
    assert netqtop.human(1536) == "1.5K" and netqtop.human(100) == "100"
