"""tcpdrop: a SYN to a closed loopback port is dropped (no socket) and shows, with a
kernel stack."""

from __future__ import annotations

import json
import socket

import pytest

from pybpf.tools import tcpdrop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "TIME     PID    IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(port: int) -> None:
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))


def test_syn_to_closed_port_is_a_drop() -> None:
    port = _closed_port()
    run = run_tool(tcpdrop, ["-4"], action=lambda: _refused(port), leaves_nothing=True,
                   until=lambda out: f"127.0.0.1:{port} " in out)
    assert run.lines[0] == BCC_HEADER
    at = next(i for i, ln in enumerate(run.lines) if f"> 127.0.0.1:{port} " in ln)
    row = run.lines[at].split()
    assert row[2] == "4" and row[-3:] == ["NONE", "(SYN)", "NO_SOCKET"]
    assert run.lines[at + 1].startswith("\t")      # the kernel stack follows
    assert any("tcp_v4_rcv" in ln for ln in run.lines[at + 1:at + 30])


def test_json() -> None:
    port = _closed_port()
    run = run_tool(tcpdrop, ["--json"], action=lambda: _refused(port),
                   until=lambda out: f"127.0.0.1:{port}\"" in out)
    ev = next(json.loads(ln) for ln in run.lines if f"127.0.0.1:{port}\"" in ln)
    assert ev["flags"] == "SYN" and ev["reason"] == "NO_SOCKET" and ev["stack"]


def test_reason_names_come_from_the_kernel() -> None:
    reasons = tcpdrop.drop_reasons()
    assert reasons[3] == "NO_SOCKET"
    assert tcpdrop.tcp_flags(0x12) == "SYN|ACK"
