"""statsnoop: trace stat() system calls, like BCC's statsnoop.

Entry tracepoints of statfs, newstat, newlstat, newfstatat and statx keep the path's user
address per thread; the exits read it and send one record with the result::

    PID    COMM               FD ERR PATH
    31126  bash               -1   2 /usr/local/sbin/iconfig
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
    probe_read_user_str,
    s32,
    string,
    struct,
    tid,
    u32,
    u64,
)
from . import common

PATH_SIZE = 256
SYSCALLS = ("statfs", "newstat", "newlstat", "newfstatat", "statx")


class StatStart(struct):
    path_addr: u64
    syscall: u32


class StatEvent(struct):
    ts_ns: u64
    pid: u32
    ret: s32
    syscall: u32
    comm: bytes16
    path: Annotated[bytes, string(PATH_SIZE)]
starts = Hash(u32, StatStart, max_entries=10240)
events = RingBuf(max_entries=1 << 20)
pid_filter = Const(u32, 0)


def _remember(path_addr, syscall):
    if pid_filter != 0 and pid() != pid_filter:
        return 0
    start = StatStart()
    start.path_addr = path_addr
    start.syscall = syscall
    starts[tid()] = start
    return 0


def _report(ret):
    thread = tid()
    start = starts.lookup(thread)
    if start:
        ev = events.reserve(StatEvent)
        if ev:
            ev.ret = s32(ret)
            ev.syscall = start.syscall
            ev.path = probe_read_user_str(PATH_SIZE, start.path_addr)
            ev.pid = pid()
            ev.ts_ns = ktime_ns()
            ev.comm = comm()
            events.submit(ev)
        starts.delete(thread)
    return 0


@bpf.tracepoint("syscalls/sys_enter_statfs")
def statsnoop_statfs(ctx):
    return _remember(ctx.pathname, 0)


@bpf.tracepoint("syscalls/sys_enter_newstat")
def statsnoop_newstat(ctx):
    return _remember(ctx.filename, 1)


@bpf.tracepoint("syscalls/sys_enter_newlstat")
def statsnoop_newlstat(ctx):
    return _remember(ctx.filename, 2)


@bpf.tracepoint("syscalls/sys_enter_newfstatat")
def statsnoop_newfstatat(ctx):
    return _remember(ctx.filename, 3)


@bpf.tracepoint("syscalls/sys_enter_statx")
def statsnoop_statx(ctx):
    return _remember(ctx.filename, 4)


@bpf.tracepoint("syscalls/sys_exit_statfs")
def statsnoop_statfs_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_newstat")
def statsnoop_newstat_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_newlstat")
def statsnoop_newlstat_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_newfstatat")
def statsnoop_newfstatat_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_statx")
def statsnoop_statx_ret(ctx):
    return _report(ctx.ret)


PROGRAMS = (statsnoop_statfs, statsnoop_newstat, statsnoop_newlstat, statsnoop_newfstatat,
            statsnoop_statx, statsnoop_statfs_ret, statsnoop_newstat_ret,
            statsnoop_newlstat_ret, statsnoop_newfstatat_ret, statsnoop_statx_ret)

EXAMPLES = """\
    ./statsnoop           # trace all stat() syscalls
    ./statsnoop -t        # include timestamps
    ./statsnoop -s        # include syscall name
    ./statsnoop -x        # only show failed stats
    ./statsnoop -p 181    # only trace PID 181
    ./statsnoop --json    # one JSON object per call
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """BCC's statsnoop options (plus ``--json``)."""
    p = common.make_parser("statsnoop", "Trace stat() syscalls", EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-s", "--sysname", action="store_true", help="include syscall name on output")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed stats")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(*PROGRAMS).with_constants({
        pid_filter: opts.pid or 0,
    })


def header(opts: argparse.Namespace) -> str:
    cols = f"{'TIME(s)':<14}" if opts.timestamp else ""
    if opts.sysname:
        cols += f"{'SYSCALL':<12} "
    return cols + f"{'PID':<6} {'COMM':<16} {'FD':>4} {'ERR':>3} PATH"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()

    def show(ev: Any) -> None:
        if opts.failed and ev.ret >= 0:
            return
        fd, err = (-1, -ev.ret) if ev.ret < 0 else (ev.ret, 0)
        name = common.decode_str(ev.comm)
        path = common.decode_str(ev.path)
        syscall = SYSCALLS[ev.syscall] if ev.syscall < len(SYSCALLS) else "?"
        seconds = clock.seconds(ev.ts_ns)
        text = f"{seconds:<14.9f}" if opts.timestamp else ""
        if opts.sysname:
            text += f"{syscall:<12} "
        text += f"{ev.pid:<6d} {name:<16} {fd:>4d} {err:>3d} {path}"
        writer.event({"time_s": round(seconds, 9), "syscall": syscall, "pid": ev.pid,
                      "comm": name, "fd": fd, "err": err, "path": path}, text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, StatEvent, show, writer=writer) as reader:
        writer.header(header(opts))
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("statsnoop", parse_args, run, argv)
