"""``tool: NAME``: pybpf's own tools as metric sources, with metrics chosen for them.

=============  ===================================================================
biolatency     ``pybpf_biolatency_seconds{disk}`` histogram of block I/O latency
runqlat        ``pybpf_runqlat_seconds`` histogram of run queue latency
cpudist        ``pybpf_cpudist_seconds`` histogram of on-CPU time per run
syscount       ``pybpf_syscount_calls_total{syscall}``, ``..._seconds_total{syscall}``
tcplife        ``pybpf_tcplife_sessions_total``, ``..._rx_bytes_total``,
               ``..._tx_bytes_total``, ``..._duration_seconds`` histogram; each session
               an OTLP log record
execsnoop      ``pybpf_execsnoop_execs_total{result}``; each exec an OTLP log record
=============  ===================================================================

Metric names take the tool's name as prefix, so two tools never clash; a tool appears at
most once per configuration. ``args:`` in the configuration go to the tool's own option
parser (``args: ["-p", "181"]``).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import LabelConfig, MetricConfig
from .readers import EventMetric

__all__ = ["BuiltinTool", "BUILTIN_TOOLS", "EventSource"]

LogSink = Callable[[str, dict[str, Any], int], None]   # (tool, attributes, time ns)


@dataclass
class EventSource:
    """A tool's ring buffer and what its records become: ``handler(record, metrics,
    emit)`` counts into the tool's :class:`EventMetric` s and emits log records."""

    ring: str
    record: str        # the record struct's name in the tool's module
    handler: Callable[[Any, dict[str, EventMetric], Callable[[dict[str, Any]], None]], None]


@dataclass
class BuiltinTool:
    module: str
    default_args: list[str]
    map_metrics: Callable[[], list[MetricConfig]]
    event_metrics: Callable[[], list[MetricConfig]] = list
    events: EventSource | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def load_module(self) -> Any:
        return importlib.import_module(f"pybpf.tools.{self.module}")


def _label(name: str, decoder: str = "uint", **options: Any) -> LabelConfig:
    return LabelConfig(name, decoder, 0, dict(options))


def _hist(metric: str, map_name: str, labels: list[LabelConfig], mult: float,
          help_text: str) -> MetricConfig:
    return MetricConfig("histogram", metric, map_name, labels, 0, help=help_text,
                        bucket_multiplier=mult)


def _biolatency() -> list[MetricConfig]:
    from ..tools.biolatency import disk_name  # noqa: PLC0415
    return [_hist("biolatency_seconds", "io_latency",
                  [_label("disk", function=disk_name)], 1e-6,
                  "block I/O latency, issue to completion")]


def _runqlat() -> list[MetricConfig]:
    return [_hist("runqlat_seconds", "runq_latency", [_label("key", "drop")], 1e-6,
                  "time tasks waited on a run queue")]


def _cpudist() -> list[MetricConfig]:
    return [_hist("cpudist_seconds", "cpu_time", [_label("key", "drop")], 1e-6,
                  "on-CPU time of a task each time it ran")]


def _syscount() -> list[MetricConfig]:
    return [MetricConfig("counter", "syscount_calls_total", "call_counts",
                         [_label("syscall", "syscall")], 0, help="system calls made"),
            MetricConfig("counter", "syscount_seconds_total", "call_ns",
                         [_label("syscall", "syscall")], 0, value_multiplier=1e-9,
                         help="time spent in system calls")]


def _tcplife_metrics() -> list[MetricConfig]:
    return [MetricConfig("counter", "tcplife_sessions_total", "", [], 0,
                         help="TCP sessions closed"),
            MetricConfig("counter", "tcplife_rx_bytes_total", "", [], 0,
                         help="bytes received by closed TCP sessions"),
            MetricConfig("counter", "tcplife_tx_bytes_total", "", [], 0,
                         help="bytes sent (acked) by closed TCP sessions"),
            _hist("tcplife_duration_seconds", "", [], 1e-6, "lifetime of TCP sessions")]


def _tcplife_record(ev: Any, metrics: dict[str, EventMetric],
                    emit: Callable[[dict[str, Any]], None]) -> None:
    from ..tools.tcp import format_address  # noqa: PLC0415
    metrics["tcplife_sessions_total"].add(())
    metrics["tcplife_rx_bytes_total"].add((), ev.rx_b)
    metrics["tcplife_tx_bytes_total"].add((), ev.tx_b)
    metrics["tcplife_duration_seconds"].observe((), ev.span_us)
    emit({"pid": ev.pid, "comm": _text(ev.task),
          "laddr": format_address(ev.family, ev.saddr), "lport": ev.lport,
          "raddr": format_address(ev.family, ev.daddr), "rport": ev.dport,
          "rx_bytes": ev.rx_b, "tx_bytes": ev.tx_b, "duration_us": ev.span_us})


def _execsnoop_metrics() -> list[MetricConfig]:
    return [MetricConfig("counter", "execsnoop_execs_total", "", [_label("result")], 0,
                         help="exec() calls by result (ok or the errno name)")]


class _ExecArgs:
    """execsnoop sends a command line as records of up to four arguments, then one
    record with the result: the arguments wait here, by pid, for it."""

    def __init__(self) -> None:
        self.pending: dict[int, tuple[float, list[str]]] = {}

    def __call__(self, ev: Any, metrics: dict[str, EventMetric],
                 emit: Callable[[dict[str, Any]], None]) -> None:
        import errno  # noqa: PLC0415

        from ..tools.execsnoop import KIND_ARGS  # noqa: PLC0415
        if ev.kind == KIND_ARGS:
            args = self.pending.setdefault(ev.pid, (time.monotonic(), []))[1]
            args.extend(_text(getattr(ev, f"arg{i}")) for i in range(ev.count))
            if len(self.pending) > 4096:   # exec records whose result never came
                cutoff = time.monotonic() - 60
                self.pending = {p: v for p, v in self.pending.items() if v[0] > cutoff}
            return
        argv = self.pending.pop(ev.pid, (0.0, []))[1]
        result = "ok" if ev.retval >= 0 else errno.errorcode.get(-ev.retval, str(ev.retval))
        metrics["execsnoop_execs_total"].add((result,))
        emit({"pid": ev.pid, "ppid": ev.ppid, "uid": ev.uid, "comm": _text(ev.comm),
              "retval": ev.retval, "argv": " ".join(argv)})


def _text(raw: Any) -> str:
    if isinstance(raw, bytes):
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(raw)


def _none() -> list[MetricConfig]:
    return []


BUILTIN_TOOLS: dict[str, Callable[[], BuiltinTool]] = {
    "biolatency": lambda: BuiltinTool("biolatency", ["-D"], _biolatency),
    "runqlat": lambda: BuiltinTool("runqlat", [], _runqlat),
    "cpudist": lambda: BuiltinTool("cpudist", [], _cpudist),
    "syscount": lambda: BuiltinTool("syscount", ["-L"], _syscount),
    "tcplife": lambda: BuiltinTool("tcplife", [], _none, _tcplife_metrics,
                                   EventSource("life_events", "LifeEvent", _tcplife_record)),
    "execsnoop": lambda: BuiltinTool("execsnoop", [], _none, _execsnoop_metrics,
                                     EventSource("events", "ExecEvent", _ExecArgs())),
}
