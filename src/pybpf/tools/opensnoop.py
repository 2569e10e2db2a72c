"""opensnoop: trace open() system calls, like BCC's opensnoop.

Entry tracepoints of open, openat and openat2 keep the user address of the file name and
the flags per thread (``starts``); the matching exit tracepoints read the name (the
caller's buffer is still valid then) and send one ring buffer record with the result::

    PID    COMM               FD ERR PATH
    1576   snmpd               9   0 /proc/net/dev

In-kernel filters: -p PID, -t TID, -u UID, -f FLAG; -n NAME and -x are applied here.
"""

from __future__ import annotations

import argparse
import os
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
    pid_tgid,
    probe_read_user,
    probe_read_user_str,
    s32,
    string,
    struct,
    tid,
    u32,
    u64,
    uid,
    uid_gid,
)
from . import common

PATH_SIZE = 256   # bytes kept of each path (BCC keeps NAME_MAX, 255)
ANY_UID = 0xFFFFFFFF


class OpenStart(struct):
    fname_addr: u64
    flags: u64


class OpenEvent(struct):
    ts_ns: u64
    flags: u64
    pid: u32
    tid: u32
    uid: u32
    ret: s32
    comm: bytes16
    path: Annotated[bytes, string(PATH_SIZE)]
starts = Hash(u32, OpenStart, max_entries=10240)
events = RingBuf(max_entries=1 << 20)
pid_filter = Const(u32, 0)
tid_filter = Const(u32, 0)
uid_filter = Const(u32, ANY_UID)
flags_filter = Const(u64, 0)


def _remember(fname_addr, flags):
    ids = pid_tgid()
    tid = u32(ids)
    if pid_filter != 0 and u32(ids >> 32) != pid_filter:
        return 0
    if tid_filter != 0 and tid != tid_filter:
        return 0
    if uid_filter != ANY_UID and u32(uid_gid()) != uid_filter:
        return 0
    if flags_filter != 0 and (flags & flags_filter) == 0:
        return 0
    start = OpenStart()
    start.fname_addr = fname_addr
    start.flags = flags
    starts[tid] = start
    return 0


def _report(ret):
    # few values live across helper calls: the compiler has four callee-saved registers
    thread = tid()
    start = starts.lookup(thread)
    if start:
        ev = events.reserve(OpenEvent)
        if ev:
            ev.ret = s32(ret)
            ev.tid = thread
            ev.flags = start.flags
            ev.path = probe_read_user_str(PATH_SIZE, start.fname_addr)
            ev.pid = pid()
            ev.uid = uid()
            ev.ts_ns = ktime_ns()
            ev.comm = comm()
            events.submit(ev)
        starts.delete(thread)
    return 0


@bpf.tracepoint("syscalls/sys_enter_open")
def opensnoop_open(ctx):
    return _remember(ctx.filename, ctx.flags)


@bpf.tracepoint("syscalls/sys_enter_openat")
def opensnoop_openat(ctx):
    return _remember(ctx.filename, ctx.flags)


@bpf.tracepoint("syscalls/sys_enter_openat2")
def opensnoop_openat2(ctx):
    # struct open_how starts with the u64 flags
    return _remember(ctx.filename, probe_read_user(u64, ctx.how))


@bpf.tracepoint("syscalls/sys_exit_open")
def opensnoop_open_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_openat")
def opensnoop_openat_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_openat2")
def opensnoop_openat2_ret(ctx):
    return _report(ctx.ret)


PROGRAMS = (opensnoop_open, opensnoop_openat, opensnoop_openat2, opensnoop_open_ret,
            opensnoop_openat_ret, opensnoop_openat2_ret)

EXAMPLES = """\
    ./opensnoop           # trace all open() syscalls
    ./opensnoop -T        # include timestamps
    ./opensnoop -U        # include UID
    ./opensnoop -x        # only show failed opens
    ./opensnoop -p 181    # only trace PID 181
    ./opensnoop -t 123    # only trace TID 123
    ./opensnoop -u 1000   # only trace UID 1000
    ./opensnoop -d 10     # trace for 10 seconds only
    ./opensnoop -n main   # only print process names containing "main"
    ./opensnoop -e        # show extended fields
    ./opensnoop -f O_WRONLY -f O_RDWR  # only print calls for writing
    ./opensnoop --json    # one JSON object per open
"""


def _open_flag(text: str) -> int:
    name = text.upper()
    value = getattr(os, name, None) if name.startswith("O_") else None
    if not isinstance(value, int) or value == 0:
        raise argparse.ArgumentTypeError(
            f"unknown open flag {text!r} (e.g. O_WRONLY, O_RDWR, O_CREAT; O_RDONLY is 0 "
            "and cannot be filtered on)")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """BCC's opensnoop options (plus ``--json``); exits 2 with usage on bad input."""
    p = common.make_parser("opensnoop", "Trace open() syscalls", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-U", "--print-uid", action="store_true", help="include UID on output")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed opens")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-t", "--tid", type=common.positive_int, help="trace this TID only")
    p.add_argument("-u", "--uid", type=int, help="trace this UID only")
    p.add_argument("-d", "--duration", type=common.positive_int,
                   help="total duration of trace in seconds")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    p.add_argument("-e", "--extended_fields", action="store_true", help="show extended fields")
    p.add_argument("-f", "--flag_filter", action="append", type=_open_flag, metavar="FLAG_FILTER",
                   help="filter on flags argument (e.g., O_WRONLY)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled BPF half with the in-kernel filters set."""
    flags = 0
    for flag in opts.flag_filter or ():
        flags |= flag
    return bpf.compile(*PROGRAMS).with_constants({
        pid_filter: opts.pid or 0,
        tid_filter: opts.tid or 0,
        uid_filter: ANY_UID if opts.uid is None else opts.uid,
        flags_filter: flags,
    })


def header(opts: argparse.Namespace) -> str:
    cols = f"{'TIME(s)':<14}" if opts.timestamp else ""
    if opts.print_uid:
        cols += f"{'UID':<6}"
    cols += f"{'TID' if opts.tid else 'PID':<6} {'COMM':<16} {'FD':>4} {'ERR':>3} "
    if opts.extended_fields:
        cols += f"{'FLAGS':<9}"
    return cols + "PATH"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, ``-d`` seconds, or a signal."""
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()

    # the options, read once: show() runs for every open on the machine
    as_json, name_part, failed_only = opts.json, opts.name, opts.failed
    timestamp, print_uid, by_tid, extended = (opts.timestamp, opts.print_uid, opts.tid,
                                              opts.extended_fields)
    decode = common.decode_str

    def show(ev: Any) -> None:
        ret = ev.ret
        if failed_only and ret >= 0:
            return
        name = decode(ev.comm)
        if name_part and name_part not in name:
            return
        fd, err = (-1, -ret) if ret < 0 else (ret, 0)
        path = decode(ev.path)
        if as_json:
            writer.event({"time_s": round(clock.seconds(ev.ts_ns), 9), "uid": ev.uid,
                          "pid": ev.pid, "tid": ev.tid, "comm": name, "fd": fd, "err": err,
                          "flags": ev.flags, "path": path}, "")
            return
        text = f"{clock.seconds(ev.ts_ns):<14.9f}" if timestamp else ""
        if print_uid:
            text += f"{ev.uid:<6d}"
        text += f"{ev.tid if by_tid else ev.pid:<6d} {name:<16} {fd:>4d} {err:>3d} "
        if extended:
            text += f"{ev.flags:08o} "
        writer.line(text + path)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, OpenEvent, show, writer=writer) as reader:
        writer.header(header(opts))
        common.poll_until_stopped([reader], stop, duration_s=opts.duration)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("opensnoop", parse_args, run, argv)
