"""``pybpf sniff [-i IFACE | -r FILE] [options] [EXPR]``: tcpdump's everyday flags.

Live capture on an AF_PACKET socket with the pcap filter in the kernel (classic BPF, or its
eBPF translation with ``--ebpf``), or a pcap/pcapng file read with ``-r`` and filtered by
pybpf's cBPF interpreter. Lines are tcpdump's with ``-n``; ``-w`` writes pcap (``--pcapng``:
pcapng) instead. ``-c``, ``-s``, ``-e``, ``-v``/``-vv``, ``-x``/``-xx``/``-X``/``-XX``/``-A``,
``-t``...``-ttttt``, ``-q``, ``-S``, ``-l``, ``-Z USER`` mean what they mean to tcpdump.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from ..cbpf import compile_filter
from ..kernel.signals import flag_on_signals
from ..net.capture import Capture, drop_privileges, filter_file
from ..net.printer import LINKTYPE_NAMES, Printer, PrintOptions
from ..pcap import CaptureWriter, PcapPacket
from .filter import refuse_rejecting_all


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", nargs="*", help="pcap-filter expression (words are "
                        "joined with spaces; none: every packet)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-i", "--interface", help="interface to capture on")
    source.add_argument("-r", dest="read", metavar="FILE",
                        help="read packets from a pcap or pcapng file")
    parser.add_argument("-c", "--count", type=int, default=0,
                        help="exit after this many packets")
    parser.add_argument("-w", "--write", metavar="FILE", help="write packets to this file "
                        "(pcap; pcapng with --pcapng) instead of printing them")
    parser.add_argument("--pcapng", action="store_true", help="write pcapng with -w")
    parser.add_argument("-n", dest="numeric", action="store_true",
                        help="numeric addresses (always so; accepted for tcpdump habits)")
    parser.add_argument("-S", dest="absolute_seq", action="store_true",
                        help="absolute TCP sequence numbers")
    parser.add_argument("-s", "--snaplen", type=int, default=262144,
                        help="bytes kept of each packet (default 262144)")
    parser.add_argument("-e", dest="link_header", action="store_true",
                        help="print the link-layer header")
    parser.add_argument("-v", dest="verbosity", action="count", default=0,
                        help="more detail (-vv: more)")
    parser.add_argument("-q", dest="quiet", action="store_true", help="less protocol detail")
    parser.add_argument("-t", dest="time_format", action="count", default=0,
                        help="-t: no time, -tt: epoch, -ttt: delta, -tttt: date, "
                        "-ttttt: since the first packet")
    parser.add_argument("-x", dest="hex", action="count", default=0,
                        help="hex dump without (-xx: with) the link header")
    parser.add_argument("-X", dest="hex_ascii", action="count", default=0,
                        help="hex and ASCII dump without (-XX: with) the link header")
    parser.add_argument("-A", dest="ascii", action="store_true", help="ASCII dump")
    parser.add_argument("-l", dest="line_buffered", action="store_true",
                        help="line-buffered output (every line is flushed anyway)")
    parser.add_argument("-Z", dest="user", help="drop privileges to this user once the "
                        "capture is open")
    parser.add_argument("-O", dest="optimize", action="store_false",
                        help="do not optimise the filter program")
    parser.add_argument("--ebpf", action="store_true", help="attach the filter as an eBPF "
                        "socket filter (SO_ATTACH_BPF) instead of classic BPF")


def _options(args: argparse.Namespace) -> PrintOptions:
    dump = ""
    if args.hex_ascii:
        dump = "XX" if args.hex_ascii > 1 else "X"
    elif args.hex:
        dump = "xx" if args.hex > 1 else "x"
    elif args.ascii:
        dump = "A"
    return PrintOptions(link_header=args.link_header, verbose=args.verbosity,
                        quiet=args.quiet, absolute_seq=args.absolute_seq,
                        time_format=min(args.time_format, 5), dump=dump)


def _emit(packets: Iterator[PcapPacket], args: argparse.Namespace, linktype: int,
          writer: CaptureWriter | None) -> int:
    printer = Printer(linktype, _options(args))
    seen = 0
    for packet in packets:
        seen += 1
        if writer is not None:
            writer.write(packet)
        else:
            print(printer.format(packet), flush=True)
    return seen


def run(args: argparse.Namespace) -> int:
    expression = " ".join(args.expression)
    if args.read:
        capture, packets = filter_file(args.read, expression, count=args.count,
                                       optimize=args.optimize)
        if expression and args.optimize:  # the program filter_file compiled (cached)
            refuse_rejecting_all(compile_filter(expression, linktype=capture.linktype,
                                                savefile=True), expression)
        name, title = LINKTYPE_NAMES.get(capture.linktype, (str(capture.linktype), "?"))
        print(f"reading from file {args.read}, link-type {name} ({title}), snapshot length "
              f"{capture.snaplen}", file=sys.stderr, flush=True)
        writer = CaptureWriter(args.write, linktype=capture.linktype,
                               snaplen=capture.snaplen, pcapng=args.pcapng) \
            if args.write else None
        if args.user:
            drop_privileges(args.user)
        try:
            _emit(packets, args, capture.linktype, writer)
        except BrokenPipeError:
            sys.stderr.close()  # `| head`: stop quietly, as tcpdump does
        finally:
            if writer is not None:
                writer.close()
        return 0
    if expression and args.optimize:  # as tcpdump, before opening the interface
        refuse_rejecting_all(compile_filter(expression, snaplen=args.snaplen), expression)
    seen = received = dropped = 0
    # Ctrl-C/SIGTERM are only recorded: the capture ends before the next packet is read,
    # never between counting a packet and printing or writing it
    with flag_on_signals() as signals, \
            Capture(args.interface, expression, kind="ebpf" if args.ebpf else "classic",
                    snaplen=args.snaplen) as live:
        writer = CaptureWriter(args.write, snaplen=args.snaplen, pcapng=args.pcapng) \
            if args.write else None
        try:
            if args.user:
                drop_privileges(args.user)
            print(f"listening on {args.interface}, link-type EN10MB (Ethernet), snapshot "
                  f"length {args.snaplen} bytes", file=sys.stderr, flush=True)
            printer = Printer(1, _options(args))
            for packet in live.packets(count=args.count, stop=lambda: bool(signals)):
                seen += 1
                if writer is not None:
                    writer.write(packet)
                    writer.flush()
                else:
                    print(printer.format(packet), flush=True)
            received, dropped = live.statistics()
        finally:
            if writer is not None:
                writer.close()
    # tcpdump's closing counts, with its plurals
    for number, what in ((seen, "captured"), (received, "received by filter"),
                         (dropped, "dropped by kernel")):
        print(f"{number} packet{'' if number == 1 else 's'} {what}", file=sys.stderr)
    return 0
