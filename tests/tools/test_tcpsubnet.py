"""tcpsubnet: the bytes of a loopback session are counted under 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
import json

import pytest

from pybpf.tools import tcpsubnet
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session

pytestmark = pytest.mark.kernel


def _total(lines: list[str], net: str) -> int:
    return sum(int(ln.split()[1]) for ln in lines if ln.startswith(net + " "))


def test_loopback_bytes_by_subnet() -> None:
    run = run_tool(tcpsubnet, [], action=lambda: loopback_session(send=50_000, reply=7_000),
                   leaves_nothing=True, timeout_s=2.5,
                   until=lambda out: _total(out.splitlines(), "127.0.0.0/8") >= 57_000)
    assert run.lines[0] == "Tracing... Output every 1 secs. Hit Ctrl-C to end"
    assert _total(run.lines, "127.0.0.0/8") >= 57_000


def test_json_in_kbytes() -> None:
    run = run_tool(tcpsubnet, ["-J", "-f", "K", "127.0.0.0/8"],
                   action=lambda: loopback_session(send=100_000, reply=1000), timeout_s=2.5,
                   until=lambda out: '"127.0.0.0/8"' in out)
    entries = [json.loads(ln)["entries"] for ln in run.lines]
    assert sum(e.get("127.0.0.0/8", 0) for e in entries) >= 100


def test_first_matching_subnet_wins() -> None:
    nets = [ipaddress.IPv4Network("10.1.0.0/16"), ipaddress.IPv4Network("10.0.0.0/8")]
    ten_one = int.from_bytes(bytes([10, 1, 2, 3]), "little")
    ten_two = int.from_bytes(bytes([10, 2, 0, 1]), "little")
    assert tcpsubnet.aggregate({ten_one: 5, ten_two: 7}, nets) == {"10.1.0.0/16": 5,
                                                                    "10.0.0.0/8": 7}
