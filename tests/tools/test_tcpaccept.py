"""tcpaccept shows the accepting process with both ends of the new connection."""

from __future__ import annotations

import os

import pytest

from pybpf.tools import tcpaccept
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel

# the header of BCC's tcpaccept_example.txt
HEADER = "PID     COMM         IP RADDR            RPORT LADDR            LPORT"


def test_accept_line_has_remote_and_local_ends() -> None:
    box = {}
    run = run_tool(tcpaccept, ["-p", str(os.getpid())],
                   action=lambda: box.setdefault("s", loopback_session()),
                   until=lambda out: len(out.splitlines()) >= 2, timeout_s=5)
    assert run.lines[0] == HEADER
    s = box["s"]
    assert run.lines[1].split()[0] == str(os.getpid())
    assert run.lines[1].split()[2:] == ["4", "127.0.0.1", str(s.client_port), "127.0.0.1",
                                        str(s.server_port)]
