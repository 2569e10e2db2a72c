"""tcpstates: print every TCP state change, with the time spent in the state left.

From the ``sock:inet_sock_set_state`` tracepoint (no kprobes). Columns as BCC's tcpstates:
SKADDR C-PID C-COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS, where C-PID/C-COMM are
whoever was on CPU (softirq transitions show an unrelated task or 0/swapper, as in BCC) and
MS is the time since the previous state change of that socket (0 the first time we see it).
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
    TCP_STATES,
    add_family_args,
    copy_set_state_addresses,
    format_address,
    ip_version,
    port_list,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main"]


class StateEvent(struct):
    skaddr: u64
    ts_us: u64
    delta_us: u64
    pid: u32
    oldstate: u32
    newstate: u32
    family: u16
    sport: u16
    dport: u16
    pad: u16
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]
    task: bytes16


state_events = RingBuf(max_entries=1 << 18)
last_change = Hash(u64, u64, max_entries=10240)
want_family = Const(u32, 0)     # 0: both, else AF_INET or AF_INET6


@bpf.tracepoint("sock/inet_sock_set_state")
def tcpstates_change(ctx):
    if ctx.protocol != IPPROTO_TCP:
        return 0
    if want_family != 0 and ctx.family != want_family:
        return 0
    now = ktime_ns()
    delta: u64 = 0
    before = last_change.lookup(ctx.skaddr)
    if before:
        delta = (now - before[0]) // 1000
    if ctx.newstate == TCP_CLOSE:
        last_change.delete(ctx.skaddr)
    else:
        last_change[ctx.skaddr] = now
    ev = state_events.reserve(StateEvent)
    if ev:
        ev.skaddr = ctx.skaddr
        ev.ts_us = now // 1000
        ev.delta_us = delta
        ev.pid = pid_tgid() >> 32
        ev.oldstate = ctx.oldstate
        ev.newstate = ctx.newstate
        ev.family = ctx.family
        ev.sport = ctx.sport
        ev.dport = ctx.dport
        copy_set_state_addresses(ev, ctx)
        ev.task = comm()
        state_events.submit(ev)
    return 0


EXAMPLES = """
    ./tcpstates           # trace all TCP state changes
    ./tcpstates -t        # include timestamp column
    ./tcpstates -T        # include time column (HH:MM:SS)
    ./tcpstates -w        # wider columns (fit IPv6)
    ./tcpstates -s        # comma separated values output
    ./tcpstates -L 80     # only trace local port 80
    ./tcpstates -L 80,81  # only trace local ports 80 and 81
    ./tcpstates -D 80     # only trace remote port 80
    ./tcpstates -4        # trace IPv4 family only
    ./tcpstates -6        # trace IPv6 family only
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("tcpstates", "Trace TCP session state changes and durations",
                        EXAMPLES)
    parser.add_argument("-T", "--time", action="store_true", help="include a time column "
                        "on output (HH:MM:SS)")
    parser.add_argument("-t", "--timestamp", action="store_true",
                        help="include timestamp on output (seconds)")
    parser.add_argument("-w", "--wide", action="store_true", help="wide column output "
                        "(fits IPv6 addresses)")
    parser.add_argument("-s", "--csv", action="store_true", help="comma separated values "
                        "output")
    parser.add_argument("-L", "--localport", type=port_list, help="comma-separated list of "
                        "local ports to trace")
    parser.add_argument("-D", "--remoteport", type=port_list, help="comma-separated list "
                        "of remote ports to trace")
    add_family_args(parser)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(tcpstates_change).with_constants({
        want_family: wanted_family(opts),
    })


class _Printer:
    """Formats one StateEvent as BCC's tcpstates does (or as JSON)."""

    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.opts = opts
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.clock = common.RelativeClock()
        self.addr_w = 39 if opts.wide else 15
        self.comm_w = 16 if opts.wide else 10

    def header(self) -> None:
        o = self.opts
        if o.csv:
            cols = (["TIME"] if o.time else []) + (["TIME(s)"] if o.timestamp else []) + \
                ["SKADDR", "C-PID", "C-COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT",
                 "OLDSTATE", "NEWSTATE", "MS"]
            self.writer.header(",".join(cols))
            return
        lead = ("%-8s " % "TIME" if o.time else "") + \
            ("%-9s " % "TIME(s)" if o.timestamp else "")
        ip = "%-2s " % "IP" if o.wide else ""
        self.writer.header(lead + "%-16s %-5s %-*s %s%-*s %-5s %-*s %-5s %-11s -> %-11s %s" % (
            "SKADDR", "C-PID", self.comm_w, "C-COMM", ip, self.addr_w, "LADDR", "LPORT",
            self.addr_w, "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS"))

    def __call__(self, ev: Any) -> None:
        o = self.opts
        if o.localport and ev.sport not in o.localport:
            return
        if o.remoteport and ev.dport not in o.remoteport:
            return
        task = common.decode_str(ev.task)
        laddr, raddr = format_address(ev.family, ev.saddr), format_address(ev.family, ev.daddr)
        old = TCP_STATES.get(ev.oldstate, str(ev.oldstate))
        new = TCP_STATES.get(ev.newstate, str(ev.newstate))
        ms = ev.delta_us / 1000.0
        ipver = ip_version(ev.family)
        ts = self.clock.seconds(ev.ts_us * 1000)
        fields = dict(skaddr=f"{ev.skaddr:x}", pid=ev.pid, comm=task, ip=ipver, laddr=laddr,
                      lport=ev.sport, raddr=raddr, rport=ev.dport, oldstate=old,
                      newstate=new, ms=round(ms, 3), ts=round(ts, 6))
        if o.csv:
            cols = ([common.wall_clock_hms()] if o.time else []) + \
                ([f"{ts:.6f}"] if o.timestamp else []) + \
                [f"{ev.skaddr:x}", str(ev.pid), task, str(ipver), laddr, str(ev.sport),
                 raddr, str(ev.dport), old, new, f"{ms:.3f}"]
            self.writer.event(fields, ",".join(cols))
            return
        lead = ("%-8s " % common.wall_clock_hms() if o.time else "") + \
            ("%-9.6f " % ts if o.timestamp else "")
        ip = "%-2d " % ipver if o.wide else ""
        self.writer.event(fields, lead + "%-16x %-5d %-*.*s %s%-*s %-5d %-*s %-5d %-11s -> "
                          "%-11s %.3f" % (ev.skaddr, ev.pid, self.comm_w, self.comm_w, task,
                                          ip, self.addr_w, laddr, ev.sport, self.addr_w,
                                          raddr, ev.dport, old, new, ms))


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop`` is set (or a signal unwinds us); returns the exit status."""
    printer = _Printer(opts, out)
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, state_events, StateEvent, printer,
                               as_json=opts.json) as reader:
        printer.header()
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("tcpstates", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
