"""solisten: listen() calls of this process show with backlog, address and port."""

from __future__ import annotations

import json
import os
import socket

import pytest

from pybpf.tools import solisten
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _listen(family: int, addr: str, backlog: int, ports: list[int]) -> None:
    with socket.socket(family) as s:
        s.bind((addr, 0))
        ports.append(s.getsockname()[1])
        s.listen(backlog)


def test_listen_shows_backlog_and_address() -> None:
    ports: list[int] = []

    def act() -> None:
        _listen(socket.AF_INET, "127.0.0.1", 7, ports)
        _listen(socket.AF_INET6, "::1", 9, ports)

    run = run_tool(solisten, ["-p", str(os.getpid())], action=act, leaves_nothing=True,
                   until=lambda out: out.count("\n") >= 3)
    assert run.lines[0].split() == ["PID", "COMM", "PROTO", "BACKLOG", "ADDR", "PORT"]
    rows = [ln.split() for ln in run.lines[1:]]
    assert rows[0][2:] == ["TCPv4", "7", "127.0.0.1", str(ports[0])]
    assert rows[1][2:] == ["TCPv6", "9", "::1", str(ports[1])]
    assert rows[0][0] == str(os.getpid())


def test_family_filter_json() -> None:
    ports: list[int] = []

    def act() -> None:
        _listen(socket.AF_INET6, "::1", 3, ports)
        _listen(socket.AF_INET, "127.0.0.1", 4, ports)

    run = run_tool(solisten, ["-4", "--json", "-p", str(os.getpid())], action=act,
                   until=lambda out: "127.0.0.1" in out)
    assert [json.loads(ln)["port"] for ln in run.lines] == [ports[1]]
