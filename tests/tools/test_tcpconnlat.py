"""tcpconnlat: a loopback connect() shows with this process, addresses and its latency."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import tcpconnlat
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel

BCC_HEADER = "PID    COMM         IP SADDR            DADDR            DPORT LAT(ms)"


def test_connect_latency_shows() -> None:
    sessions = []
    run = run_tool(tcpconnlat, ["-p", str(os.getpid())],
                   action=lambda: sessions.append(loopback_session()), leaves_nothing=True,
                   until=lambda out: out.count("\n") >= 2)
    assert run.lines[0] == BCC_HEADER
    row = run.lines[1].split()
    assert row[0] == str(os.getpid()) and row[2:5] == ["4", "127.0.0.1", "127.0.0.1"]
    assert row[5] == str(sessions[0].server_port) and float(row[6]) >= 0


def test_lport_json_and_threshold() -> None:
    sessions = []
    run = run_tool(tcpconnlat, ["-L", "--json", "-p", str(os.getpid())],
                   action=lambda: sessions.append(loopback_session()),
                   until=lambda out: "dport" in out)
    ev = json.loads(run.lines[0])
    assert ev["lport"] == sessions[0].client_port and ev["dport"] == sessions[0].server_port
    # a loopback connect takes far less than 10 s: nothing above that threshold
    run = run_tool(tcpconnlat, ["-p", str(os.getpid()), "10000"],
                   action=loopback_session, timeout_s=0.3)
    assert run.lines == [BCC_HEADER]
