"""filetop: file reads and writes by process and file, top-like, like BCC's filetop.

BCC hooks ``vfs_read``/``vfs_write`` with kprobes; here ``raw_syscalls`` enter/exit keep
the read and write system calls (read, write, pread64, pwrite64, readv, writev, preadv,
pwritev): at entry the fd's file gives its name, inode and type (regular, socket,
other), at exit the byte count is added to a (thread, file) counter::

    13:41:01 loadavg: 0.38 0.21 0.12 1/152 4545

    TID     COMM             READS  WRITES R_Kb    W_Kb    T FILE
    28792   cksum            11     0      352     0       R words
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
from .histkit import run_interval_reports

__all__ = ["parse_args", "build", "run", "main"]

NAME_SIZE = 32
S_IFMT, S_IFREG, S_IFSOCK = 0o170000, 0o100000, 0o140000
READS = (0, 17, 19, 295)        # read, pread64, readv, preadv
WRITES = (1, 18, 20, 296)       # write, pwrite64, writev, pwritev


class FileKey(struct):
    inode: u64
    pid: u32
    tid: u32
    kind: u32       # 'R' regular, 'S' socket, 'O' other
    pad: u32
    comm: bytes16
    name: Annotated[bytes, string(NAME_SIZE)]


class Pending(struct):
    writing: u64
    key: FileKey


class FileBytes(struct):
    reads: u64
    writes: u64
    rbytes: u64
    wbytes: u64


pending = Hash(u32, Pending, max_entries=10240)
counts = Hash(FileKey, FileBytes, max_entries=10240)
only_pid = Const(u32, 0)
regular_only = Const(u32, 1)


@bpf.tracepoint("raw_syscalls/sys_enter")
def filetop_enter(ctx):
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
    inode = kernel_struct("inode", f.f_inode)
    mode: u32 = inode.i_mode
    p = Pending()
    p.writing = writing
    p.key.kind = 79         # 'O'
    if (mode & S_IFMT) == S_IFREG:
        p.key.kind = 82     # 'R'
    elif (mode & S_IFMT) == S_IFSOCK:
        p.key.kind = 83     # 'S'
    if regular_only != 0 and p.key.kind != 82:
        return 0
    p.key.inode = inode.i_ino
    p.key.pid = tg >> 32
    p.key.tid = tg & 0xFFFFFFFF
    p.key.comm = comm()
    p.key.name = probe_read_kernel_str(NAME_SIZE, f.f_path.dentry.d_name.name)
    pending[p.key.tid] = p
    return 0


@bpf.tracepoint("raw_syscalls/sys_exit")
def filetop_exit(ctx):
    tid: u32 = pid_tgid() & 0xFFFFFFFF
    p = pending.lookup(tid)
    if not p:
        return 0
    ret: s64 = ctx.ret
    if ret >= 0:
        seen = counts.lookup(p[0].key)
        if not seen:
            counts.update(p[0].key, FileBytes(), BPF_NOEXIST)
            seen = counts.lookup(p[0].key)
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
    ./filetop            # file I/O top, 1 second refresh
    ./filetop -C         # don't clear the screen
    ./filetop -p 181     # PID 181 only
    ./filetop 5          # 5 second summaries
    ./filetop 5 10       # 5 second summaries, 10 times only
"""

SORTS = {"all": lambda v: v.rbytes + v.wbytes, "reads": lambda v: v.reads,
         "writes": lambda v: v.writes, "rbytes": lambda v: v.rbytes,
         "wbytes": lambda v: v.wbytes}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("filetop", "File reads and writes by process", EXAMPLES)
    p.add_argument("-a", "--all-files", action="store_true",
                   help="include non-regular file types (sockets, FIFOs, etc)")
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


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(filetop_enter, filetop_exit).with_constants(
        {only_pid: opts.pid or 0, regular_only: 0 if opts.all_files else 1})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    opts.timestamp = False

    def report(coll: Any) -> None:
        view = coll.maps[counts]
        rows = sorted(view.items(), key=lambda kv: SORTS[opts.sort](kv[1]), reverse=True)
        view.clear()
        if not opts.json:
            if not opts.noclear:
                out.write("\033[2J\033[H")
            with open("/proc/loadavg") as f:
                out.write(f"{common.wall_clock_hms()} loadavg: {f.read().strip()}\n\n")
            out.write(f"{'TID':<7} {'COMM':<16} {'READS':<6} {'WRITES':<6} {'R_Kb':<7} "
                      f"{'W_Kb':<7} T FILE\n")
        for k, v in rows[:opts.maxrows]:
            name, file = common.decode_str(k.comm), common.decode_str(k.name)
            kind = chr(k.kind)
            writer.event({"tid": k.tid, "pid": k.pid, "comm": name, "reads": v.reads,
                          "writes": v.writes, "rbytes": v.rbytes, "wbytes": v.wbytes,
                          "type": kind, "file": file},
                         f"{k.tid:<7d} {name:<16} {v.reads:<6d} {v.writes:<6d} "
                         f"{v.rbytes // 1024:<7d} {v.wbytes // 1024:<7d} {kind} {file}")
        writer.flush()

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Tracing... Output every %d secs. Hit Ctrl-C to end"
                                % opts.interval, report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("filetop", parse_args, run, argv)
