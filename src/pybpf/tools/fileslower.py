"""fileslower: trace file reads and writes slower than a threshold, like BCC's
fileslower.

BCC times ``__vfs_read``/``__vfs_write`` with kprobes; here ``raw_syscalls`` enter/exit
time the read and write system calls (read, write, pread64, pwrite64, readv, writev,
preadv, pwritev) on regular files (``-a``: any file), the name from the fd's dentry::

    Tracing sync read/writes slower than 10 ms
    TIME(s)  COMM           TID    D BYTES   LAT(ms) FILENAME
    0.000    randread.pl    6925   R 8192      12.70 data1
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
    kernel_struct,
    ktime_ns,
    pid_tgid,
    probe_read_kernel_str,
    s64,
    string,
    struct,
    u32,
    u64,
)
from . import common
from .fileio import NOT_READ_OR_WRITE, file_of_fd, read_or_write

__all__ = ["parse_args", "build", "run", "main"]

NAME_SIZE = 32
S_IFMT, S_IFREG = 0o170000, 0o100000


class Pending(struct):
    ts: u64
    writing: u64
    name: Annotated[bytes, string(NAME_SIZE)]


class SlowEvent(struct):
    ts_ns: u64
    delta_ns: u64
    nbytes: s64
    writing: u32
    tid: u32
    comm: bytes16
    name: Annotated[bytes, string(NAME_SIZE)]


pending = Hash(u32, Pending, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)
regular_only = Const(u32, 1)
min_ns = Const(u64, 10_000_000)


@bpf.tracepoint("raw_syscalls/sys_enter")
def fileslower_enter(ctx):
    writing: u64 = read_or_write(ctx.id)
    if writing == NOT_READ_OR_WRITE:
        return 0
    tg = pid_tgid()
    if only_pid != 0 and (tg >> 32) != only_pid:
        return 0
    file_addr = file_of_fd(ctx.args[0])
    if file_addr == 0:
        return 0
    f = kernel_struct("file", file_addr)
    mode: u32 = kernel_struct("inode", f.f_inode).i_mode
    if regular_only != 0 and (mode & S_IFMT) != S_IFREG:
        return 0
    p = Pending()
    p.ts = ktime_ns()
    p.writing = writing
    p.name = probe_read_kernel_str(NAME_SIZE, f.f_path.dentry.d_name.name)
    pending[u32(tg & 0xFFFFFFFF)] = p
    return 0


@bpf.tracepoint("raw_syscalls/sys_exit")
def fileslower_exit(ctx):
    tid: u32 = pid_tgid() & 0xFFFFFFFF
    p = pending.lookup(tid)
    if not p:
        return 0
    now = ktime_ns()
    delta = now - p[0].ts
    if delta >= min_ns:
        ev = events.reserve(SlowEvent)
        if ev:
            ev.ts_ns = now
            ev.delta_ns = delta
            ev.nbytes = ctx.ret
            ev.writing = u32(p[0].writing)
            ev.tid = tid
            ev.comm = comm()
            ev.name = p[0].name
            events.submit(ev)
    pending.delete(tid)
    return 0


EXAMPLES = """\
    ./fileslower             # trace sync file I/O slower than 10 ms (default)
    ./fileslower 1           # trace sync file I/O slower than 1 ms
    ./fileslower -p 185      # trace PID 185 only
    ./fileslower -a 5        # any file type (pipes, sockets...), slower than 5 ms
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("fileslower", "Trace slow synchronous file reads and writes",
                           EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-a", "--all-files", action="store_true",
                   help="include non-regular file types (sockets, FIFOs, etc)")
    p.add_argument("min_ms", nargs="?", type=common.positive_int, default=10,
                   help="minimum I/O duration to trace, in ms (default 10)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(fileslower_enter, fileslower_exit).with_constants({
        only_pid: opts.pid or 0, regular_only: 0 if opts.all_files else 1,
        min_ns: opts.min_ms * 1_000_000})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()

    def show(ev: Any) -> None:
        name, file = common.decode_str(ev.comm), common.decode_str(ev.name)
        kind = "W" if ev.writing else "R"
        ms = ev.delta_ns / 1e6
        writer.event({"comm": name, "tid": ev.tid, "dir": kind, "bytes": ev.nbytes,
                      "lat_ms": ms, "file": file},
                     f"{clock.seconds(ev.ts_ns):<8.3f} {name[:14]:<14} {ev.tid:<6d} {kind} "
                     f"{ev.nbytes:<7d} {ms:7.2f} {file}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, SlowEvent, show, writer=writer) as reader:
        if not opts.json:
            out.write(f"Tracing sync read/writes slower than {opts.min_ms} ms\n")
        writer.header(f"{'TIME(s)':<8} {'COMM':<14} {'TID':<6} D {'BYTES':<7} {'LAT(ms)':>7} "
                      "FILENAME")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("fileslower", parse_args, run, argv)
