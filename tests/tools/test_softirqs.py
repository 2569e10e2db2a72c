"""softirqs and hardirqs: loopback packets are net_rx softirqs; disk writes are hard irqs."""

import os
import socket

import pytest

from pybpf.tools import hardirqs, softirqs

from .conftest import run_tool

pytestmark = pytest.mark.kernel
PACKETS = 50


def _udp_over_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        for _ in range(PACKETS):
            tx.sendto(b"x", rx.getsockname())
            rx.recv(16)


def test_softirq_counts_one_net_rx_per_packet():
    run = run_tool(softirqs, ["-C"], action=_udp_over_loopback, timeout_s=0.3,
                   leaves_nothing=True)
    assert run.lines[0] == "Tracing soft irq event count... Hit Ctrl-C to end."
    # BCC's columns: "%-16s %11s" % ("SOFTIRQ", "TOTAL_count")
    assert "SOFTIRQ          TOTAL_count" in run.lines
    rows = {ln.split()[0]: int(ln.split()[1]) for ln in run.lines[3:] if ln.strip()}
    assert rows["net_rx"] >= PACKETS


def test_softirq_histograms_have_sections():
    run = run_tool(softirqs, ["-d"], action=_udp_over_loopback, timeout_s=0.3)
    assert "softirq = net_rx" in run.lines
    assert "     usecs               : count     distribution" in run.lines


def test_hardirqs_counts_disk_interrupts(tmp_path):
    def write_and_sync() -> None:
        with open(tmp_path / "data", "wb") as f:
            for _ in range(5):
                f.write(os.urandom(65536))
                f.flush()
                os.fsync(f.fileno())

    run = run_tool(hardirqs, ["-C"], action=write_and_sync, timeout_s=0.3)
    assert run.lines[0] == "Tracing hard irq event count... Hit Ctrl-C to end."
    assert "HARDIRQ                    TOTAL_count" in run.lines
    rows = [ln for ln in run.lines[3:] if ln.strip()]
    assert sum(int(r.split()[-1]) for r in rows) >= 5
    names = hardirqs.irq_names().values()
    assert all(r.rsplit(None, 1)[0].strip() in names for r in rows)
