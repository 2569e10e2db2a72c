"""syncsnoop: trace sync() and its relatives, like BCC's syncsnoop.

One program per ``syscalls:sys_enter_*`` tracepoint of sync, syncfs, fsync, fdatasync,
sync_file_range and msync sends the monotonic time and which call it was::

    TIME(s)            CALL
    16458148.611952    sync()
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import RingBuf, bpf, bytes16, comm, ktime_ns, pid, struct, u32, u64
from . import common

CALLS = ("sync", "syncfs", "fsync", "fdatasync", "sync_file_range", "msync")


class SyncEvent(struct):
    ts_ns: u64
    call: u32
    pid: u32
    comm: bytes16


events = RingBuf(max_entries=1 << 16)


def _send(call):
    ev = events.reserve(SyncEvent)
    if ev:
        ev.call = call
        ev.ts_ns = ktime_ns()
        ev.pid = pid()
        ev.comm = comm()
        events.submit(ev)
    return 0


@bpf.tracepoint("syscalls/sys_enter_sync")
def syncsnoop_sync(ctx):
    return _send(0)


@bpf.tracepoint("syscalls/sys_enter_syncfs")
def syncsnoop_syncfs(ctx):
    return _send(1)


@bpf.tracepoint("syscalls/sys_enter_fsync")
def syncsnoop_fsync(ctx):
    return _send(2)


@bpf.tracepoint("syscalls/sys_enter_fdatasync")
def syncsnoop_fdatasync(ctx):
    return _send(3)


@bpf.tracepoint("syscalls/sys_enter_sync_file_range")
def syncsnoop_sync_file_range(ctx):
    return _send(4)


@bpf.tracepoint("syscalls/sys_enter_msync")
def syncsnoop_msync(ctx):
    return _send(5)


PROGRAMS = (syncsnoop_sync, syncsnoop_syncfs, syncsnoop_fsync, syncsnoop_fdatasync,
            syncsnoop_sync_file_range, syncsnoop_msync)

EXAMPLES = """\
    ./syncsnoop           # trace sync() and friends
    ./syncsnoop --json    # one JSON object per call
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("syncsnoop", "Trace sync() and related syscalls", EXAMPLES)
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(*PROGRAMS)


HEADER = f"{'TIME(s)':<18} CALL"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        seconds = ev.ts_ns / 1e9
        call = CALLS[ev.call] if ev.call < len(CALLS) else f"call{ev.call}"
        writer.event({"time_s": seconds, "call": call, "pid": ev.pid,
                      "comm": common.decode_str(ev.comm)}, f"{seconds:<18.6f} {call}()")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, SyncEvent, show, writer=writer) as reader:
        writer.header(HEADER)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("syncsnoop", parse_args, run, argv)
