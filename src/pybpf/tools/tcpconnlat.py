"""tcpconnlat: trace TCP active connection latency (SYN sent to established), like BCC's
tcpconnlat.

``sock:inet_sock_set_state``: the move to SYN_SENT (in the connecting task, so its pid and
name) starts the clock, the move from SYN_SENT to ESTABLISHED stops it::

    PID    COMM         IP SADDR            DADDR            DPORT LAT(ms)
    1201   wget         4  10.153.223.157   23.23.100.231    80    1.65
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid,
    struct,
    u8,
    u16,
    u32,
    u64,
)
from . import common
from .tcp import (
    IPPROTO_TCP,
    TCP_ESTABLISHED,
    TCP_SYN_SENT,
    add_family_args,
    copy_set_state_addresses,
    format_address,
    ip_version,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main"]


class Connecting(struct):
    ts: u64
    pid: u32
    pad: u32
    comm: bytes16


class ConnEvent(struct):
    ts_ns: u64
    delta_ns: u64
    pid: u32
    family: u16
    lport: u16
    dport: u16
    pad: u16
    pad2: u32
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]
    comm: bytes16


connecting = Hash(u64, Connecting, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)
want_family = Const(u32, 0)
min_ns = Const(u64, 0)


@bpf.tracepoint("sock/inet_sock_set_state")
def tcpconnlat_state(ctx):
    if ctx.protocol != IPPROTO_TCP:
        return 0
    if want_family != 0 and ctx.family != want_family:
        return 0
    sk: u64 = ctx.skaddr
    if ctx.newstate == TCP_SYN_SENT:
        if only_pid != 0 and pid() != only_pid:
            return 0
        c = Connecting()
        c.ts = ktime_ns()
        c.pid = pid()
        c.comm = comm()
        connecting[sk] = c
        return 0
    if ctx.oldstate != TCP_SYN_SENT:
        return 0
    started = connecting.lookup(sk)
    if not started:
        return 0
    now = ktime_ns()
    delta = now - started[0].ts
    if ctx.newstate == TCP_ESTABLISHED and delta >= min_ns:
        ev = events.reserve(ConnEvent)
        if ev:
            ev.ts_ns = now
            ev.delta_ns = delta
            ev.pid = started[0].pid
            ev.comm = started[0].comm
            ev.family = ctx.family
            ev.lport = ctx.sport
            ev.dport = ctx.dport
            copy_set_state_addresses(ev, ctx)
            events.submit(ev)
    connecting.delete(sk)
    return 0


EXAMPLES = """\
    ./tcpconnlat           # trace all TCP connect()s
    ./tcpconnlat 1         # trace connection latency slower than 1 ms
    ./tcpconnlat 0.1       # trace connection latency slower than 100 us
    ./tcpconnlat -t        # include timestamps
    ./tcpconnlat -p 181    # only trace PID 181
    ./tcpconnlat -L        # include LPORT while printing outputs
    ./tcpconnlat -4        # trace IPv4 family only
"""


def _min_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("tcpconnlat", "Trace TCP connects and show connection latency",
                           EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp on output")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-L", "--lport", action="store_true", help="include LPORT on output")
    add_family_args(p)
    p.add_argument("duration_ms", nargs="?", type=_min_ms, default=0.0,
                   help="minimum duration to trace (ms)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(tcpconnlat_state).with_constants({
        only_pid: opts.pid or 0, want_family: wanted_family(opts),
        min_ns: int(opts.duration_ms * 1_000_000)})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        src = format_address(ev.family, ev.saddr)
        dst = format_address(ev.family, ev.daddr)
        ms = ev.delta_ns / 1e6
        text = f"{clock.seconds(ev.ts_ns):<9.3f}" if opts.timestamp else ""
        text += f"{ev.pid:<6d} {name[:12]:<12} {ip_version(ev.family):<2d} {src:<16} "
        if opts.lport:
            text += f"{ev.lport:<6d} "
        text += f"{dst:<16} {ev.dport:<5d} {ms:.2f}"
        writer.event({"pid": ev.pid, "comm": name, "ip": ip_version(ev.family),
                      "saddr": src, "lport": ev.lport, "daddr": dst, "dport": ev.dport,
                      "lat_ms": ms}, text)

    header = f"{'TIME(s)':<9}" if opts.timestamp else ""
    header += f"{'PID':<6} {'COMM':<12} {'IP':<2} {'SADDR':<16} "
    header += f"{'LPORT':<6} " if opts.lport else ""
    header += f"{'DADDR':<16} {'DPORT':<5} LAT(ms)"
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, ConnEvent, show, writer=writer) as reader:
        writer.header(header)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcpconnlat", parse_args, run, argv)
