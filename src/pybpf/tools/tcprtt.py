"""tcprtt: summarize TCP round trip times as a histogram, like BCC's tcprtt.

BCC reads ``srtt_us`` in a kprobe on ``tcp_rcv_established()``; the ``tcp:tcp_probe``
tracepoint fires at the start of that function with the smoothed RTT already in
microseconds (``srtt``), the ports and addresses. Filters: -p/-P local/remote port,
-a/-A local/remote IPv4 address; -b/-B a histogram per local/remote address::

    Tracing TCP RTT... Hit Ctrl-C to end.
         usecs               : count     distribution
             0 -> 1          : 0        |                                        |
            16 -> 31         : 4        |****************************************|
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, Hash, bpf, u32, u64
from . import common
from .histkit import HistKey, log2_slot, run_histogram_tool
from .tcp import AF_INET

__all__ = ["parse_args", "build", "run", "main"]

BY_NONE, BY_LOCAL, BY_REMOTE = 0, 1, 2

rtt_hist = Hash(HistKey, u64, max_entries=4096)
want_lport = Const(u32, 0)
want_rport = Const(u32, 0)
want_laddr = Const(u32, 0)          # IPv4, as the 4 bytes read little-endian
want_raddr = Const(u32, 0)
in_msecs = Const(u32, 0)
hist_by = Const(u32, BY_NONE)


@bpf.tracepoint("tcp/tcp_probe")
def tcprtt_probe(ctx):
    if want_lport != 0 and ctx.sport != want_lport:
        return 0
    if want_rport != 0 and ctx.dport != want_rport:
        return 0
    # saddr/daddr are struct sockaddr_in(6): the IPv4 address is at bytes 4..7
    laddr: u32 = (u32(ctx.saddr[4]) | (u32(ctx.saddr[5]) << 8) | (u32(ctx.saddr[6]) << 16)
                  | (u32(ctx.saddr[7]) << 24))
    raddr: u32 = (u32(ctx.daddr[4]) | (u32(ctx.daddr[5]) << 8) | (u32(ctx.daddr[6]) << 16)
                  | (u32(ctx.daddr[7]) << 24))
    if want_laddr != 0 and (ctx.family != AF_INET or laddr != want_laddr):
        return 0
    if want_raddr != 0 and (ctx.family != AF_INET or raddr != want_raddr):
        return 0
    rtt: u64 = ctx.srtt
    if in_msecs != 0:
        rtt = rtt // 1000
    hk = HistKey()
    if hist_by == BY_LOCAL:
        hk.key = laddr
    elif hist_by == BY_REMOTE:
        hk.key = raddr
    hk.slot = log2_slot(rtt)
    rtt_hist.increment(hk)
    return 0


EXAMPLES = """\
    ./tcprtt            # summarize TCP RTT
    ./tcprtt -i 1 -d 10 # print 1 second summaries, 10 times
    ./tcprtt -m -T      # summarize in millisecond, and timestamps
    ./tcprtt -p 22      # filter for local port
    ./tcprtt -P 22      # filter for remote port
    ./tcprtt -a 1.1.1.1 # filter for local address
    ./tcprtt -A 1.1.1.1 # filter for remote address
    ./tcprtt -b         # show sockets histogram by local address
    ./tcprtt -B         # show sockets histogram by remote address
"""


def _ipv4(text: str) -> int:
    try:
        return int.from_bytes(ipaddress.IPv4Address(text).packed, "little")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IPv4 address") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("tcprtt", "Summarize TCP RTT as a histogram", EXAMPLES)
    p.add_argument("-i", "--interval", type=common.positive_int,
                   help="summary interval, seconds")
    p.add_argument("-d", "--duration", type=common.positive_int,
                   help="total duration of trace, seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-p", "--lport", type=common.positive_int, help="filter for local port")
    p.add_argument("-P", "--rport", type=common.positive_int, help="filter for remote port")
    p.add_argument("-a", "--laddr", type=_ipv4, help="filter for local address")
    p.add_argument("-A", "--raddr", type=_ipv4, help="filter for remote address")
    by = p.add_mutually_exclusive_group()
    by.add_argument("-b", "--byladdr", action="store_true",
                    help="show sockets histogram by local address")
    by.add_argument("-B", "--byraddr", action="store_true",
                    help="show sockets histogram by remote address")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(tcprtt_probe).with_constants({
        want_lport: opts.lport or 0, want_rport: opts.rport or 0,
        want_laddr: opts.laddr or 0, want_raddr: opts.raddr or 0,
        in_msecs: 1 if opts.milliseconds else 0,
        hist_by: BY_LOCAL if opts.byladdr else BY_REMOTE if opts.byraddr else BY_NONE})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    section = "Local Address" if opts.byladdr else "Remote Address" if opts.byraddr else None
    if opts.duration and not opts.interval:
        opts.interval = opts.duration
    opts.count = (opts.duration // opts.interval) if opts.duration and opts.interval else None
    return run_histogram_tool(
        opts, out, stop, compiled=build(opts), hist_decl=rtt_hist,
        banner="Tracing TCP RTT... Hit Ctrl-C to end.",
        unit="msecs" if opts.milliseconds else "usecs", section=section,
        label=lambda key: socket.inet_ntoa(key.to_bytes(4, "little")))


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcprtt", parse_args, run, argv)
