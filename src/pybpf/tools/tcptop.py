"""tcptop: TCP send and receive throughput by process and connection, top-like, like
BCC's tcptop.

BCC hooks ``tcp_sendmsg``/``tcp_cleanup_rbuf`` with kprobes; here the
``sock:sock_send_length`` and ``sock:sock_recv_length`` tracepoints (every
sendmsg/recvmsg with its byte count and socket) keep the TCP ones, the addresses read
from the socket::

    08:59:51 loadavg: 0.10 0.04 0.05 1/161 5765

    PID     COMM         LADDR                 RADDR                  RX_KB  TX_KB
    2891    sshd         100.66.3.172:22       100.127.69.165:6684        1      0
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    BPF_NOEXIST,
    Const,
    Hash,
    bpf,
    bytes16,
    comm,
    kernel_struct,
    pid,
    s32,
    struct,
    u8,
    u16,
    u32,
    u64,
)
from . import common
from .histkit import run_interval_reports
from .tcp import AF_INET, AF_INET6, IPPROTO_TCP, add_family_args, format_address, wanted_family

__all__ = ["parse_args", "build", "run", "main"]

MSG_PEEK = 2


class FlowKey(struct):
    pid: u32
    family: u16
    lport: u16
    dport: u16
    pad: u16
    pad2: u32
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]
    name: bytes16


class FlowBytes(struct):
    rx: u64
    tx: u64


flows = Hash(FlowKey, FlowBytes, max_entries=10240)
only_pid = Const(u32, 0)
want_family = Const(u32, 0)


def count_bytes(ctx, sending):  # noqa: ANN001, ANN201 - inlined into both programs
    if ctx.protocol != IPPROTO_TCP:
        return 0
    size: s32 = ctx.ret
    if size <= 0:
        return 0
    if sending == 0 and (ctx.flags & MSG_PEEK) != 0:
        return 0
    family = ctx.family
    if family != AF_INET and family != AF_INET6:
        return 0
    if want_family != 0 and family != want_family:
        return 0
    me = pid()
    if only_pid != 0 and me != only_pid:
        return 0
    sk = kernel_struct("sock", ctx.sk)
    k = FlowKey()
    k.pid = me
    k.family = family
    k.lport = sk.__sk_common.skc_num
    dport_be: u16 = sk.__sk_common.skc_dport
    k.dport = ((dport_be & 0xFF) << 8) | (dport_be >> 8)
    if family == AF_INET:
        saddr: u32 = sk.__sk_common.skc_rcv_saddr
        daddr: u32 = sk.__sk_common.skc_daddr
        k.saddr[0] = saddr & 0xFF
        k.saddr[1] = (saddr >> 8) & 0xFF
        k.saddr[2] = (saddr >> 16) & 0xFF
        k.saddr[3] = saddr >> 24
        k.daddr[0] = daddr & 0xFF
        k.daddr[1] = (daddr >> 8) & 0xFF
        k.daddr[2] = (daddr >> 16) & 0xFF
        k.daddr[3] = daddr >> 24
    else:
        k.saddr = sk.__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8
        k.daddr = sk.__sk_common.skc_v6_daddr.in6_u.u6_addr8
    k.name = comm()
    seen = flows.lookup(k)
    if not seen:
        flows.update(k, FlowBytes(), BPF_NOEXIST)
        seen = flows.lookup(k)
        if not seen:
            return 0
    if sending != 0:
        seen[0].tx += u64(size)
    else:
        seen[0].rx += u64(size)
    return 0


@bpf.tracepoint("sock/sock_send_length")
def tcptop_send(ctx):
    return count_bytes(ctx, 1)


@bpf.tracepoint("sock/sock_recv_length")
def tcptop_recv(ctx):
    return count_bytes(ctx, 0)


EXAMPLES = """\
    ./tcptop           # trace TCP send/recv by host
    ./tcptop -C        # don't clear the screen
    ./tcptop -p 181    # only trace PID 181
    ./tcptop -4        # trace IPv4 family only
    ./tcptop 5 10      # 5 second summaries, 10 times only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("tcptop", "Summarize TCP send/recv throughput by host", EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-S", "--nosummary", action="store_true",
                   help="skip system summary line")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    add_family_args(p)
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds (default 1)")
    p.add_argument("count", nargs="?", type=common.positive_int, default=None,
                   help="number of outputs")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(tcptop_send, tcptop_recv).with_constants(
        {only_pid: opts.pid or 0, want_family: wanted_family(opts)})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    opts.timestamp = False

    def report(coll: Any) -> None:
        view = coll.maps[flows]
        rows = [(k, v) for k, v in list(view.items())]
        view.clear()
        if not opts.json:
            if not opts.noclear:
                out.write("\033[2J\033[H")
            if not opts.nosummary:
                with open("/proc/loadavg") as f:
                    out.write(f"{common.wall_clock_hms()} loadavg: {f.read().strip()}\n\n")
        for family, width in ((AF_INET, 21), (AF_INET6, 40)):
            mine = sorted((r for r in rows if r[0].family == family),
                          key=lambda r: r[1].rx + r[1].tx, reverse=True)
            if not mine:
                continue
            if not opts.json:
                out.write(f"{'PID':<7} {'COMM':<12} {'LADDR':<{width}} {'RADDR':<{width}} "
                          f"{'RX_KB':>6} {'TX_KB':>6}\n")
            for k, v in mine:
                name = common.decode_str(k.name)
                local = f"{format_address(family, k.saddr)}:{k.lport}"
                remote = f"{format_address(family, k.daddr)}:{k.dport}"
                writer.event({"ts": common.wall_clock_hms(), "pid": k.pid, "comm": name,
                              "laddr": local, "raddr": remote, "rx_kb": v.rx // 1024,
                              "tx_kb": v.tx // 1024, "rx_bytes": v.rx, "tx_bytes": v.tx},
                             f"{k.pid:<7d} {name[:12]:<12} {local:<{width}} {remote:<{width}} "
                             f"{v.rx // 1024:6d} {v.tx // 1024:6d}")
            if not opts.json:
                out.write("\n")
        writer.flush()

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Tracing... Output every %d secs. Hit Ctrl-C to end"
                                % opts.interval, report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcptop", parse_args, run, argv)
