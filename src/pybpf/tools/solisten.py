"""solisten: trace listen() on TCP sockets, like BCC's solisten.

``syscalls:sys_enter_listen`` keeps the backlog per thread; the socket's move to LISTEN
(``sock:inet_sock_set_state``, inside that listen() call) sends the address and port::

    PID    COMM         PROTO  BACKLOG  ADDR                                    PORT
    3643   nc           TCPv4  1        0.0.0.0                                 4242
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import Const, Hash, RingBuf, bpf, bytes16, comm, pid, struct, tid, u8, u16, u32
from . import common
from .tcp import (
    AF_INET,
    IPPROTO_TCP,
    add_family_args,
    copy_set_state_addresses,
    format_address,
    wanted_family,
)

__all__ = ["parse_args", "build", "run", "main"]

TCP_LISTEN = 10


class ListenEvent(struct):
    pid: u32
    backlog: u32
    family: u16
    port: u16
    pad: u32
    saddr: Annotated[list[int], u8[16]]
    daddr: Annotated[list[int], u8[16]]
    comm: bytes16


backlogs = Hash(u32, u32, max_entries=10240)
events = RingBuf(max_entries=1 << 16)
only_pid = Const(u32, 0)
want_family = Const(u32, 0)


@bpf.tracepoint("syscalls/sys_enter_listen")
def solisten_enter(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    backlogs[tid()] = u32(ctx.backlog)
    return 0


@bpf.tracepoint("syscalls/sys_exit_listen")
def solisten_exit(ctx):
    backlogs.delete(tid())
    return 0


@bpf.tracepoint("sock/inet_sock_set_state")
def solisten_state(ctx):
    if ctx.protocol != IPPROTO_TCP or ctx.newstate != TCP_LISTEN:
        return 0
    if want_family != 0 and ctx.family != want_family:
        return 0
    backlog = backlogs.lookup(tid())
    if not backlog:
        return 0
    ev = events.reserve(ListenEvent)
    if ev:
        ev.pid = pid()
        ev.backlog = backlog[0]
        ev.family = ctx.family
        ev.port = ctx.sport
        copy_set_state_addresses(ev, ctx)
        ev.comm = comm()
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./solisten              # trace all TCP listen()s
    ./solisten -p 1234      # only trace PID 1234
    ./solisten -4           # IPv4 only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("solisten", "Stream sockets listen", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    add_family_args(p)
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(solisten_enter, solisten_exit, solisten_state).with_constants(
        {only_pid: opts.pid or 0, want_family: wanted_family(opts)})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        proto = "TCPv4" if ev.family == AF_INET else "TCPv6"
        addr = format_address(ev.family, ev.saddr)
        writer.event({"pid": ev.pid, "comm": name, "proto": proto, "backlog": ev.backlog,
                      "addr": addr, "port": ev.port},
                     f"{ev.pid:<6d} {name[:12]:<12} {proto:<6} {ev.backlog:<8d} {addr:<39} "
                     f"{ev.port}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, ListenEvent, show, writer=writer) as reader:
        writer.header(f"{'PID':<6} {'COMM':<12} {'PROTO':<6} {'BACKLOG':<8} {'ADDR':<39} PORT")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("solisten", parse_args, run, argv)
