"""tcpconnect: trace active TCP connections (connect()), one line each, or count them.

BCC hooks tcp_v4_connect/tcp_v6_connect with kprobes; this kernel has none, so the
``sock:inet_sock_set_state`` tracepoint stands in: CLOSE -> SYN_SENT runs inside the
connect() call (process context: the PID, UID and comm are the caller's) and is remembered
per socket; the line is printed when the socket leaves SYN_SENT (ESTABLISHED, or CLOSE for
a refused attempt), when its local port is known too. Like BCC, an attempt that sent a SYN
is shown whether or not it succeeded.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from typing import Annotated, Any, TextIO

from pybpf.lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid_tgid,
    struct,
    u8,
    u16,
    u32,
    u64,
    uid,
)
from pybpf.tools import common
from pybpf.tools.tcp import (
    IPPROTO_TCP,
    TCP_SYN_SENT,
    add_family_args,
    copy_set_state_addresses,
    format_address,
    ip_version,
    port_list,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main"]


class Caller(struct):
    ts: u64
    pid: u32
    uid: u32
    task: bytes16


class ConnectEvent(struct):
    ts_us: u64
    pid: u32
    uid: u32
    family: u16
    lport: u16
    dport: u16
    newstate: u16
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]
    task: bytes16


connect_events = RingBuf(max_entries=1 << 18)
callers = Hash(u64, Caller, max_entries=10240)
target_pid = Const(u32, 0)
target_uid = Const(u32, 0xFFFFFFFF)
want_family = Const(u32, 0)


@bpf.tracepoint("sock/inet_sock_set_state")
def tcpconnect_change(ctx):
    if ctx.protocol != IPPROTO_TCP:
        return 0
    if want_family != 0 and ctx.family != want_family:
        return 0
    sk = ctx.skaddr
    if ctx.newstate == TCP_SYN_SENT:
        me = pid_tgid() >> 32
        if target_pid != 0 and me != target_pid:
            return 0
        who = Caller()
        who.uid = uid()
        if target_uid != 0xFFFFFFFF and who.uid != target_uid:
            return 0
        who.pid = me
        who.ts = ktime_ns()
        who.task = comm()
        callers[sk] = who
        return 0
    if ctx.oldstate != TCP_SYN_SENT:
        return 0
    who2 = callers.lookup(sk)
    if not who2:
        return 0
    ev = connect_events.reserve(ConnectEvent)
    if ev:
        ev.ts_us = who2[0].ts // 1000
        ev.pid = who2[0].pid
        ev.uid = who2[0].uid
        ev.task = who2[0].task
        ev.family = ctx.family
        ev.lport = ctx.sport
        ev.dport = ctx.dport
        ev.newstate = ctx.newstate
        copy_set_state_addresses(ev, ctx)
        connect_events.submit(ev)
    callers.delete(sk)
    return 0


EXAMPLES = """
    ./tcpconnect           # trace all TCP connect()s
    ./tcpconnect -t        # include timestamps
    ./tcpconnect -p 181    # only trace PID 181
    ./tcpconnect -P 80     # only trace port 80
    ./tcpconnect -P 80,81  # only trace port 80 and 81
    ./tcpconnect -4        # only trace IPv4 family
    ./tcpconnect -6        # only trace IPv6 family
    ./tcpconnect -U        # include UID
    ./tcpconnect -u 1000   # only trace UID 1000
    ./tcpconnect -c        # count connects per src ip and dest ip/port
    ./tcpconnect -L        # include LPORT while printing outputs
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("tcpconnect", "Trace TCP connects", EXAMPLES)
    parser.add_argument("-t", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    parser.add_argument("-P", "--port", type=port_list,
                        help="comma-separated list of destination ports to trace.")
    add_family_args(parser)
    parser.add_argument("-L", "--lport", action="store_true", help="include LPORT on output")
    parser.add_argument("-U", "--print-uid", action="store_true", help="include UID on output")
    parser.add_argument("-u", "--uid", type=int, help="trace this UID only")
    parser.add_argument("-c", "--count", action="store_true",
                        help="count connects per src ip and dest ip/port")
    parser.add_argument("-d", "--duration", type=common.positive_int,
                        help="total duration of trace in seconds")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(tcpconnect_change).with_constants({
        target_pid: opts.pid or 0,
        target_uid: 0xFFFFFFFF if opts.uid is None else opts.uid,
        want_family: wanted_family(opts),
    })


class _Printer:
    """One line per connect in BCC's tcpconnect columns, or counts (``-c``) at the end."""

    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.opts = opts
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.clock = common.RelativeClock()
        self.counts: Counter[tuple[str, str, int]] = Counter()

    def header(self) -> None:
        o = self.opts
        if o.count:
            return
        text = ("%-9s " % "TIME(s)" if o.timestamp else "") + \
            ("%-6s " % "UID" if o.print_uid else "")
        if o.lport:
            text += "%-7s %-12s %-2s %-16s %-6s %-16s %-5s" % (
                "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR", "DPORT")
        else:
            text += "%-7s %-12s %-2s %-16s %-16s %-5s" % (
                "PID", "COMM", "IP", "SADDR", "DADDR", "DPORT")
        self.writer.header(text)

    def __call__(self, ev: Any) -> None:
        o = self.opts
        if o.port and ev.dport not in o.port:
            return
        saddr, daddr = format_address(ev.family, ev.saddr), format_address(ev.family, ev.daddr)
        if o.count:
            self.counts[(saddr, daddr, ev.dport)] += 1
            return
        task = common.decode_str(ev.task)
        ipver = ip_version(ev.family)
        ts = self.clock.seconds(ev.ts_us * 1000)
        fields = dict(pid=ev.pid, uid=ev.uid, comm=task, ip=ipver, saddr=saddr,
                      lport=ev.lport, daddr=daddr, dport=ev.dport,
                      established=ev.newstate == 1, ts=round(ts, 6))
        text = ("%-9.3f " % ts if o.timestamp else "") + \
            ("%-6d " % ev.uid if o.print_uid else "")
        if o.lport:
            text += "%-7d %-12.12s %-2d %-16s %-6d %-16s %-5d" % (
                ev.pid, task, ipver, saddr, ev.lport, daddr, ev.dport)
        else:
            text += "%-7d %-12.12s %-2d %-16s %-16s %-5d" % (
                ev.pid, task, ipver, saddr, daddr, ev.dport)
        self.writer.event(fields, text)

    def summary(self) -> None:
        if not self.opts.count:
            return
        self.writer.header("\n%-25s %-25s %-20s %-10s" % ("LADDR", "RADDR", "RPORT",
                                                           "CONNECTS"))
        for (saddr, daddr, dport), n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            self.writer.event(dict(laddr=saddr, raddr=daddr, rport=dport, connects=n),
                              "%-25s %-25s %-20s %-10d" % (saddr, daddr, dport, n))


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, the duration or a signal; ``-c`` prints its table at the end."""
    printer = _Printer(opts, out)
    try:
        with common.attached(build(opts)) as coll, \
                common.ring_reader(coll, connect_events, ConnectEvent, printer,
                                   as_json=opts.json) as reader:
            printer.header()
            common.poll_until_stopped([reader], stop, duration_s=opts.duration)
    finally:
        printer.summary()
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("tcpconnect", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
