"""A small OTLP/HTTP receiver for the tests: it takes what ``pybpf export --otlp`` posts to
``/v1/metrics`` and ``/v1/logs`` and parses it with the ``opentelemetry-proto`` messages,
as a collector would."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2


class OtlpReceiver:
    """Listening on 127.0.0.1 (``endpoint``) within ``with``; ``metrics`` and ``logs``
    hold the parsed requests in arrival order."""

    def __init__(self) -> None:
        self.metrics: list[Any] = []
        self.logs: list[Any] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == "/v1/metrics":
                    request: Any = metrics_service_pb2.ExportMetricsServiceRequest()
                    response: Any = metrics_service_pb2.ExportMetricsServiceResponse()
                    store = receiver.metrics
                elif self.path == "/v1/logs":
                    request = logs_service_pb2.ExportLogsServiceRequest()
                    response = logs_service_pb2.ExportLogsServiceResponse()
                    store = receiver.logs
                else:
                    self.send_error(404)
                    return
                request.ParseFromString(body)
                with receiver.lock:
                    store.append(request)
                data = response.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def metric_points(self, name: str) -> list[tuple[dict[str, str], Any]]:
        """The data points of metric ``name`` in the latest request that has it, with their
        attributes as a dict."""
        with self.lock:
            requests = list(self.metrics)
        for request in reversed(requests):
            found = []
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        if metric.name != name:
                            continue
                        kind = metric.WhichOneof("data")
                        for point in getattr(metric, kind).data_points:
                            found.append((attributes(point.attributes), point))
            if found:
                return found
        return []

    def latest_metric(self, name: str) -> Any:
        """The metric ``name`` of the latest request that has it (None before one)."""
        with self.lock:
            requests = list(self.metrics)
        for request in reversed(requests):
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        if metric.name == name:
                            return metric
        return None

    def log_records(self) -> list[tuple[str, dict[str, str], Any]]:
        """(body, attributes, record) of every log record received."""
        with self.lock:
            requests = list(self.logs)
        out = []
        for request in requests:
            for rl in request.resource_logs:
                for sl in rl.scope_logs:
                    for record in sl.log_records:
                        out.append((record.body.string_value, attributes(record.attributes),
                                    record))
        return out


def attributes(kvs: Any) -> dict[str, str]:
    out = {}
    for kv in kvs:
        value = kv.value
        kind = value.WhichOneof("value")
        if kind == "array_value":   # a list of strings: space-separated here
            out[kv.key] = " ".join(v.string_value for v in value.array_value.values)
        else:
            out[kv.key] = str(getattr(value, kind)) if kind else ""
    return out
