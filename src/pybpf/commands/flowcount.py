"""``pybpf flowcount IFACE``: count packets and bytes per IPv4 5-tuple with a tc program and
print them as a table, most bytes first: every ``--interval`` seconds, and at exit
(Ctrl-C, SIGTERM, or after ``--duration`` seconds).
"""

from __future__ import annotations

import argparse
import time

from ..kernel.signals import exit_on_signals
from ..net.flowcount import FlowCounter, format_flows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("interface", help="interface whose packets are counted")
    parser.add_argument("--direction", choices=("ingress", "egress"), default="ingress",
                        help="which packets: arriving (default) or leaving")
    parser.add_argument("--interval", type=float, default=0.0, metavar="SECONDS",
                        help="print the table this often (default: only at exit)")
    parser.add_argument("--duration", type=float, default=0.0, metavar="SECONDS",
                        help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--top", type=int, default=0, metavar="N",
                        help="print only the N biggest flows")


def run(args: argparse.Namespace) -> int:
    with exit_on_signals(), FlowCounter(args.interface, direction=args.direction) as fc:
        try:
            # the banner tells a waiting caller to signal us: from it on, a signal is the
            # normal end, so it is inside the try (outside, one landing just after the
            # write escaped as KeyboardInterrupt: exit 130)
            print(f"counting flows on {args.interface} {args.direction} (Ctrl-C ends)",
                  flush=True)
            start = time.monotonic()
            next_print = start + args.interval
            while not args.duration or time.monotonic() - start < args.duration:
                time.sleep(0.1)
                if args.interval and time.monotonic() >= next_print:
                    next_print += args.interval
                    print("\n".join(format_flows(fc.flows(), limit=args.top)) + "\n",
                          flush=True)
        except KeyboardInterrupt:
            pass  # Ctrl-C or SIGTERM ends counting normally: print the totals
        print("\n".join(format_flows(fc.flows(), limit=args.top)), flush=True)
    return 0
