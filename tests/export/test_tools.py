"""``tool: NAME``: the built-in tools as metric sources, each up and counting what the test
made happen (other processes run too, so these are lower bounds; the exact counts are
test_prometheus.py's)."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.export.helpers import free_port, marker_binary, marker_name, run_exporter, wait_for
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

TOOLS = ("runqlat", "syscount", "tcplife", "execsnoop", "biolatency")
SENT, ANSWERED = 100_000, 5_000


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def _one(samples: dict[str, Any], name: str, **labels: str) -> float:
    return sum(v for lb, v in samples.get(name, []) if all(lb.get(k) == x
                                                            for k, x in labels.items()))


def _tcp_session() -> None:
    """One loopback session: SENT bytes one way, ANSWERED back, both ends closed."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                got = 0
                while got < SENT:
                    got += len(conn.recv(65536))
                conn.sendall(b"y" * ANSWERED)
        thread = threading.Thread(target=serve)
        thread.start()
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"x" * SENT)
            got = 0
            while got < ANSWERED:
                got += len(client.recv(65536))
        thread.join(timeout=30)


def test_tools_serve_their_metrics() -> None:
    port = free_port()
    config = f"listen: 127.0.0.1:{port}\nprograms:\n" + "".join(
        f"  - {{name: {t}, tool: {t}}}\n" for t in TOOLS)
    prefixes = tuple(f"{t}_" for t in TOOLS)
    with tempfile.TemporaryDirectory() as folder, \
            no_kernel_objects_left(lambda n: n.startswith(prefixes)), \
            run_exporter(config, port) as exporter:
        mark = marker_name("pxttool")
        binary = marker_binary(folder, "true", mark)
        for _ in range(3):
            subprocess.run([binary], check=True)
        for _ in range(50):
            os.getppid()
        _tcp_session()

        def settled() -> dict[str, Any] | None:
            s = _samples(exporter.metrics())
            # other processes' sessions may come first: wait for the bytes of ours
            done = _one(s, "pybpf_tcplife_rx_bytes_total") >= SENT and \
                _one(s, "pybpf_tcplife_tx_bytes_total") >= SENT and \
                _one(s, "pybpf_execsnoop_execs_total", result="ok") >= 3
            return s if done else None
        s = wait_for("the tools to count the workload", settled)
    assert exporter.proc.returncode == 0, exporter.log()
    for tool in TOOLS:
        assert _one(s, "pybpf_program_up", program=tool) == 1, exporter.log()
    assert _one(s, "pybpf_syscount_calls_total", syscall="getppid") >= 50
    assert _one(s, "pybpf_syscount_seconds_total", syscall="getppid") > 0
    assert _one(s, "pybpf_runqlat_seconds_count") > 0
    assert _one(s, "pybpf_runqlat_seconds_bucket", le="+Inf") == \
        _one(s, "pybpf_runqlat_seconds_count")
    assert _one(s, "pybpf_tcplife_rx_bytes_total") >= SENT
    assert _one(s, "pybpf_tcplife_tx_bytes_total") >= SENT
    assert _one(s, "pybpf_tcplife_duration_seconds_count") >= 1
    assert ({"program": "execsnoop", "map": "events"}, 0.0) in \
        s["pybpf_ringbuf_dropped_total"]
    runs = {lb["bpf_program"] for lb, _ in s["pybpf_bpf_runs_total"]}
    assert {"syscount_enter", "syscount_exit", "runqlat_switch", "tcplife_change",
            "execsnoop_exit"} <= runs
