"""``pybpf export``: eBPF programs as Prometheus metrics and OpenTelemetry data.

A YAML configuration names programs (pybpf.lang modules, clang objects, built-in tools) and
the metrics to read from their maps (:mod:`.config`); the agent compiles and checks all of
it before anything loads, binds its port, then loads and attaches each program and serves
``/metrics`` through a ``prometheus_client`` collector that reads the maps at scrape time
(:mod:`.collector`). ``--otlp`` pushes the same metrics and the event tools' records to an
OpenTelemetry collector (:mod:`.otlp`). prometheus_client, PyYAML and the OpenTelemetry
packages (the ``export`` extra) are imported only when used.
"""

from __future__ import annotations

from .agent import Agent, AgentOptions, run_agent
from .config import ConfigError, ExportConfig, load_config, parse_config

__all__ = ["Agent", "AgentOptions", "run_agent", "ConfigError", "ExportConfig", "load_config",
           "parse_config"]
