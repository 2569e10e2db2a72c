"""``pybpf sniff 'EXPR' -i IFACE [-c N] [-w FILE.pcap] [-n] [--ebpf]``: capture packets
matching a pcap filter on an AF_PACKET socket and print one line each like tcpdump (or write
them to a pcap file tcpdump reads). The filter runs in the kernel: classic BPF by default,
its eBPF translation as a socket filter program with ``--ebpf``.
"""

from __future__ import annotations

import argparse
import sys

from ..kernel.signals import exit_on_signals
from ..net.capture import Capture
from ..net.decode import PacketPrinter
from ..pcap import PcapPacket, write_pcap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", nargs="*", help="pcap-filter expression (words are "
                        "joined with spaces; none: every packet)")
    parser.add_argument("-i", "--interface", required=True, help="interface to capture on")
    parser.add_argument("-c", "--count", type=int, default=0,
                        help="exit after this many packets")
    parser.add_argument("-w", "--write", metavar="FILE", help="write packets to this pcap "
                        "file instead of printing them")
    parser.add_argument("-n", dest="numeric", action="store_true",
                        help="numeric addresses (always so; accepted for tcpdump habits)")
    parser.add_argument("-S", dest="absolute_seq", action="store_true",
                        help="absolute TCP sequence numbers")
    parser.add_argument("-s", "--snaplen", type=int, default=262144,
                        help="bytes kept of each packet (default 262144)")
    parser.add_argument("--ebpf", action="store_true", help="attach the filter as an eBPF "
                        "socket filter (SO_ATTACH_BPF) instead of classic BPF")


def run(args: argparse.Namespace) -> int:
    kept: list[PcapPacket] = []
    seen = 0
    printer = PacketPrinter(absolute_seq=args.absolute_seq)
    with exit_on_signals(), Capture(args.interface, " ".join(args.expression),
                                    kind="ebpf" if args.ebpf else "classic",
                                    snaplen=args.snaplen) as capture:
        try:
            # inside the try: a signal right after the banner is a normal end too
            print(f"listening on {args.interface}, link-type EN10MB (Ethernet), snapshot "
                  f"length {args.snaplen} bytes", file=sys.stderr, flush=True)
            for packet in capture.packets(count=args.count):
                seen += 1
                if args.write:
                    kept.append(packet)
                else:
                    print(printer.line(packet.data, packet.wirelen, packet.timestamp_us),
                          flush=True)
        except KeyboardInterrupt:
            pass  # Ctrl-C or SIGTERM ends a capture normally: write what we have
        finally:
            if args.write:
                write_pcap(args.write, kept, snaplen=args.snaplen)
    print(f"{seen} packets captured", file=sys.stderr)
    return 0
