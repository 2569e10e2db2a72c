"""vfsstat: count file system calls per second, like BCC's vfsstat.

BCC counts the VFS functions (vfs_read, vfs_write, vfs_fsync, vfs_open, vfs_create) with
kprobes; here ``raw_syscalls:sys_enter`` counts the system calls that reach them: the
read and write families, fsync/fdatasync, the open family, and (CREATE) creat() and
opens with O_CREAT::

    TIME         READ/s  WRITE/s  FSYNC/s   OPEN/s CREATE/s
    18:35:32:       231       12        4       98        0
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Array, Const, Hash, bpf, pid, u32, u64
from . import common

__all__ = ["parse_args", "build", "run", "main", "SYSCALL_CLASSES"]

READ, WRITE, FSYNC, OPEN, CREATE = 1, 2, 3, 4, 5
NAMES = {READ: "READ", WRITE: "WRITE", FSYNC: "FSYNC", OPEN: "OPEN", CREATE: "CREATE"}
O_CREAT = 0o100
# x86_64 syscall number -> (class, index of the flags argument + 1, 0: none)
SYSCALL_CLASSES: dict[int, tuple[int, int]] = {
    0: (READ, 0), 17: (READ, 0), 19: (READ, 0), 295: (READ, 0), 327: (READ, 0),
    1: (WRITE, 0), 18: (WRITE, 0), 20: (WRITE, 0), 296: (WRITE, 0), 328: (WRITE, 0),
    74: (FSYNC, 0), 75: (FSYNC, 0),
    2: (OPEN, 2), 257: (OPEN, 3), 85: (CREATE, 0),
}

classes = Hash(u32, u32, max_entries=64)      # syscall -> class | flags arg << 8
stats = Array(u64, max_entries=8)
only_pid = Const(u32, 0)


@bpf.tracepoint("raw_syscalls/sys_enter")
def vfsstat_enter(ctx):
    nr: u32 = ctx.id
    kind = classes.lookup(nr)
    if not kind:
        return 0
    if only_pid != 0 and pid() != only_pid:
        return 0
    cls: u32 = kind[0] & 0xFF
    flags_arg: u32 = kind[0] >> 8
    stats.increment(cls)
    created = 0
    if flags_arg == 2 and (ctx.args[1] & O_CREAT) != 0:
        created = 1
    if flags_arg == 3 and (ctx.args[2] & O_CREAT) != 0:
        created = 1
    if created != 0:
        stats.increment(CREATE)
    return 0


EXAMPLES = """\
    ./vfsstat             # every second, until Ctrl-C
    ./vfsstat 5 10        # every 5 seconds, 10 times
    ./vfsstat -p 185      # PID 185 only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("vfsstat", "Count some VFS calls per second", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds (default 1)")
    p.add_argument("count", nargs="?", type=common.positive_int, help="number of outputs")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(vfsstat_enter).with_constants({only_pid: opts.pid or 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    left = [opts.count]
    with build(opts).load() as coll:
        view = coll.maps[classes]
        for nr, (cls, flags_arg) in SYSCALL_CLASSES.items():
            view[nr] = cls | flags_arg << 8
        coll.attach()
        counts = coll.maps[stats]

        def tick() -> bool:
            values = {}
            for cls, name in NAMES.items():
                values[name] = counts[cls] // opts.interval
                counts[cls] = 0
            ts = common.wall_clock_hms()
            writer.event({"ts": ts, **{f"{k.lower()}_per_s": v for k, v in values.items()}},
                         f"{ts:<8}: " + "".join(f" {v:8d}" for v in values.values()))
            if left[0] is None:
                return False
            left[0] -= 1
            return left[0] <= 0

        writer.header(f"{'TIME':<8}  " + "".join(f" {n + '/s':>8}" for n in NAMES.values()))
        common.poll_until_stopped([], stop, interval_s=opts.interval, on_interval=tick)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("vfsstat", parse_args, run, argv)
