"""The Prometheus scrape configuration and the Grafana dashboard in docs/ fit what the
agent serves: promtool accepts the configuration, and every metric the dashboard queries
is one ``pybpf export`` produces (built-in tools' metrics and the agent's own)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from pybpf.export.builtin import BUILTIN_TOOLS
from pybpf.export.config import METRIC_PREFIX

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
AGENT = {"pybpf_program_up", "pybpf_bpf_runs_total", "pybpf_bpf_run_seconds_total",
         "pybpf_ringbuf_dropped_total", "pybpf_scrape_duration_seconds",
         "pybpf_map_read_errors_total",
         "pybpf_process_cpu_seconds_total", "pybpf_process_resident_memory_bytes"}


def _served() -> set[str]:
    names = set(AGENT)
    for make in BUILTIN_TOOLS.values():
        tool = make()
        for metric in tool.map_metrics() + tool.event_metrics():
            base = METRIC_PREFIX + metric.metric
            if metric.kind == "histogram":
                names |= {base + "_bucket", base + "_sum", base + "_count"}
            else:
                names.add(base)
    return names


def test_promtool_accepts_the_scrape_config() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool comes with Debian's prometheus package (scripts/setup.sh)"
    done = subprocess.run([promtool, "check", "config", str(DOCS / "prometheus-pybpf.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboard_queries_metrics_the_agent_serves() -> None:
    dashboard = json.loads((DOCS / "grafana" / "pybpf-export.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\bpybpf_[a-z0-9_]+", e)}
    assert used, "no pybpf metric in the dashboard"
    assert used - _served() == set()
    heatmaps = [p for p in dashboard["panels"] if p["type"] == "heatmap"]
    assert {re.search(r"pybpf_\w+_bucket", p["targets"][0]["expr"]).group(0)  # type: ignore[union-attr]
            for p in heatmaps} == {"pybpf_runqlat_seconds_bucket",
                                   "pybpf_biolatency_seconds_bucket",
                                   "pybpf_cpudist_seconds_bucket",
                                   "pybpf_tcplife_duration_seconds_bucket"}
    assert all(p["targets"][0].get("format") == "heatmap" for p in heatmaps)
