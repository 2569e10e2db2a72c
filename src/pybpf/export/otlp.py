"""``--otlp ENDPOINT``: the same metrics, and the event tools' records as logs, pushed to an
OpenTelemetry collector over OTLP/HTTP (protobuf), through ``opentelemetry-sdk`` and its
OTLP exporter.

``ENDPOINT`` is the collector's base address (``http://127.0.0.1:4318``); metrics go to
``/v1/metrics`` every ``interval`` seconds, logs to ``/v1/logs`` in batches. A metrics push
collects the registry as a scrape does and converts each family: a counter becomes a
cumulative monotonic Sum, a gauge a Gauge, a histogram an explicit-bucket Histogram with
the same bounds (the per-bucket counts un-accumulated, ``+Inf`` the overflow bucket).
"""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["OtlpPusher"]

_SCOPE = "pybpf.export"


def _attributes(labels: dict[str, str]) -> dict[str, str]:
    return dict(labels)


def _attribute(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    import json  # noqa: PLC0415
    return json.dumps(value, default=str)


class OtlpPusher:
    """Pushes ``registry`` (a prometheus_client registry) as OTLP metrics every
    ``interval`` seconds and accepts log records through :meth:`log`; ``close`` flushes
    both."""

    def __init__(self, endpoint: str, registry: Any, *, interval: float = 15.0,
                 service: str = "pybpf-export"):
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (  # noqa: PLC0415
            OTLPLogExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
            OTLPMetricExporter,
        )
        from opentelemetry.sdk._logs import LoggerProvider  # noqa: PLC0415
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor  # noqa: PLC0415
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415

        base = endpoint.rstrip("/")
        if "://" not in base:
            base = "http://" + base
        self.registry = registry
        self.interval = interval
        self.resource = Resource.create({"service.name": service})
        self.metric_exporter = OTLPMetricExporter(endpoint=base + "/v1/metrics", timeout=5)
        self.logs = LoggerProvider(resource=self.resource)
        self.logs.add_log_record_processor(BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=base + "/v1/logs", timeout=5), schedule_delay_millis=1000))
        self.logger = self.logs.get_logger(_SCOPE)
        self.start_ns = time.time_ns()
        self.pushes = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pybpf-otlp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def log(self, program: str, attributes: dict[str, Any]) -> None:
        """One event record of ``program`` as an OTLP log record (values OTLP attributes
        cannot hold, such as the guard's ancestry list of dicts, as JSON text)."""
        self.logger.emit(timestamp=time.time_ns(), body=program, event_name=program,
                         attributes={"pybpf.program": program,
                                     **{k: _attribute(v) for k, v in attributes.items()}})

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.push()

    def push(self) -> bool:
        """Collect and export the metrics once; whether the collector took them."""
        from opentelemetry.sdk.metrics.export import MetricExportResult  # noqa: PLC0415
        try:
            ok = self.metric_exporter.export(self.metrics_data()) == \
                MetricExportResult.SUCCESS
        except Exception:  # noqa: BLE001 - a collector that is down must not stop the agent
            ok = False
        self.pushes += 1
        self.failures += 0 if ok else 1
        return ok

    def metrics_data(self) -> Any:
        from opentelemetry.sdk.metrics.export import (  # noqa: PLC0415
            AggregationTemporality,
            Gauge,
            Histogram,
            HistogramDataPoint,
            Metric,
            MetricsData,
            NumberDataPoint,
            ResourceMetrics,
            ScopeMetrics,
            Sum,
        )
        from opentelemetry.sdk.util.instrumentation import (  # noqa: PLC0415
            InstrumentationScope,
        )

        now = time.time_ns()
        start = self.start_ns
        cumulative = AggregationTemporality.CUMULATIVE
        metrics = []
        for family in self.registry.collect():
            data: Any = None
            if family.type == "counter":
                points = [NumberDataPoint(_attributes(s.labels), start, now, s.value)
                          for s in family.samples if s.name.endswith("_total")]
                data = Sum(points, cumulative, True)
            elif family.type == "gauge":
                data = Gauge([NumberDataPoint(_attributes(s.labels), start, now, s.value)
                              for s in family.samples])
            elif family.type == "histogram":
                data = Histogram(self._histogram_points(family, start, now,
                                                        HistogramDataPoint), cumulative)
            if data is not None:
                metrics.append(Metric(family.name + ("_total" if family.type == "counter"
                                                     else ""),
                                      family.documentation, family.unit or "", data))
        scope = ScopeMetrics(InstrumentationScope(_SCOPE), metrics, "")
        return MetricsData([ResourceMetrics(self.resource, [scope], "")])

    @staticmethod
    def _histogram_points(family: Any, start: int, now: int, point_type: Any) -> list[Any]:
        series: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for s in family.samples:
            labels = {k: v for k, v in s.labels.items() if k != "le"}
            entry = series.setdefault(tuple(sorted(labels.items())),
                                      {"labels": labels, "buckets": [], "sum": 0.0,
                                       "count": 0})
            if s.name.endswith("_bucket"):
                entry["buckets"].append((float(s.labels["le"]), int(s.value)))
            elif s.name.endswith("_sum"):
                entry["sum"] = s.value
            elif s.name.endswith("_count"):
                entry["count"] = int(s.value)
        points = []
        for entry in series.values():
            buckets = sorted(entry["buckets"])
            bounds = [b for b, _ in buckets if b != float("inf")]
            counts, previous = [], 0
            for _, cumulative in buckets:
                counts.append(cumulative - previous)
                previous = cumulative
            count = entry["count"] or previous
            points.append(point_type(_attributes(entry["labels"]), start, now, count,
                                     entry["sum"], counts, bounds, None, None))
        return points

    def stop(self) -> None:
        """Stop the periodic pushes (before the programs unload)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def close(self) -> None:
        """Stop pushing; one last metrics push and the pending logs go out first."""
        self.stop()
        self.push()
        self.logs.force_flush(timeout_millis=5000)
        self.logs.shutdown()
        self.metric_exporter.shutdown()
