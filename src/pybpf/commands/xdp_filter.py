"""``pybpf xdp-filter IFACE --rules FILE``: drop or pass packets in XDP by the rules of FILE
(format: :mod:`pybpf.net.rules`), counting packets and bytes per rule.

The rules can change while it runs, without reloading the program: SIGHUP re-reads the
file, and ``--watch`` re-reads it whenever its modification time changes. A file that no
longer parses is reported and the rules in force stay. Counters are printed every
``--interval`` seconds (0: only at exit) and when Ctrl-C or SIGTERM ends the run.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from ..errors import InvalidInputError
from ..kernel.links.xdp import XDP_MODES
from ..kernel.signals import flag_on_signals
from ..net.rules import read_rules
from ..net.xdp_filter import XdpFilter, format_counters
from ..tools import common

POLL_S = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("interface", help="interface whose incoming packets are filtered")
    parser.add_argument("--rules", required=True, metavar="FILE",
                        help="rules file: 'drop|pass [tcp|udp|icmp|icmp6|proto N] [src A[/L]] "
                             "[dst A[/L]] [sport N] [dport N] [port N]' per line")
    parser.add_argument("--watch", action="store_true",
                        help="re-read the rules file when it changes (SIGHUP always does)")
    parser.add_argument("--interval", type=float, default=0.0, metavar="SECONDS",
                        help="print the counters this often (default: only at exit)")
    parser.add_argument("--mode", choices=tuple(XDP_MODES), default="auto",
                        help="XDP attach mode (default auto; skb works everywhere)")


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def run(args: argparse.Namespace) -> int:
    rules = read_rules(args.rules)
    hangups = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: hangups.append(signum))
    stop = common.Stop()    # Ctrl-C/SIGTERM only recorded: the loop ends at its next check
    try:
        with flag_on_signals() as stop.signals, \
                XdpFilter(args.interface, rules, mode=args.mode) as xf:
            try:
                print(f"filtering {args.interface} with {len(rules)} rules from "
                      f"{args.rules} (SIGHUP reloads; Ctrl-C ends)", flush=True)
                seen_mtime = _mtime(args.rules)
                next_print = time.monotonic() + args.interval

                def tick() -> None:
                    nonlocal seen_mtime, next_print
                    mtime = _mtime(args.rules)
                    if hangups or (args.watch and mtime != seen_mtime):
                        hangups.clear()
                        seen_mtime = mtime
                        _reload(xf, args.rules)
                    if args.interval and time.monotonic() >= next_print:
                        next_print += args.interval
                        print("\n".join(format_counters(xf.counters())) + "\n", flush=True)

                common.poll_until_stopped([], stop, interval_s=POLL_S, on_interval=tick)
            except KeyboardInterrupt:
                pass
            print("\n".join(format_counters(xf.counters())), flush=True)
    finally:
        signal.signal(signal.SIGHUP, previous)
    return 0


def _reload(xf: XdpFilter, path: str) -> None:
    try:
        rules = read_rules(path)
    except InvalidInputError as err:
        print(f"pybpf xdp-filter: keeping the current rules: {err}", file=sys.stderr,
              flush=True)
        return
    xf.set_rules(rules)
    print(f"rules reloaded: {len(rules)} rules", flush=True)
