"""The ``pybpf export`` agent: configuration in, ``/metrics`` (and OTLP) out, until stopped.

The order is what keeps a bad configuration harmless: read and check the configuration,
compile every program and check every metric against its maps, bind the listening port;
only then load and attach (:class:`~.programs.Program`). An error up to there is a
:class:`~.config.ConfigError` and nothing has reached the kernel. While it runs, the
kernel's BPF run statistics are on (BPF_ENABLE_STATS: they switch off again when its fd
closes, or, where that command is missing, the ``kernel.bpf_stats_enabled`` sysctl, put
back as it was at exit).
"""

from __future__ import annotations

import contextlib
import errno
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import BPFError
from .collector import MapCollector
from .config import ConfigError, ExportConfig, load_config
from .programs import Program, prepare

__all__ = ["Agent", "AgentOptions", "run_agent"]

_STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


@dataclass
class AgentOptions:
    config: str
    otlp: str | None = None
    otlp_interval: float = 15.0
    pprof_dir: str | None = None
    pprof_interval: float = 60.0


@contextlib.contextmanager
def bpf_stats() -> Iterator[str]:
    """Keep the kernel's per-program run statistics on; yields how ("fd", "sysctl" or
    "off" when neither works)."""
    from ..kernel import sys as bpfsys  # noqa: PLC0415
    try:
        fd = bpfsys.enable_stats()
    except (BPFError, OSError):
        fd = None
    if fd is not None:
        with fd:
            yield "fd"
        return
    try:
        with open(_STATS_SYSCTL) as f:
            before = f.read().strip()
        with open(_STATS_SYSCTL, "w") as f:
            f.write("1")
    except OSError:
        yield "off"
        return
    try:
        yield "sysctl"
    finally:
        with contextlib.suppress(OSError), open(_STATS_SYSCTL, "w") as f:
            f.write(before)


def _bind(config: ExportConfig, app: Any) -> Any:
    """The HTTP server of ``/metrics`` serving ``app``, bound (not serving yet)."""
    import socket  # noqa: PLC0415
    from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: PLC0415

    from prometheus_client.exposition import ThreadingWSGIServer  # noqa: PLC0415

    class _QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    class _Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in config.host else socket.AF_INET

    try:
        return make_server(config.host, config.port, app, _Server,
                           handler_class=_QuietHandler)
    except OSError as err:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {err.strerror}"
                          + (" (port in use)" if err.errno == errno.EADDRINUSE else ""),
                          path=config.path, line=config.listen_line) from None


class Agent:
    """A prepared and bound exporter (see the module docstring); :meth:`serve` runs it."""

    def __init__(self, options: AgentOptions):
        self.options = options
        self.config = load_config(options.config)
        self.programs: list[Program] = prepare(self.config)
        from prometheus_client import CollectorRegistry, ProcessCollector  # noqa: PLC0415

        from .exposition import make_app  # noqa: PLC0415
        self.collector = MapCollector(self.programs)
        process = ProcessCollector(namespace="pybpf", registry=None)
        self.registry = CollectorRegistry(auto_describe=False)   # everything: OTLP, OpenMetrics
        self.registry.register(self.collector)
        self.registry.register(process)
        others = CollectorRegistry(auto_describe=False)
        others.register(process)
        self.server = _bind(self.config, make_app(self.registry, self.collector, others))
        self.pusher: Any = None

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[0], self.server.server_address[1]

    def serve(self, stop: threading.Event) -> int:
        """Load, attach and serve until ``stop`` (or KeyboardInterrupt); unload on the way
        out, whatever happens."""
        thread = None
        try:
            with bpf_stats():
                if self.options.otlp:
                    from .otlp import OtlpPusher  # noqa: PLC0415
                    self.pusher = OtlpPusher(self.options.otlp, self.registry,
                                             interval=self.options.otlp_interval)
                for prog in self.programs:
                    if self.pusher is not None:
                        prog.log_sink = self.pusher.log
                    prog.start()
                thread = threading.Thread(target=self.server.serve_forever,
                                          kwargs={"poll_interval": 1.0},
                                          name="pybpf-metrics", daemon=True)
                thread.start()
                if self.pusher is not None:
                    self.pusher.start()
                profiler = self._profiler()
                up = sum(p.up for p in self.programs)
                host, port = self.address
                print(f"pybpf export: {up}/{len(self.programs)} program(s) up, serving "
                      f"http://{host}:{port}/metrics", file=sys.stderr, flush=True)
                self._wait(stop, profiler)
        finally:
            if thread is not None:
                self.server.shutdown()
            self.server.server_close()
            if self.pusher is not None:
                self.pusher.stop()
            for prog in reversed(self.programs):
                prog.close()
            if self.pusher is not None:
                self.pusher.close()
        return 0

    def _profiler(self) -> Any:
        if not self.options.pprof_dir:
            return None
        from .profiles import PeriodicProfiler  # noqa: PLC0415
        return PeriodicProfiler(self.options.pprof_dir, self.options.pprof_interval)

    def _wait(self, stop: threading.Event, profiler: Any) -> None:
        from ..tools import common  # noqa: PLC0415

        readers = [r for p in self.programs for r in p.ring_readers]
        if profiler is None:
            # the scrapes run on the server's threads; the loop delivers the records (if
            # any) and notices ``stop`` and the signals recorded in ``stop.signals``
            common.poll_until_stopped(readers, stop)
            return
        with profiler:
            common.poll_until_stopped(readers, stop, interval_s=profiler.interval,
                                      on_interval=profiler.rotate)


def run_agent(options: AgentOptions, stop: threading.Event | None = None) -> int:
    """Run ``pybpf export`` (see :class:`Agent`): 0 when stopped, exceptions for errors
    (:class:`ConfigError` before anything loaded)."""
    agent = Agent(options)
    return agent.serve(stop or threading.Event())
