"""capable shows a raw socket's CAP_NET_RAW check with the caller and verdict."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pybpf.tools import capable
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def test_raw_socket_checks_cap_net_raw() -> None:
    child = subprocess.Popen([sys.executable, "-c", ("import sys, socket; sys.stdin.readline()"
                              "; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)")],
                             stdin=subprocess.PIPE, text=True)

    def act() -> None:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.close()
        child.wait()
    run = run_tool(capable, ["-x", "-p", str(child.pid)], action=act,
                   until=lambda out: "CAP_NET_RAW" in out, timeout_s=5)
    assert run.lines[0].split() == ["TIME", "UID", "PID", "TID", "COMM", "CAP", "NAME",
                                    "VERDICT"]
    row = next(ln.split() for ln in run.lines if "CAP_NET_RAW" in ln)
    assert row[1:] == ["0", str(child.pid), str(child.pid), row[4], "13", "CAP_NET_RAW",
                       "allow"]
