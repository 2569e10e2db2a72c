"""``pybpf lb IFACE --config FILE``: an XDP layer-4 load balancer on IFACE (the VIPs and
backends of FILE: :mod:`pybpf.net.lb_config`); ``pybpf lb IFACE --decap`` runs the
backends' decapsulation instead (IPv4 or IPv6 in IPv4 or IPv6, GUE). How it works:
docs/lb.md.

SIGHUP re-reads the config and updates the maps live (established flows keep their
backends); a config that no longer parses is reported and the one in force stays.
Counters are printed every ``--interval`` seconds (0: only at exit) and at the end; on
exit nothing is left in the kernel.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from ..errors import InvalidInputError
from ..kernel.links.xdp import XDP_MODES
from ..kernel.signals import flag_on_signals
from ..net.lb import Balancer, Decap, format_counters
from ..net.lb_config import LbConfig, read_config
from ..tools import common

POLL_S = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("interface", help="the interface the VIPs' packets arrive on "
                                          "(and leave by, encapsulated)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--config", metavar="FILE",
                      help="YAML: 'source: BALANCER_IP' ('source6: BALANCER_IPV6' for IPv6 "
                           "backends) and 'vips: {IP:PORT/tcp|udp: [{ip: BACKEND_IP, mac: "
                           "BACKEND_MAC}, ...]}' ('[IPV6]:PORT/tcp' for IPv6 VIPs)")
    what.add_argument("--decap", action="store_true",
                      help="run on a backend: strip the outer header (IPIP, ip6ip6, IPv4 in "
                           "IPv6, IPv6 in IPv4) of packets from the balancer")
    parser.add_argument("--gue-port", type=int, default=0, metavar="PORT",
                        help="with --decap: also strip GUE (UDP to PORT) as the balancer's "
                             "'encap: gue' sends it")
    parser.add_argument("--interval", type=float, default=0.0, metavar="SECONDS",
                        help="print the counters this often (default: only at exit)")
    parser.add_argument("--mode", choices=tuple(XDP_MODES), default="auto",
                        help="XDP attach mode (default auto; skb makes XDP_TX work on veth)")


def _summary(config: LbConfig) -> str:
    backends = {b for bs in config.vips.values() for b in bs}
    return f"{len(config.vips)} VIPs, {len(backends)} backends"


def run(args: argparse.Namespace) -> int:
    # Ctrl-C/SIGTERM are only recorded (stop.signals); the loop ends at its next check, so
    # a reload or a counter table is never cut short by them
    stop = common.Stop()
    if args.decap:
        if not 0 <= args.gue_port < 65536:
            raise InvalidInputError(f"--gue-port {args.gue_port} is not a port")
        with flag_on_signals() as stop.signals, \
                Decap(args.interface, mode=args.mode, gue_port=args.gue_port):
            try:
                gue = f" and GUE to port {args.gue_port}" if args.gue_port else ""
                print(f"decapsulating IPIP{gue} on {args.interface} (Ctrl-C ends)",
                      flush=True)
                common.poll_until_stopped([], stop)
            except KeyboardInterrupt:
                pass
        return 0
    config = read_config(args.config)
    hangups = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: hangups.append(signum))
    try:
        with flag_on_signals() as stop.signals, \
                Balancer(args.interface, config, mode=args.mode) as lb:
            try:
                print(f"balancing on {args.interface}: {_summary(config)} from {args.config}"
                      " (SIGHUP reloads; Ctrl-C ends)", flush=True)
                next_print = time.monotonic() + args.interval

                def tick() -> None:
                    nonlocal next_print
                    if hangups:
                        hangups.clear()
                        _reload(lb, args.config)
                    if args.interval and time.monotonic() >= next_print:
                        next_print += args.interval
                        print("\n".join(format_counters(lb.counters(), lb.config)) + "\n",
                              flush=True)

                common.poll_until_stopped([], stop, interval_s=POLL_S, on_interval=tick)
            except KeyboardInterrupt:
                pass
            print("\n".join(format_counters(lb.counters(), lb.config)), flush=True)
    finally:
        signal.signal(signal.SIGHUP, previous)
    return 0


def _reload(lb: Balancer, path: str) -> None:
    try:
        config = read_config(path)
        lb.apply(config)
    except InvalidInputError as err:
        print(f"pybpf lb: keeping the current config: {err}", file=sys.stderr, flush=True)
        return
    print(f"config reloaded: {_summary(config)}", flush=True)
