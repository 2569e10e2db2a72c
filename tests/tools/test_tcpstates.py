"""tcpstates sees every state change of a loopback session, with BCC's columns."""

from __future__ import annotations

import json

import pytest

from pybpf.kernel import inventory
from pybpf.tools import tcpstates
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import loopback_session, own_objects

pytestmark = pytest.mark.kernel

# BCC's tcpstates_example.txt header (non-wide), in the same column order and widths
HEADER = ["SKADDR", "C-PID", "C-COMM", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "->",
          "NEWSTATE", "MS"]


def test_client_side_walks_syn_sent_established_fin_wait_close() -> None:
    box = {}
    run = run_tool(tcpstates, [], action=lambda: box.setdefault("s", loopback_session()),
                   until=lambda out: out.count("-> CLOSE ") >= 2, timeout_s=5)
    assert run.lines[0].split() == HEADER
    assert run.lines[0].startswith("SKADDR           C-PID C-COMM     LADDR           LPORT")
    port = str(box["s"].client_port)
    mine = [ln.split() for ln in run.lines[1:] if ln.split()[4] == port]
    transitions = [(f[7], f[9]) for f in mine]
    assert ("SYN_SENT", "ESTABLISHED") in transitions
    assert ("ESTABLISHED", "FIN_WAIT1") in transitions
    assert transitions[-1][1] == "CLOSE"
    established = next(f for f in mine if f[7] == "ESTABLISHED")
    assert float(established[10]) >= 40.0      # held ~50 ms in ESTABLISHED
    assert all(f[3] == "127.0.0.1" and f[5] == "127.0.0.1" for f in mine)


def test_json_lines_and_nothing_left_loaded() -> None:
    box: dict = {}
    run = run_tool(tcpstates, ["--json", "-L", "1"],
                   action=lambda: box.setdefault("s", loopback_session()), timeout_s=0.5)
    assert run.output == ""          # -L 1 filters every line out; JSON has no header

    def act() -> None:
        box["live"] = own_objects("tcpstates_change")
        box["s"] = loopback_session()
    run = run_tool(tcpstates, ["--json"], action=act,
                   until=lambda out: out.count('"newstate":"CLOSE"') >= 2, timeout_s=5)
    records = [json.loads(ln) for ln in run.lines]
    assert {r["newstate"] for r in records} >= {"SYN_SENT", "ESTABLISHED", "CLOSE"}
    assert box["live"].programs and box["live"].maps     # it was loaded while running
    assert not inventory.still_loaded(box["live"])       # and is all gone now
