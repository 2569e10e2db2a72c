"""``pybpf export --otlp``: the same metrics, and execsnoop's records as logs, pushed to a
real OTLP/HTTP receiver and parsed with opentelemetry-proto."""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any

import pytest
from opentelemetry.proto.metrics.v1 import metrics_pb2

from tests.export.helpers import (
    HERE,
    free_port,
    marker_binary,
    marker_name,
    run_exporter,
    wait_for,
)
from tests.export.otlp_receiver import OtlpReceiver
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

EXECS = 4


def test_metrics_and_exec_records_reach_an_otlp_receiver() -> None:
    port = free_port()
    config = f"""\
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
                bucket_multiplier: 1.0e-9
                labels:
                  - {{name: comm, decoder: string}}
          - name: execs
            tool: execsnoop
        """
    with tempfile.TemporaryDirectory() as folder, OtlpReceiver() as receiver, \
            no_kernel_objects_left(lambda n: n.startswith(("pxt_", "execsnoop_"))):
        mark = marker_name("pxtotlp")
        binary = marker_binary(folder, "true", mark)
        with run_exporter(config, port, "--otlp", receiver.endpoint, "--otlp-interval",
                          "0.5") as exporter:
            for i in range(EXECS):
                subprocess.run([binary, f"arg{i}"], check=True)

            def counted() -> list[Any] | None:
                points = [p for attrs, p in receiver.metric_points("pybpf_exec_total")
                          if attrs.get("comm") == mark]
                return points if points and number(points[0]) == EXECS else None

            def logged() -> list[Any] | None:
                mine = [r for r in receiver.log_records() if r[1].get("comm") == mark]
                return mine if len(mine) >= EXECS else None
            [point] = wait_for("the exec counter over OTLP", counted)
            records = wait_for("the exec records as OTLP logs", logged)
            metrics_text = exporter.metrics()
            assert receiver.latest_metric("pybpf_program_up").WhichOneof("data") == "gauge"
            up_while_running = {a["program"]: number(p)
                                for a, p in receiver.metric_points("pybpf_program_up")}
        assert exporter.proc.returncode == 0, exporter.log()

    # the counter, as Prometheus sees it too: a cumulative monotonic Sum
    counter = receiver.latest_metric("pybpf_exec_total")
    assert counter.WhichOneof("data") == "sum"
    assert counter.sum.is_monotonic
    assert counter.sum.aggregation_temporality == \
        metrics_pb2.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    assert up_while_running == {"sleeps": 1.0, "execs": 1.0}
    # the last push, at exit, after the programs were unloaded
    assert {a["program"]: number(p) for a, p in receiver.metric_points("pybpf_program_up")} \
        == {"sleeps": 0.0, "execs": 0.0}
    assert number(point) == EXECS
    assert f'pybpf_exec_total{{comm="{mark}"}} {float(EXECS)}' in metrics_text
    # one log record per exec, with execsnoop's fields
    assert len(records) == EXECS
    argvs = sorted(attrs["argv"] for _, attrs, _ in records)
    assert argvs == [f"{binary} arg{i}" for i in range(EXECS)]
    for body, attrs, record in records:
        assert body == "execs"
        assert attrs["pybpf.program"] == "execs"
        assert attrs["retval"] == "0"
        assert int(attrs["pid"]) > 0
        assert record.time_unix_nano > 0
    # the histogram arrives with the exp2 bounds Prometheus gets
    sleeps = receiver.metric_points("pybpf_sleep_seconds")
    for _, hist in sleeps:
        assert list(hist.explicit_bounds) == sorted(hist.explicit_bounds)
        assert sum(hist.bucket_counts) == hist.count
    # the execsnoop counter by result
    execs = {a["result"]: number(p)
             for a, p in receiver.metric_points("pybpf_execsnoop_execs_total")}
    assert execs.get("ok", 0) >= EXECS


def number(point: Any) -> float:
    """A NumberDataPoint's value, integer or double."""
    return float(getattr(point, point.WhichOneof("value")))
