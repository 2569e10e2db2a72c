"""tcpdrop: trace TCP packets the kernel drops, with addresses, state, flags, the drop
reason and the kernel stack, like BCC's tcpdrop.

BCC hooks ``tcp_drop()`` with a kprobe; here ``skb:kfree_skb`` (every drop, with the
kernel's ``enum skb_drop_reason``) keeps the IPv4/IPv6 packets whose transport is TCP,
reading the addresses, ports and flags from the packet's headers and the state from its
socket, if it has one::

    TIME     PID    IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)
    05:46:07 82093  4  127.0.0.1:50010      > 127.0.0.1:58484      NONE (SYN) NO_SOCKET
    (then the kernel stack, one tab-indented frame a line)
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Const,
    RingBuf,
    StackTrace,
    bpf,
    kernel_struct,
    pid,
    probe_read_kernel,
    s32,
    struct,
    u8,
    u16,
    u32,
    u64,
)
from . import common
from .symbols import Symbolizer
from .tcp import AF_INET, AF_INET6, TCP_STATES, add_family_args, format_address, ip_version
from .tcp import wanted_family as _wanted_family

__all__ = ["parse_args", "build", "run", "main", "drop_reasons", "tcp_flags"]

ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
IPPROTO_TCP = 6


class DropEvent(struct):
    pid: u32
    reason: u32
    stack_id: s32
    state: u32
    family: u16
    sport: u16
    dport: u16
    flags: u16
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]


events = RingBuf(max_entries=1 << 18)
drop_stacks = StackTrace(max_entries=2048, depth=127)
want_family = Const(u32, 0)


@bpf.tracepoint("skb/kfree_skb")
def tcpdrop_kfree(ctx):
    proto = ctx.protocol
    if proto != ETH_P_IP and proto != ETH_P_IPV6:
        return 0
    skb = kernel_struct("sk_buff", ctx.skbaddr)
    head = skb.head
    nh: u64 = skb.network_header
    th: u64 = skb.transport_header
    family: u16 = AF_INET
    if proto == ETH_P_IPV6:
        family = AF_INET6
    if want_family != 0 and family != want_family:
        return 0
    ip = u64(head) + nh
    if family == AF_INET:
        if probe_read_kernel(u8, ip + 9) != IPPROTO_TCP:
            return 0
    else:
        if probe_read_kernel(u8, ip + 6) != IPPROTO_TCP:
            return 0
    # transport_header is ~0 until set: a packet dropped before TCP saw it has none
    if th == 0xFFFF or th <= nh:
        return 0
    tcp = u64(head) + th
    ev = events.reserve(DropEvent)
    if ev:
        ev.pid = pid()
        ev.reason = ctx.reason
        ev.family = family
        ev.sport = probe_read_kernel(u16, tcp)
        ev.dport = probe_read_kernel(u16, tcp + 2)
        ev.flags = probe_read_kernel(u8, tcp + 13)
        if family == AF_INET:
            ev.saddr[0] = probe_read_kernel(u8, ip + 12)
            ev.saddr[1] = probe_read_kernel(u8, ip + 13)
            ev.saddr[2] = probe_read_kernel(u8, ip + 14)
            ev.saddr[3] = probe_read_kernel(u8, ip + 15)
            ev.daddr[0] = probe_read_kernel(u8, ip + 16)
            ev.daddr[1] = probe_read_kernel(u8, ip + 17)
            ev.daddr[2] = probe_read_kernel(u8, ip + 18)
            ev.daddr[3] = probe_read_kernel(u8, ip + 19)
        else:
            ev.saddr = kernel_struct("ipv6hdr", ip).saddr.in6_u.u6_addr8
            ev.daddr = kernel_struct("ipv6hdr", ip).daddr.in6_u.u6_addr8
        ev.state = 0
        sk = skb.sk
        if sk != 0:
            ev.state = kernel_struct("sock", sk).__sk_common.skc_state
        ev.stack_id = drop_stacks.get_stackid(ctx, 0)
        events.submit(ev)
    return 0


_FLAG_NAMES = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")


def tcp_flags(flags: int) -> str:
    """BCC's flags text: ``SYN|ACK``."""
    return "|".join(name for bit, name in enumerate(_FLAG_NAMES) if flags & (1 << bit))


@functools.cache
def drop_reasons() -> dict[int, str]:
    """The kernel's ``enum skb_drop_reason`` names, read off the tracepoint's own print
    format (they change between kernels)."""
    from ..kernel.tracefs import tracefs_root  # noqa: PLC0415 - kernel on use
    path = os.path.join(tracefs_root(), "events", "skb", "kfree_skb", "format")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}
    return {int(n): name for n, name in re.findall(r'\{ (\d+), "(\w+)" \}', text)}


EXAMPLES = """\
    ./tcpdrop           # trace kernel TCP drops
    ./tcpdrop -4        # trace IPv4 family only
    ./tcpdrop -6        # trace IPv6 family only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("tcpdrop", "Trace TCP drops by the kernel", EXAMPLES)
    add_family_args(p)
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(tcpdrop_kfree).with_constants({want_family: _wanted_family(opts)})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    reasons = drop_reasons()
    symbols = Symbolizer()
    loaded: list[Any] = []

    def show(ev: Any) -> None:
        src = f"{format_address(ev.family, ev.saddr)}:{_port(ev.sport)}"
        dst = f"{format_address(ev.family, ev.daddr)}:{_port(ev.dport)}"
        state = TCP_STATES.get(ev.state, "NONE")
        flags = tcp_flags(ev.flags)
        reason = reasons.get(ev.reason, str(ev.reason))
        frames: list[str] = []
        if ev.stack_id >= 0:
            try:
                frames = [symbols.kernel_name(a) for a in loaded[0].maps[drop_stacks][
                    ev.stack_id]]
            except Exception:  # noqa: BLE001 - evicted by a later stack: print none
                frames = []
        text = (f"{common.wall_clock_hms():<8} {ev.pid:<6d} {ip_version(ev.family):<2d} "
                f"{src:<20} > {dst:<20} {state} ({flags}) {reason}")
        if frames:
            text += "\n" + "\n".join("\t" + f for f in frames) + "\n"
        writer.event({"pid": ev.pid, "ip": ip_version(ev.family), "saddr": src, "daddr": dst,
                      "state": state, "flags": flags, "reason": reason, "stack": frames},
                     text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, DropEvent, show, writer=writer) as reader:
        loaded.append(coll)
        writer.header(f"{'TIME':<8} {'PID':<6} {'IP':<2} {'SADDR:SPORT':<20} > "
                      f"{'DADDR:DPORT':<20} STATE (FLAGS)")
        common.poll_until_stopped([reader], stop)
    return 0


def _port(net_order: int) -> int:
    return ((net_order & 0xFF) << 8) | (net_order >> 8)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcpdrop", parse_args, run, argv)
