"""tcplife prints one line per loopback session with bytes and lifetime."""

from __future__ import annotations

import os
import signal

import pytest

from pybpf.kernel import inventory
from pybpf.tools import tcplife
from tests.tools.conftest import read_line_until, run_tool, start_tool_process
from tests.tools.tcp_helpers import loopback_session, own_objects

pytestmark = pytest.mark.kernel

# BCC's tcplife_example.txt: "PID   COMM       LADDR           LPORT RADDR           RPORT
# TX_KB RX_KB MS"
HEADER = "PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS"


def test_session_line_has_pid_ports_kilobytes_and_lifetime() -> None:
    box = {}
    run = run_tool(tcplife, ["-p", str(os.getpid())],
                   action=lambda: box.setdefault("s", loopback_session(
                       send=5000, reply=3000, hold_s=0.2)),
                   until=lambda out: len(out.splitlines()) >= 3, timeout_s=5)
    assert run.lines[0] == HEADER
    s = box["s"]
    rows = {int(f[3]): f for f in (ln.split() for ln in run.lines[1:])}
    client, server = rows[s.client_port], rows[s.server_port]
    assert client[0] == str(os.getpid()) and server[0] == str(os.getpid())
    assert client[5] == str(s.server_port)
    # client sent 5000 bytes (4 KiB) and got 3000 (2 KiB); the server the other way round
    assert (client[6], client[7]) == ("4", "2")
    assert (server[6], server[7]) == ("2", "4")
    assert 190.0 <= float(client[8]) < 5000.0


def test_sigterm_ends_the_process_and_unloads_everything() -> None:
    proc = start_tool_process("tcplife", [])
    read_line_until(proc, lambda ln: ln.startswith("PID"))
    live = own_objects("tcplife_change", pid=proc.pid)
    loopback_session()
    lines = read_line_until(proc, lambda ln: "127.0.0.1" in ln)
    assert lines
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    with proc:                      # closes the pipes
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    assert live.programs
    assert not inventory.still_loaded(live)
