"""tcpaccept: trace passive TCP connections (accept()), one line each.

BCC uses a kretprobe on inet_csk_accept; without kprobes we take the return of the
accept()/accept4() system calls (``syscalls:sys_exit_accept*`` tracepoints, process
context: the PID and comm are the acceptor's), follow the returned fd to its socket
(task->files->fdt->fd[fd]->private_data->sk, read through BTF) and read both ends from the
``struct sock``. Non-INET sockets (AF_UNIX...) are skipped.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from typing import Annotated, Any, TextIO

from pybpf.lang import (
    Const,
    RingBuf,
    bpf,
    bytes16,
    comm,
    current_task,
    kernel_struct,
    ktime_ns,
    pid_tgid,
    probe_read_kernel,
    struct,
    u8,
    u16,
    u32,
    u64,
)
from pybpf.tools import common
from pybpf.tools.tcp import (
    AF_INET,
    AF_INET6,
    add_family_args,
    format_address,
    ip_version,
    port_list,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main"]


class AcceptEvent(struct):
    ts_us: u64
    pid: u32
    family: u16
    lport: u16
    dport: u16
    pad: u16
    saddr4: u32
    daddr4: u32
    pad2: u32
    saddr6: Annotated[list[int], u8[16]]
    daddr6: Annotated[list[int], u8[16]]
    task: bytes16


accept_events = RingBuf(max_entries=1 << 18)
target_pid = Const(u32, 0)
want_family = Const(u32, 0)


def emit_accepted(fd):
    """Inlined into both programs: fd -> struct sock -> one event."""
    me = pid_tgid() >> 32
    if target_pid != 0 and me != target_pid:
        return 0
    fd_array = current_task().files.fdt.fd
    file_addr = probe_read_kernel(u64, u64(fd_array) + fd * 8)
    sock_addr = kernel_struct("socket", kernel_struct("file", file_addr).private_data).sk
    sk = kernel_struct("sock", sock_addr)
    family = sk.__sk_common.skc_family
    if family != AF_INET and family != AF_INET6:
        return 0
    if want_family != 0 and family != want_family:
        return 0
    now = ktime_ns()
    ev = accept_events.reserve(AcceptEvent)
    if ev:
        ev.ts_us = now // 1000
        ev.pid = me
        ev.task = comm()
        ev.family = family
        ev.lport = sk.__sk_common.skc_num
        ev.dport = sk.__sk_common.skc_dport
        ev.saddr4 = sk.__sk_common.skc_rcv_saddr
        ev.daddr4 = sk.__sk_common.skc_daddr
        if family == AF_INET6:
            ev.saddr6 = sk.__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8
            ev.daddr6 = sk.__sk_common.skc_v6_daddr.in6_u.u6_addr8
        accept_events.submit(ev)
    return 0


@bpf.tracepoint("syscalls/sys_exit_accept4")
def tcpaccept_accept4(ctx):
    if ctx.ret < 0:
        return 0
    return emit_accepted(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_accept")
def tcpaccept_accept(ctx):
    if ctx.ret < 0:
        return 0
    return emit_accepted(ctx.ret)


EXAMPLES = """
    ./tcpaccept           # trace all TCP accept()s
    ./tcpaccept -t        # include timestamps
    ./tcpaccept -P 80,81  # only trace port 80 and 81
    ./tcpaccept -p 181    # only trace PID 181
    ./tcpaccept -4        # trace IPv4 family only
    ./tcpaccept -6        # trace IPv6 family only
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("tcpaccept", "Trace TCP accepts", EXAMPLES)
    parser.add_argument("-T", "--time", action="store_true",
                        help="include time column on output (HH:MM:SS)")
    parser.add_argument("-t", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    parser.add_argument("-P", "--port", type=port_list,
                        help="comma-separated list of local ports to trace")
    add_family_args(parser)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(tcpaccept_accept4, tcpaccept_accept).with_constants({
        target_pid: opts.pid or 0,
        want_family: wanted_family(opts),
    })


def _addresses(ev: Any) -> tuple[str, str]:
    if ev.family == AF_INET:
        # skc_rcv_saddr/skc_daddr are network-order u32s read as little-endian numbers
        return (socket.inet_ntoa(ev.saddr4.to_bytes(4, "little")),
                socket.inet_ntoa(ev.daddr4.to_bytes(4, "little")))
    return format_address(ev.family, ev.saddr6), format_address(ev.family, ev.daddr6)


class _Printer:
    """One line per accept in BCC's tcpaccept columns (or JSON)."""

    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.opts = opts
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.clock = common.RelativeClock()

    def header(self) -> None:
        o = self.opts
        self.writer.header(("%-8s " % "TIME" if o.time else "") +
                           ("%-9s " % "TIME(s)" if o.timestamp else "") +
                           "%-7s %-12s %-2s %-16s %-5s %-16s %-5s" % (
                               "PID", "COMM", "IP", "RADDR", "RPORT", "LADDR", "LPORT"))

    def __call__(self, ev: Any) -> None:
        o = self.opts
        if o.port and ev.lport not in o.port:
            return
        laddr, raddr = _addresses(ev)
        rport = socket.ntohs(ev.dport)
        task = common.decode_str(ev.task)
        ipver = ip_version(ev.family)
        ts = self.clock.seconds(ev.ts_us * 1000)
        fields = dict(pid=ev.pid, comm=task, ip=ipver, raddr=raddr, rport=rport,
                      laddr=laddr, lport=ev.lport, ts=round(ts, 6))
        text = ("%-8s " % common.wall_clock_hms() if o.time else "") + \
            ("%-9.3f " % ts if o.timestamp else "") + \
            "%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d" % (ev.pid, task, ipver, raddr, rport,
                                                          laddr, ev.lport)
        self.writer.event(fields, text)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop`` is set (or a signal unwinds us); returns the exit status."""
    printer = _Printer(opts, out)
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, accept_events, AcceptEvent, printer,
                               as_json=opts.json) as reader:
        printer.header()
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("tcpaccept", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
