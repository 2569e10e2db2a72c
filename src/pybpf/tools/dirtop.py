"""dirtop: file reads and writes by directory, top-like, like BCC's dirtop.

BCC hooks ``vfs_read``/``vfs_write`` with kprobes; here ``raw_syscalls`` enter/exit keep
the read and write system calls: at entry the fd's dentry is walked up (at most
8 levels) to the first directory given with ``-d``, whose inode numbers the BPF
half holds; at exit the bytes are added to that directory::

    14:28:12 loadavg: 0.27 0.08 0.02 1/136 7062

    READS  WRITES R_Kb     W_Kb     PATH
    0      79     0        3160     /hdfs/uuid/ed31ab81-b4e8-4cc4-a2cc-2d7f6e9bd84e
"""

from __future__ import annotations

import argparse
import glob
import os
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..errors import InvalidInputError
from ..lang import (
    BPF_NOEXIST,
    Const,
    Hash,
    bpf,
    kernel_struct,
    pid_tgid,
    s64,
    struct,
    u32,
    u64,
)
from . import common
from .fileio import NOT_READ_OR_WRITE, file_of_fd, read_or_write
from .histkit import run_interval_reports

__all__ = ["parse_args", "build", "run", "main"]

LEVELS = 8


class Pending(struct):
    writing: u64
    directory: u64


class DirBytes(struct):
    reads: u64
    writes: u64
    rbytes: u64
    wbytes: u64


watched = Hash(u64, u64, max_entries=1024)     # directory inode -> its index + 1
pending = Hash(u32, Pending, max_entries=10240)
counts = Hash(u64, DirBytes, max_entries=1024)
only_pid = Const(u32, 0)


@bpf.tracepoint("raw_syscalls/sys_enter")
def dirtop_enter(ctx):
    writing: u64 = read_or_write(ctx.id)
    if writing == NOT_READ_OR_WRITE:
        return 0
    tg = pid_tgid()
    if only_pid != 0 and (tg >> 32) != only_pid:
        return 0
    file_addr = file_of_fd(ctx.args[0])
    if file_addr == 0:
        return 0
    d = kernel_struct("dentry", kernel_struct("file", file_addr).f_path.dentry)
    found: u64 = 0
    for _ in range(LEVELS):
        if found == 0:
            d = kernel_struct("dentry", d.d_parent)
            hit = watched.lookup(kernel_struct("inode", d.d_inode).i_ino)
            if hit:
                found = hit[0]
    if found == 0:
        return 0
    p = Pending()
    p.writing = writing
    p.directory = found
    pending[u32(tg & 0xFFFFFFFF)] = p
    return 0


@bpf.tracepoint("raw_syscalls/sys_exit")
def dirtop_exit(ctx):
    tid: u32 = pid_tgid() & 0xFFFFFFFF
    p = pending.lookup(tid)
    if not p:
        return 0
    ret: s64 = ctx.ret
    if ret >= 0:
        key: u64 = p[0].directory
        seen = counts.lookup(key)
        if not seen:
            counts.update(key, DirBytes(), BPF_NOEXIST)
            seen = counts.lookup(key)
        if seen:
            if p[0].writing != 0:
                seen[0].writes += 1
                seen[0].wbytes += u64(ret)
            else:
                seen[0].reads += 1
                seen[0].rbytes += u64(ret)
    pending.delete(tid)
    return 0


EXAMPLES = """\
    ./dirtop -d '/hdfs/uuid/*'     # directories under /hdfs/uuid, 1 second refresh
    ./dirtop -d '/a,/b' -C 5 10    # /a and /b, don't clear, 5 second summaries, 10 times
    ./dirtop -d /tmp -p 181        # PID 181 only
"""

SORTS = {"all": lambda v: v.rbytes + v.wbytes, "reads": lambda v: v.reads,
         "writes": lambda v: v.writes, "rbytes": lambda v: v.rbytes,
         "wbytes": lambda v: v.wbytes}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("dirtop", "File reads and writes by directory", EXAMPLES)
    p.add_argument("-d", "--root-directories", required=True, dest="rootdirs",
                   help="select the directories to observe, separated by commas "
                   "(shell wildcards allowed)")
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-r", "--maxrows", type=common.positive_int, default=20,
                   help="maximum rows to print, default 20")
    p.add_argument("-s", "--sort", default="all", choices=sorted(SORTS),
                   help="sort column, default all")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds")
    p.add_argument("count", nargs="?", type=common.positive_int, help="number of outputs")
    return p.parse_args(argv)


def directories(spec: str) -> list[str]:
    """The directories ``-d`` names (wildcards expanded), in order. Raises
    InvalidInputError when none exists."""
    found: list[str] = []
    for pattern in filter(None, (s.strip() for s in spec.split(","))):
        found.extend(p for p in sorted(glob.glob(pattern)) if os.path.isdir(p))
    if not found:
        raise InvalidInputError(f"no directory matches {spec!r}")
    return found


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(dirtop_enter, dirtop_exit).with_constants({only_pid: opts.pid or 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    opts.timestamp = False
    dirs = directories(opts.rootdirs)
    compiled = build(opts)

    def report(coll: Any) -> None:
        view = coll.maps[counts]
        rows = sorted(view.items(), key=lambda kv: SORTS[opts.sort](kv[1]), reverse=True)
        view.clear()
        if not opts.json:
            if not opts.noclear:
                out.write("\033[2J\033[H")
            with open("/proc/loadavg") as f:
                out.write(f"{common.wall_clock_hms()} loadavg: {f.read().strip()}\n\n")
            out.write(f"{'READS':<6} {'WRITES':<6} {'R_Kb':<8} {'W_Kb':<8} PATH\n")
        for index, v in rows[:opts.maxrows]:
            path = dirs[index - 1] if 0 < index <= len(dirs) else str(index)
            writer.event({"reads": v.reads, "writes": v.writes, "rbytes": v.rbytes,
                          "wbytes": v.wbytes, "path": path},
                         f"{v.reads:<6d} {v.writes:<6d} {v.rbytes // 1024:<8d} "
                         f"{v.wbytes // 1024:<8d} {path}")
        writer.flush()

    class Watching:
        """The compiled programs, whose load is followed by filling the watched map."""

        def load(self) -> Any:
            coll = compiled.load()
            view = coll.maps[watched]
            for i, path in enumerate(dirs, start=1):
                view[os.stat(path).st_ino] = i
            return coll

    return run_interval_reports(opts, out, stop, compiled=Watching(),
                                banner="Tracing... Output every %d secs. Hit Ctrl-C to end"
                                % opts.interval, report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("dirtop", parse_args, run, argv)
