"""``pybpf export CONFIG.yaml [--otlp ENDPOINT]``: serve eBPF maps as Prometheus metrics.

See :mod:`pybpf.export` and docs/export.md. A configuration that cannot be used (a bad
key, an unknown map, a duplicate metric, labels that do not match a key, a port in use) is
one line on stderr naming the line at fault, exit status 2, and nothing loaded.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the YAML configuration (see docs/export.md)")
    parser.add_argument("--otlp", metavar="ENDPOINT",
                        help="also push metrics and event records over OTLP/HTTP to this "
                        "collector (http://HOST:4318)")
    parser.add_argument("--otlp-interval", type=float, default=15.0, metavar="SECONDS",
                        help="seconds between OTLP metric pushes (default 15)")
    parser.add_argument("--pprof-dir", metavar="DIR",
                        help="also profile the CPUs and write a pprof file to DIR every "
                        "--pprof-interval seconds (for Pyroscope, Parca)")
    parser.add_argument("--pprof-interval", type=float, default=60.0, metavar="SECONDS",
                        help="seconds per profile (default 60)")
    parser.add_argument("--check", action="store_true",
                        help="check the configuration and compile the programs, then exit")


def run(args: argparse.Namespace) -> int:
    from ..export import Agent, AgentOptions, ConfigError  # noqa: PLC0415
    from ..kernel.signals import flag_on_signals  # noqa: PLC0415
    from ..tools.common import Stop  # noqa: PLC0415

    options = AgentOptions(args.config, otlp=args.otlp, otlp_interval=args.otlp_interval,
                           pprof_dir=args.pprof_dir, pprof_interval=args.pprof_interval)
    try:
        agent = Agent(options)
    except ConfigError as err:
        print(f"pybpf export: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"pybpf export: {err.name} is missing: pip install 'pybpf[export]'",
              file=sys.stderr)
        return 2
    if args.check:
        agent.server.server_close()
        print(f"{args.config}: ok, {len(agent.programs)} program(s)")
        return 0
    # Ctrl-C/SIGTERM are only recorded; the agent's loop raises them between its waits, so
    # a record's decoding or a profile being written is never cut short
    stop = Stop()
    with flag_on_signals() as stop.signals:
        try:
            return agent.serve(stop)
        except KeyboardInterrupt:
            return 0
