"""filegone: trace files deleted or renamed, like BCC's filegone.

BCC hooks ``vfs_unlink``/``vfs_rename`` with kprobes; here ``raw_syscalls`` enter/exit
keep unlink, unlinkat, rmdir, rename, renameat and renameat2 calls that succeeded, with
the names the caller gave::

    TIME     PID     COMM             ACTION FILE
    14:11:04 1280    rm               DELETE /tmp/scratch
    14:11:09 1283    mv               RENAME a.txt > b.txt
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
    pid_tgid,
    probe_read_user_str,
    s64,
    string,
    struct,
    u32,
    u64,
)
from . import common

__all__ = ["parse_args", "build", "run", "main"]

NAME_SIZE = 128
# x86_64: unlink, rmdir, unlinkat / rename, renameat, renameat2
DELETES = (87, 84, 263)
RENAMES = (82, 264, 316)


class Pending(struct):
    old: u64
    new: u64
    renaming: u64


class GoneEvent(struct):
    pid: u32
    renaming: u32
    comm: bytes16
    old: Annotated[bytes, string(NAME_SIZE)]
    new: Annotated[bytes, string(NAME_SIZE)]


pending = Hash(u32, Pending, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)


@bpf.tracepoint("raw_syscalls/sys_enter")
def filegone_enter(ctx):
    nr: s64 = ctx.id
    p = Pending()
    if nr == 87 or nr == 84:
        p.old = ctx.args[0]
    elif nr == 263:
        p.old = ctx.args[1]
    elif nr == 82:
        p.old = ctx.args[0]
        p.new = ctx.args[1]
        p.renaming = 1
    elif nr == 264 or nr == 316:
        p.old = ctx.args[1]
        p.new = ctx.args[3]
        p.renaming = 1
    else:
        return 0
    tg = pid_tgid()
    if only_pid != 0 and (tg >> 32) != only_pid:
        return 0
    pending[u32(tg & 0xFFFFFFFF)] = p
    return 0


@bpf.tracepoint("raw_syscalls/sys_exit")
def filegone_exit(ctx):
    tg = pid_tgid()
    tid: u32 = tg & 0xFFFFFFFF
    p = pending.lookup(tid)
    if not p:
        return 0
    ret: s64 = ctx.ret
    if ret == 0:
        ev = events.reserve(GoneEvent)
        if ev:
            ev.pid = tg >> 32
            ev.renaming = u32(p[0].renaming)
            ev.comm = comm()
            ev.old = probe_read_user_str(NAME_SIZE, p[0].old)
            if p[0].renaming != 0:
                ev.new = probe_read_user_str(NAME_SIZE, p[0].new)
            events.submit(ev)
    pending.delete(tid)
    return 0


EXAMPLES = """\
    ./filegone           # trace all file deletes and renames
    ./filegone -p 181    # only trace PID 181
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("filegone", "Trace why file gone (deleted or renamed)", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(filegone_enter, filegone_exit).with_constants({only_pid: opts.pid or 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        name, old = common.decode_str(ev.comm), common.decode_str(ev.old)
        action = "RENAME" if ev.renaming else "DELETE"
        file = f"{old} > {common.decode_str(ev.new)}" if ev.renaming else old
        fields = {"pid": ev.pid, "comm": name, "action": action, "file": old}
        if ev.renaming:
            fields["new"] = common.decode_str(ev.new)
        writer.event(fields, f"{common.wall_clock_hms():<8} {ev.pid:<7d} {name:<16} "
                     f"{action:<6} {file}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, GoneEvent, show, writer=writer) as reader:
        writer.header(f"{'TIME':<8} {'PID':<7} {'COMM':<16} {'ACTION':<6} FILE")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("filegone", parse_args, run, argv)
