"""gethostlatency: this process's getaddrinfo() and gethostbyname() calls show."""

from __future__ import annotations

import json
import os
import socket

import pytest

from pybpf.tools import gethostlatency
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "TIME      PID     COMM                  LATms HOST"


def test_lookups_show_with_host_and_latency() -> None:
    def act() -> None:
        socket.getaddrinfo("localhost", 80)
        socket.gethostbyname("localhost")

    run = run_tool(gethostlatency, ["-p", str(os.getpid())], action=act,
                   leaves_nothing=True,
                   until=lambda out: out.count(" localhost") >= 2)
    assert run.lines[0] == BCC_HEADER
    rows = [ln.split() for ln in run.lines[1:]]
    assert len(rows) >= 2
    assert all(r[1] == str(os.getpid()) and r[-1] == "localhost" and float(r[-2]) >= 0
               for r in rows)


def test_json() -> None:
    run = run_tool(gethostlatency, ["--json", "-p", str(os.getpid())],
                   action=lambda: socket.getaddrinfo("127.0.0.1", 22),
                   until=lambda out: "127.0.0.1" in out)
    ev = json.loads(run.lines[0])
    assert ev["host"] == "127.0.0.1" and ev["pid"] == os.getpid()
