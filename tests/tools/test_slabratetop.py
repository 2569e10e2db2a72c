"""slabratetop: the TCP sockets this test opens are allocations of the kernel's TCP
cache."""

from __future__ import annotations

import json
import socket

import pytest

from pybpf.tools import slabratetop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

SOCKETS = 200


def _sockets() -> None:
    made = [socket.socket() for _ in range(SOCKETS)]
    for s in made:
        s.close()


def _allocs(lines: list[str], cache: str) -> int:
    return sum(int(ln.split()[1]) for ln in lines if ln.split()[:1] == [cache])


def test_tcp_sockets_are_counted() -> None:
    run = run_tool(slabratetop, ["-C", "-r", "1000", "2"], action=_sockets, timeout_s=3.0,
                   leaves_nothing=True, until=lambda out: "ALLOCS" in out)
    assert f"{'CACHE':<32} {'ALLOCS':>6} {'BYTES':>10}" in run.lines
    assert _allocs(run.lines, "TCP") >= SOCKETS


def test_json() -> None:
    run = run_tool(slabratetop, ["--json", "-r", "1000", "2"], action=_sockets,
                   timeout_s=3.0, until=lambda out: '"cache"' in out)
    rows = [json.loads(ln) for ln in run.lines]
    tcp = [r for r in rows if r["cache"] == "TCP"]
    assert tcp and sum(r["allocs"] for r in tcp) >= SOCKETS
    assert all(r["bytes"] >= r["allocs"] for r in tcp)
