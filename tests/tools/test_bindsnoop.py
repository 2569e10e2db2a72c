"""bindsnoop: this process's binds show with protocol, address, port, options and result."""

from __future__ import annotations

import json
import os
import socket

import pytest

from pybpf.tools import bindsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def test_binds_show() -> None:
    ports: list[int] = []

    def act() -> None:
        with socket.socket() as tcp:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind(("127.0.0.1", 0))
            ports.append(tcp.getsockname()[1])
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            udp.bind(("::1", 0))
            ports.append(udp.getsockname()[1])

    run = run_tool(bindsnoop, ["-p", str(os.getpid())], action=act, leaves_nothing=True,
                   until=lambda out: out.count("\n") >= 3)
    assert run.lines[0].split() == ["PID", "COMM", "RET", "PROT", "ADDR", "PORT", "OPTS", "IF"]
    tcp, udp = (ln.split() for ln in run.lines[1:3])
    assert tcp[0] == str(os.getpid())
    # a port 0 bind: the caller asked for 0, the kernel chose
    assert tcp[2:] == ["0", "TCP", "127.0.0.1", "0", "...R.", "0"]
    assert udp[2:] == ["0", "UDP", "::1", "0", "....r", "0"]


def test_failed_bind_json() -> None:
    def act() -> None:
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            with pytest.raises(OSError):
                b.bind(a.getsockname())

    run = run_tool(bindsnoop, ["-E", "--json", "-p", str(os.getpid())], action=act,
                   until=lambda out: "ret" in out)
    ev = json.loads(run.lines[0])
    assert ev["ret"] == -98 and ev["proto"] == "TCP" and ev["port"] > 0     # EADDRINUSE
