"""tcptop: a loopback session's bytes show per connection end, sent and received."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import tcptop
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel

BCC_HEADER = ("PID     COMM         LADDR                 RADDR                  "
              "RX_KB  TX_KB")


def test_both_ends_of_a_session() -> None:
    sessions = []
    run = run_tool(tcptop, ["-C", "-p", str(os.getpid()), "30"],
                   action=lambda: sessions.append(loopback_session(send=300_000, reply=5000)),
                   leaves_nothing=True, timeout_s=0.3)
    assert BCC_HEADER in run.lines
    s = sessions[0]
    rows = {ln.split()[2]: ln.split() for ln in run.lines if ln.startswith(str(os.getpid()))}
    client = rows[f"127.0.0.1:{s.client_port}"]
    server = rows[f"127.0.0.1:{s.server_port}"]
    assert client[3] == f"127.0.0.1:{s.server_port}"
    assert client[4:] == ["4", "292"] and server[4:] == ["292", "4"]


def test_json_bytes() -> None:
    sessions = []
    run = run_tool(tcptop, ["--json", "-p", str(os.getpid()), "30"],
                   action=lambda: sessions.append(loopback_session(send=3000, reply=2048)),
                   timeout_s=0.3)
    rows = {json.loads(ln)["laddr"]: json.loads(ln) for ln in run.lines}
    client = rows[f"127.0.0.1:{sessions[0].client_port}"]
    assert client["tx_bytes"] == 3000 and client["rx_bytes"] == 2048
