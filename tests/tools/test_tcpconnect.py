"""tcpconnect shows the connecting process, addresses and ports; -c counts."""

from __future__ import annotations

import os
import socket

import pytest

from pybpf.tools import tcpconnect
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel

# BCC's tcpconnect_example.txt: "PID    COMM         IP SADDR            DADDR            DPORT"
HEADER_WORDS = ["PID", "COMM", "IP", "SADDR", "DADDR", "DPORT"]


def _refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]      # bound, not listening: the connect is refused
    with socket.socket() as c, pytest.raises(ConnectionRefusedError):
        c.connect(("127.0.0.1", port))


def test_connect_line_names_caller_and_destination() -> None:
    box = {}
    run = run_tool(tcpconnect, ["-U", "-L", "-p", str(os.getpid())],
                   action=lambda: box.setdefault("s", loopback_session()),
                   until=lambda out: len(out.splitlines()) >= 2, timeout_s=5)
    assert run.lines[0].split() == ["UID", "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR",
                                    "DPORT"]
    fields = run.lines[1].split()
    s = box["s"]
    assert fields == ["0", str(os.getpid()), fields[2], "4", "127.0.0.1", str(s.client_port),
                      "127.0.0.1", str(s.server_port)]
    assert len(run.lines) == 2          # accept() side is not a connect


def test_refused_connects_are_shown_and_counted() -> None:
    run = run_tool(tcpconnect, [], timeout_s=0.3)
    assert run.lines[0].split() == HEADER_WORDS
    run = run_tool(tcpconnect, ["-c", "-p", str(os.getpid())],
                   action=lambda: (_refused(), _refused()), timeout_s=0.5)
    rows = [ln.split() for ln in run.lines if ln.startswith("127.0.0.1")]
    assert run.lines[1].split() == ["LADDR", "RADDR", "RPORT", "CONNECTS"]
    assert [r[3] for r in rows] == ["2"] or sorted(r[3] for r in rows) == ["1", "1"]
