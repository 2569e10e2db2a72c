"""tcpretrans: trace TCP retransmits, like BCC's tcpretrans.

``tcp:tcp_retransmit_skb`` carries the socket's addresses, ports and state::

    TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE
    01:55:05 0      4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED

``-c`` counts retransmits per flow instead. BCC's ``-l`` (tail loss probes) hooks
``tcp_send_loss_probe`` with a kprobe: on a kernel without kprobes the tool says so at
start and traces retransmits only.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..errors import NotSupportedError
from ..lang import Const, RingBuf, bpf, pid, struct, u8, u16, u32
from . import common
from .tcp import (
    AF_INET,
    TCP_STATES,
    add_family_args,
    format_address,
    ip_version,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main", "loss_probe_support"]


class RetransEvent(struct):
    pid: u32
    state: u32
    family: u16
    sport: u16
    dport: u16
    pad: u16
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]


events = RingBuf(max_entries=1 << 18)
want_family = Const(u32, 0)


def copy_addresses_bytewise(ev, ctx):  # noqa: ANN001, ANN201 - inlined
    """The addresses one byte at a time: this tracepoint's IPv6 fields are not 8-byte
    aligned in its record, and the kernel refuses a wider context read there."""
    if ctx.family == AF_INET:
        ev.saddr[0] = ctx.saddr[0]
        ev.daddr[0] = ctx.daddr[0]
        ev.saddr[1] = ctx.saddr[1]
        ev.daddr[1] = ctx.daddr[1]
        ev.saddr[2] = ctx.saddr[2]
        ev.daddr[2] = ctx.daddr[2]
        ev.saddr[3] = ctx.saddr[3]
        ev.daddr[3] = ctx.daddr[3]
    else:
        ev.saddr[0] = ctx.saddr_v6[0]
        ev.daddr[0] = ctx.daddr_v6[0]
        ev.saddr[1] = ctx.saddr_v6[1]
        ev.daddr[1] = ctx.daddr_v6[1]
        ev.saddr[2] = ctx.saddr_v6[2]
        ev.daddr[2] = ctx.daddr_v6[2]
        ev.saddr[3] = ctx.saddr_v6[3]
        ev.daddr[3] = ctx.daddr_v6[3]
        ev.saddr[4] = ctx.saddr_v6[4]
        ev.daddr[4] = ctx.daddr_v6[4]
        ev.saddr[5] = ctx.saddr_v6[5]
        ev.daddr[5] = ctx.daddr_v6[5]
        ev.saddr[6] = ctx.saddr_v6[6]
        ev.daddr[6] = ctx.daddr_v6[6]
        ev.saddr[7] = ctx.saddr_v6[7]
        ev.daddr[7] = ctx.daddr_v6[7]
        ev.saddr[8] = ctx.saddr_v6[8]
        ev.daddr[8] = ctx.daddr_v6[8]
        ev.saddr[9] = ctx.saddr_v6[9]
        ev.daddr[9] = ctx.daddr_v6[9]
        ev.saddr[10] = ctx.saddr_v6[10]
        ev.daddr[10] = ctx.daddr_v6[10]
        ev.saddr[11] = ctx.saddr_v6[11]
        ev.daddr[11] = ctx.daddr_v6[11]
        ev.saddr[12] = ctx.saddr_v6[12]
        ev.daddr[12] = ctx.daddr_v6[12]
        ev.saddr[13] = ctx.saddr_v6[13]
        ev.daddr[13] = ctx.daddr_v6[13]
        ev.saddr[14] = ctx.saddr_v6[14]
        ev.daddr[14] = ctx.daddr_v6[14]
        ev.saddr[15] = ctx.saddr_v6[15]
        ev.daddr[15] = ctx.daddr_v6[15]
    return 0


@bpf.tracepoint("tcp/tcp_retransmit_skb")
def tcpretrans_skb(ctx):
    if want_family != 0 and ctx.family != want_family:
        return 0
    ev = events.reserve(RetransEvent)
    if ev:
        ev.pid = pid()
        ev.state = u32(ctx.state)
        ev.family = ctx.family
        ev.sport = ctx.sport
        ev.dport = ctx.dport
        copy_addresses_bytewise(ev, ctx)
        events.submit(ev)
    return 0


def loss_probe_support() -> str | None:
    """None when tail loss probes can be traced (kprobes), else why not."""
    from ..kernel.features import Features  # noqa: PLC0415 - kernel on use
    try:
        Features().have_kprobes()
    except NotSupportedError as err:
        return f"tail loss probes (-l) need a kprobe on tcp_send_loss_probe: no {err}"
    return None


EXAMPLES = """\
    ./tcpretrans           # trace TCP retransmits
    ./tcpretrans -l        # include TLP attempts (needs kprobes)
    ./tcpretrans -c        # count retransmits per flow
    ./tcpretrans -4        # trace IPv4 family only
    ./tcpretrans -6        # trace IPv6 family only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("tcpretrans", "Trace TCP retransmits", EXAMPLES)
    p.add_argument("-l", "--lossprobe", action="store_true",
                   help="include tail loss probe attempts")
    p.add_argument("-c", "--count", action="store_true",
                   help="count occurred retransmits per flow")
    add_family_args(p)
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(tcpretrans_skb).with_constants({want_family: wanted_family(opts)})


def _ends(ev: Any) -> tuple[str, str]:
    local = f"{format_address(ev.family, ev.saddr)}:{ev.sport}"
    remote = f"{format_address(ev.family, ev.daddr)}:{ev.dport}"
    return local, remote


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    if opts.lossprobe:
        why = loss_probe_support()
        if why:
            print(f"tcpretrans: {why}; tracing retransmits only", file=sys.stderr)
    flows: dict[tuple[int, str, str], int] = {}

    def show(ev: Any) -> None:
        local, remote = _ends(ev)
        if opts.count:
            key = (ip_version(ev.family), local, remote)
            flows[key] = flows.get(key, 0) + 1
            return
        state = TCP_STATES.get(ev.state, str(ev.state))
        writer.event({"pid": ev.pid, "ip": ip_version(ev.family), "laddr": local,
                      "type": "R", "raddr": remote, "state": state},
                     f"{common.wall_clock_hms():<8} {ev.pid:<6d} {ip_version(ev.family):<2d} "
                     f"{local:<20} R> {remote:<20} {state}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, RetransEvent, show, writer=writer) as reader:
        if opts.count:
            if not opts.json:
                out.write("Tracing retransmits ... Hit Ctrl-C to end\n")
                out.flush()
            try:
                common.poll_until_stopped([reader], stop)
            finally:
                if not opts.json:
                    out.write(f"\n{'LADDR:LPORT':<25} {'RADDR:RPORT':<25} RETRANSMITS\n")
                for (ip, local, remote), n in sorted(flows.items(), key=lambda kv: kv[1]):
                    writer.event({"ip": ip, "laddr": local, "raddr": remote,
                                  "retransmits": n}, f"{local:<25} {remote:<25} {n}")
                writer.flush()
        else:
            writer.header(f"{'TIME':<8} {'PID':<6} {'IP':<2} {'LADDR:LPORT':<20} T> "
                          f"{'RADDR:RPORT':<20} STATE")
            common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcpretrans", parse_args, run, argv)
