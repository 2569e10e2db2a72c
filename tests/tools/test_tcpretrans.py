"""tcpretrans: a SYN into a namespace's dummy device (which drops it) is retransmitted."""

from __future__ import annotations

import json
import socket

import pytest

from pybpf.kernel.features import Features
from pybpf.tools import tcpretrans
from tests.kernel.netns import netns
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE"
PEER = "198.18.0.2"


def _unanswered_connect(port: int) -> None:
    """connect() to PEER:port over a veth pair inside a namespace, PEER's MAC a made-up
    one: the other end drops the SYN (not for it) and it is retransmitted after the
    initial 1 s RTO."""
    with netns() as ns:
        ns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
        ns.ip("addr", "add", "198.18.0.1/24", "dev", "va")
        ns.ip("link", "set", "va", "up")
        ns.ip("link", "set", "vb", "up")
        ns.ip("neigh", "add", PEER, "lladdr", "02:00:5e:00:00:02", "dev", "va")
        with ns.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1.5)
            with pytest.raises(TimeoutError):
                s.connect((PEER, port))


def test_syn_retransmit_shows() -> None:
    run = run_tool(tcpretrans, ["-4"], action=lambda: _unanswered_connect(4242),
                   leaves_nothing=True, until=lambda out: f"{PEER}:4242" in out)
    assert run.lines[0] == BCC_HEADER
    row = next(ln.split() for ln in run.lines if f"{PEER}:4242" in ln)
    assert row[2] == "4" and row[3].startswith("198.18.0.1:") and row[4] == "R>"
    assert row[-1] == "SYN_SENT"


def test_count_mode_json() -> None:
    run = run_tool(tcpretrans, ["-c", "--json"], action=lambda: _unanswered_connect(4243),
                   timeout_s=0.2)
    flows = [json.loads(ln) for ln in run.lines]
    mine = [f for f in flows if f["raddr"] == f"{PEER}:4243"]
    assert mine and mine[0]["retransmits"] >= 1


def test_loss_probes_say_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        Features().have_kprobes()
        missing = False
    except tcpretrans.NotSupportedError:
        missing = True
    run_tool(tcpretrans, ["-l"], timeout_s=0.1)
    err = capsys.readouterr().err
    if missing:
        assert "tail loss probes (-l) need a kprobe on tcp_send_loss_probe" in err
    else:
        assert "tail loss" not in err
