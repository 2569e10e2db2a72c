"""``pybpf flowcount IFACE``: count packets and bytes per IPv4 5-tuple with a tc program and
print them as a table, most bytes first: every ``--interval`` seconds, and at exit
(Ctrl-C, SIGTERM, or after ``--duration`` seconds).
"""

from __future__ import annotations

import argparse

from ..kernel.signals import flag_on_signals
from ..net.flowcount import FlowCounter, format_flows
from ..tools import common


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
    # Ctrl-C/SIGTERM are only recorded; the loop ends at its next check, so a table being
    # printed is never cut short (an exception raised wherever the signal landed could)
    stop = common.Stop()
    with flag_on_signals() as stop.signals, \
            FlowCounter(args.interface, direction=args.direction) as fc:
        try:
            print(f"counting flows on {args.interface} {args.direction} (Ctrl-C ends)",
                  flush=True)

            def tick() -> None:
                print("\n".join(format_flows(fc.flows(), limit=args.top)) + "\n", flush=True)

            common.poll_until_stopped([], stop, duration_s=args.duration or None,
                                      interval_s=args.interval or None, on_interval=tick)
        except KeyboardInterrupt:
            pass  # Ctrl-C or SIGTERM ends counting normally: print the totals
        print("\n".join(format_flows(fc.flows(), limit=args.top)), flush=True)
    return 0
