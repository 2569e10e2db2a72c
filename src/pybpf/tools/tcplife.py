"""tcplife: one line per TCP session when it closes: who, both ends, bytes, lifetime.

From ``sock:inet_sock_set_state`` only (no kprobes). A socket's lifetime starts at its last
early state change (before FIN_WAIT1, usually ESTABLISHED) and ends at CLOSE; the process
is the one on CPU when the socket went to SYN_SENT (connect) or LAST_ACK (close after the
peer), else the one on CPU at CLOSE, as BCC's tcplife does. TX_KB/RX_KB are the socket's
``bytes_acked``/``bytes_received`` (struct tcp_sock, read through BTF) in KiB.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Annotated, Any, TextIO

from pybpf.lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    kernel_struct,
    ktime_ns,
    pid_tgid,
    struct,
    u8,
    u16,
    u32,
    u64,
)
from pybpf.tools import common
from pybpf.tools.tcp import (
    IPPROTO_TCP,
    TCP_CLOSE,
    TCP_FIN_WAIT1,
    TCP_LAST_ACK,
    TCP_SYN_SENT,
    add_family_args,
    copy_set_state_addresses,
    format_address,
    ip_version,
    port_list,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main"]


class Owner(struct):
    pid: u32
    pad: u32
    task: bytes16


class LifeEvent(struct):
    ts_us: u64
    span_us: u64
    rx_b: u64
    tx_b: u64
    pid: u32
    family: u16
    lport: u16
    dport: u16
    pad: u16
    pad2: u32
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]
    task: bytes16


life_events = RingBuf(max_entries=1 << 18)
birth = Hash(u64, u64, max_entries=10240)
owner = Hash(u64, Owner, max_entries=10240)
target_pid = Const(u32, 0)
want_family = Const(u32, 0)


@bpf.tracepoint("sock/inet_sock_set_state")
def tcplife_change(ctx):
    if ctx.protocol != IPPROTO_TCP:
        return 0
    if want_family != 0 and ctx.family != want_family:
        return 0
    sk = ctx.skaddr
    if ctx.newstate < TCP_FIN_WAIT1:
        # the PID is not trustworthy this early (softirq), so every socket is timed and
        # the PID filter waits for a state seen in process context
        birth[sk] = ktime_ns()
    if ctx.newstate == TCP_SYN_SENT or ctx.newstate == TCP_LAST_ACK:
        me = pid_tgid() >> 32
        if target_pid != 0 and me != target_pid:
            return 0
        who = Owner()
        who.pid = me
        who.task = comm()
        owner[sk] = who
    if ctx.newstate != TCP_CLOSE:
        return 0
    started = birth.lookup(sk)
    if not started:
        owner.delete(sk)          # never saw it start: nothing to measure
        return 0
    now = ktime_ns()
    span = (now - started[0]) // 1000
    birth.delete(sk)
    ev = life_events.reserve(LifeEvent)
    if ev:
        known = owner.lookup(sk)
        if known:
            ev.pid = known[0].pid
            ev.task = known[0].task
        else:
            ev.pid = pid_tgid() >> 32
            ev.task = comm()
        if target_pid != 0 and ev.pid != target_pid:
            life_events.discard(ev)
            owner.delete(sk)
            return 0
        ev.ts_us = now // 1000
        ev.span_us = span
        tp = kernel_struct("tcp_sock", sk)
        ev.rx_b = tp.bytes_received
        ev.tx_b = tp.bytes_acked
        ev.family = ctx.family
        ev.lport = ctx.sport
        ev.dport = ctx.dport
        copy_set_state_addresses(ev, ctx)
        life_events.submit(ev)
    owner.delete(sk)
    return 0


EXAMPLES = """
    ./tcplife           # trace all TCP connect()s
    ./tcplife -t        # include time column (HH:MM:SS)
    ./tcplife -w        # wider columns (fit IPv6)
    ./tcplife -stT      # csv output, with times & timestamps
    ./tcplife -p 181    # only trace PID 181
    ./tcplife -L 80     # only trace local port 80
    ./tcplife -L 80,81  # only trace local ports 80 and 81
    ./tcplife -D 80     # only trace remote port 80
    ./tcplife -4        # only trace IPv4 family
    ./tcplife -6        # only trace IPv6 family
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("tcplife", "Trace the lifespan of TCP sessions and summarize",
                                EXAMPLES)
    parser.add_argument("-T", "--time", action="store_true",
                        help="include time column on output (HH:MM:SS)")
    parser.add_argument("-t", "--timestamp", action="store_true",
                        help="include timestamp on output (seconds)")
    parser.add_argument("-w", "--wide", action="store_true", help="wide column output")
    parser.add_argument("-s", "--csv", action="store_true",
                        help="comma separated values output")
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    parser.add_argument("-L", "--localport", type=port_list,
                        help="comma-separated list of local ports to trace.")
    parser.add_argument("-D", "--remoteport", type=port_list,
                        help="comma-separated list of remote ports to trace.")
    add_family_args(parser)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(tcplife_change).with_constants({
        target_pid: opts.pid or 0,
        want_family: wanted_family(opts),
    })


class _Printer:
    """Formats one LifeEvent as BCC's tcplife does (or as JSON)."""

    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.opts = opts
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.clock = common.RelativeClock()

    def header(self) -> None:
        o = self.opts
        lead_cols = (["TIME"] if o.time else []) + (["TIME(s)"] if o.timestamp else [])
        if o.csv:
            self.writer.header(",".join(lead_cols + ["PID", "COMM", "IP", "LADDR", "LPORT",
                                                     "RADDR", "RPORT", "TX_KB", "RX_KB",
                                                     "MS"]))
            return
        lead = ("%-8s " % "TIME" if o.time else "") + \
            ("%-9s " % "TIME(s)" if o.timestamp else "")
        if o.wide:
            text = "%-5s %-16.16s %-2s %-26s %-5s %-26s %-5s %6s %6s %s" % (
                "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB",
                "MS")
        else:
            text = "%-5s %-10.10s %-15s %-5s %-15s %-5s %5s %5s %s" % (
                "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS")
        self.writer.header(lead + text)

    def __call__(self, ev: Any) -> None:
        o = self.opts
        if o.localport and ev.lport not in o.localport:
            return
        if o.remoteport and ev.dport not in o.remoteport:
            return
        task = common.decode_str(ev.task)
        laddr, raddr = format_address(ev.family, ev.saddr), format_address(ev.family, ev.daddr)
        ipver = ip_version(ev.family)
        tx_kb, rx_kb = ev.tx_b >> 10, ev.rx_b >> 10
        ms = ev.span_us / 1000.0
        ts = self.clock.seconds(ev.ts_us * 1000)
        fields = dict(pid=ev.pid, comm=task, ip=ipver, laddr=laddr, lport=ev.lport,
                      raddr=raddr, rport=ev.dport, tx_kb=tx_kb, rx_kb=rx_kb,
                      ms=round(ms, 2), ts=round(ts, 6))
        lead_vals = ([common.wall_clock_hms()] if o.time else []) + \
            ([f"{ts:.6f}"] if o.timestamp else [])
        if o.csv:
            self.writer.event(fields, ",".join(lead_vals + [
                str(ev.pid), task, str(ipver), laddr, str(ev.lport), raddr, str(ev.dport),
                str(tx_kb), str(rx_kb), f"{ms:.2f}"]))
            return
        lead = ("%-8s " % lead_vals[0] if o.time else "") + \
            ("%-9s " % f"{ts:.6f}" if o.timestamp else "")
        if o.wide:
            text = "%-5d %-16.16s %-2d %-26s %-5d %-26s %-5d %6d %6d %.2f" % (
                ev.pid, task, ipver, laddr, ev.lport, raddr, ev.dport, tx_kb, rx_kb, ms)
        else:
            text = "%-5d %-10.10s %-15s %-5d %-15s %-5d %5d %5d %.2f" % (
                ev.pid, task, laddr, ev.lport, raddr, ev.dport, tx_kb, rx_kb, ms)
        self.writer.event(fields, lead + text)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop`` is set (or a signal unwinds us); returns the exit status."""
    printer = _Printer(opts, out)
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, life_events, LifeEvent, printer, as_json=opts.json) as reader:
        printer.header()
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("tcplife", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
