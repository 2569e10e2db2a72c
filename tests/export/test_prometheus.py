"""``pybpf export`` scraped by a real Prometheus (Debian's ``prometheus``, on loopback):
after a workload the test causes (execs of a marker binary, sleeps of known lengths), the
values Prometheus answers through /api/v1/query are the ground truth, exactly."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from tests.export.helpers import (
    HERE,
    free_port,
    marker_binary,
    marker_name,
    run_exporter,
    run_prometheus,
    wait_for,
)
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

EXECS = 5
SHORT_SLEEPS, SHORT_S = 3, 0.04     # 40 ms: slot 26, [2**25, 2**26) ns = [33.5, 67.1) ms
LONG_SLEEPS, LONG_S = 2, 0.2        # 200 ms: slot 28, [134, 268) ms


def _config(port: int) -> str:
    return f"""\
        listen: 127.0.0.1:{port}
        programs:
          - name: sleeps
            python: {HERE / "progs_sleeps.py"}
            counters:
              - metric: exec_total
                map: execs
                labels:
                  - {{name: comm, decoder: string}}
            histograms:
              - metric: sleep_seconds
                map: sleeps
                bucket_type: exp2
                bucket_multiplier: 1.0e-9
                labels:
                  - {{name: comm, decoder: string}}
          - name: broken
            python: {HERE / "progs_broken.py"}
            counters:
              - metric: broken_hits_total
                map: hits
                labels:
                  - {{name: index, decoder: uint}}
        """


@pytest.fixture
def workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pybpf-export-work-") as folder:
        yield folder


def test_prometheus_reads_exact_counts_and_buckets(workdir: str) -> None:
    mark, sleeper = marker_name("pxtmark"), marker_name("pxtsleep")
    mark_bin = marker_binary(workdir, "true", mark)
    sleep_bin = marker_binary(workdir, "sleep", sleeper)
    port = free_port()
    with no_kernel_objects_left(lambda name: name.startswith("pxt_")), \
            run_exporter(_config(port), port) as exporter, \
            run_prometheus([f"127.0.0.1:{port}"]) as prom:
        # the program that cannot attach is down; the other serves on
        assert 'pybpf_program_up{program="broken"} 0.0' in exporter.metrics()
        assert "program 'broken' is down" in exporter.log()
        for _ in range(EXECS):
            subprocess.run([mark_bin], check=True)
        for seconds in [SHORT_S] * SHORT_SLEEPS + [LONG_S] * LONG_SLEEPS:
            subprocess.run([sleep_bin, str(seconds)], check=True)
        total = SHORT_SLEEPS + LONG_SLEEPS

        count = f'pybpf_sleep_seconds_count{{comm="{sleeper}"}}'
        wait_for("Prometheus to scrape the workload",
                 lambda: True if prom.value(count) == total and
                 prom.value(f'pybpf_exec_total{{comm="{mark}"}}') == EXECS else None)

        assert prom.value('pybpf_program_up{program="sleeps"}') == 1
        assert prom.value('pybpf_program_up{program="broken"}') == 0
        assert prom.value(f'pybpf_exec_total{{comm="{mark}"}}') == EXECS
        assert prom.value(f'pybpf_exec_total{{comm="{sleeper}"}}') == total
        bucket = f'pybpf_sleep_seconds_bucket{{comm="{sleeper}",le="%s"}}'
        assert prom.value(bucket % "0.033554432") == 0           # 2**25 ns
        assert prom.value(bucket % "0.067108864") == SHORT_SLEEPS  # 2**26 ns
        assert prom.value(bucket % "0.134217728") == SHORT_SLEEPS  # 2**27 ns
        assert prom.value(bucket % "0.268435456") == total        # 2**28 ns
        assert prom.value(bucket % "+Inf") == total
        # _sum: each count at its bucket's upper bound
        assert prom.value(f'pybpf_sleep_seconds_sum{{comm="{sleeper}"}}') == \
            pytest.approx(SHORT_SLEEPS * 2**26 * 1e-9 + LONG_SLEEPS * 2**28 * 1e-9)
        # what the kernel counted for the programs, and the agent itself
        runs = prom.query('pybpf_bpf_runs_total{program="sleeps"}')
        assert {r["metric"]["bpf_program"] for r in runs} == \
            {"pxt_exec", "pxt_sleep_enter", "pxt_sleep_exit"}
        assert all(float(r["value"][1]) > 0 for r in runs)
        assert prom.value("pybpf_process_resident_memory_bytes") > 0
        assert prom.value('up{job="pybpf"}') == 1
    assert exporter.proc.returncode == 0, exporter.log()


def test_openmetrics_format_is_served(workdir: str) -> None:
    import urllib.request

    port = free_port()
    with run_exporter(_config(port).split("  - name: broken")[0], port):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            text = response.read().decode()
            kind = response.headers["Content-Type"]
    assert kind.startswith("application/openmetrics-text")
    assert text.rstrip().endswith("# EOF")
    assert "# TYPE pybpf_sleep_seconds histogram" in text
    assert "# TYPE pybpf_exec counter" in text
    assert os.path.exists(HERE / "progs_sleeps.py")


def test_the_dashboard_queries_run_in_prometheus() -> None:
    """Every query of docs/grafana/pybpf-export.json is valid PromQL to the real server, and
    those of the tools running here (runqlat's heatmap and quantiles, syscount's top list,
    the agent's panels) return data."""
    import json
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana" /
                            "pybpf-export.json").read_text())
    port = free_port()
    config = (f"listen: 127.0.0.1:{port}\nprograms:\n  - {{name: runqlat, tool: runqlat}}\n"
              "  - {name: syscount, tool: syscount}\n")
    with run_exporter(config, port), run_prometheus([f"127.0.0.1:{port}"]) as prom:
        # a rate needs two scrapes inside its window
        wait_for("three scrapes", lambda: True if (prom.value(
            'count_over_time(pybpf_program_up{program="runqlat"}[1m])') or 0) >= 3 else None)
        results = {}
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$instance", ".*") \
                    .replace("$__rate_interval", "30s")
                results[expr] = prom.query(expr)      # fails on a PromQL error
    with_data = {e for e, r in results.items() if r}
    runqlat_p99 = "histogram_quantile(0.99, sum by (le) (rate(pybpf_runqlat"
    for needle in ("pybpf_runqlat_seconds_bucket", runqlat_p99, "pybpf_syscount_calls_total",
                   "pybpf_program_up", "pybpf_bpf_run_seconds_total",
                   "pybpf_process_cpu_seconds_total"):
        assert any(needle in e for e in with_data), (needle, sorted(with_data))
