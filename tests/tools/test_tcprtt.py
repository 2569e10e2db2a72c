"""tcprtt: the RTT samples of a loopback session land in the histogram, per address too."""

from __future__ import annotations

import json

import pytest

from pybpf.tools import tcprtt
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel

HEADER = "     usecs               : count     distribution"


def _total(lines: list[str]) -> int:
    return sum(int(ln.split(":")[1].split()[0]) for ln in lines if "->" in ln)


def test_loopback_session_rtts() -> None:
    run = run_tool(tcprtt, ["-A", "127.0.0.1", "-a", "127.0.0.1"],
                   action=lambda: loopback_session(send=200_000, reply=200_000),
                   timeout_s=0.3, leaves_nothing=True)
    assert run.lines[0] == "Tracing TCP RTT... Hit Ctrl-C to end."
    assert HEADER in run.lines
    assert _total(run.lines) >= 2


def test_by_remote_address_json() -> None:
    run = run_tool(tcprtt, ["-B", "--json", "-A", "127.0.0.1"],
                   action=lambda: loopback_session(send=100_000, reply=100_000),
                   timeout_s=0.3)
    hists = [json.loads(ln) for ln in run.lines]
    assert [h["Remote Address"] for h in hists] == ["127.0.0.1"]
    assert sum(b["count"] for b in hists[0]["buckets"]) >= 2
