"""biotop: block device I/O by process, top-like, like BCC's biotop.

``block:block_rq_issue`` remembers who issued each request and when;
``block:block_rq_complete`` adds it to a (pid, comm, disk, direction) counter of I/Os,
bytes and time. Each interval prints the busiest first::

    08:04:11 loadavg: 1.48 0.87 0.45 1/287 14547

    PID     COMM             D MAJ MIN DISK       I/O  Kbytes  AVGms
    14501   cksum            R 202 1   xvda1      361   28832   3.39
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import BPF_NOEXIST, Const, Hash, bpf, bytes16, comm, ktime_ns, pid, struct, u32, u64
from . import common
from .blockio import RequestKey, dev_numbers, disk_name, is_write, rwbs_word
from .histkit import run_interval_reports

__all__ = ["parse_args", "build", "run", "main"]


class Issued(struct):
    ts: u64
    pid: u32
    pad: u32
    comm: bytes16


class TopKey(struct):
    rwbs: u64
    pid: u32
    dev: u32
    name: bytes16


class TopValue(struct):
    us: u64
    bytes: u64
    io: u64


issued = Hash(RequestKey, Issued, max_entries=10240)
counts = Hash(TopKey, TopValue, max_entries=10240)
only_pid = Const(u32, 0)


@bpf.tracepoint("block/block_rq_issue")
def biotop_issue(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    st = Issued()
    st.ts = ktime_ns()
    st.pid = pid()
    st.comm = comm()
    issued[rk] = st
    return 0


@bpf.tracepoint("block/block_rq_complete")
def biotop_complete(ctx):
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    st = issued.lookup(rk)
    if not st:
        return 0
    k = TopKey()
    k.rwbs = rwbs_word(ctx)
    k.pid = st[0].pid
    k.dev = ctx.dev
    k.name = st[0].comm
    delta = (ktime_ns() - st[0].ts) // 1000
    issued.delete(rk)
    seen = counts.lookup(k)
    if not seen:
        counts.update(k, TopValue(), BPF_NOEXIST)
        seen = counts.lookup(k)
        if not seen:
            return 0
    seen[0].us += delta
    seen[0].bytes += u64(ctx.nr_sector) * 512
    seen[0].io += 1
    return 0


EXAMPLES = """\
    ./biotop            # block device I/O top, 1 second refresh
    ./biotop -C         # don't clear the screen
    ./biotop -p 181     # only trace PID 181
    ./biotop 5          # 5 second summaries
    ./biotop 5 10       # 5 second summaries, 10 times only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("biotop", "Block device (disk) I/O by process", EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-r", "--maxrows", type=common.positive_int, default=20,
                   help="maximum rows to print, default 20")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds")
    p.add_argument("count", nargs="?", type=common.positive_int, default=None,
                   help="number of outputs")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(biotop_issue, biotop_complete).with_constants({only_pid: opts.pid or 0})


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return f.read().strip()
    except OSError:
        return ""


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    opts.timestamp = False

    def report(coll: Any) -> None:
        view = coll.maps[counts]
        rows: dict[tuple[int, str, int, str], list[int]] = {}
        for k, v in list(view.items()):
            kind = "W" if is_write(k.rwbs) else "R"
            row = rows.setdefault((k.pid, common.decode_str(k.name), k.dev, kind), [0, 0, 0])
            row[0] += v.io
            row[1] += v.bytes
            row[2] += v.us
        view.clear()
        if not opts.json:
            if not opts.noclear:
                out.write("\033[2J\033[H")
            out.write(f"{common.wall_clock_hms()} loadavg: {_loadavg()}\n\n")
            out.write(f"{'PID':<7} {'COMM':<16} {'D':1} {'MAJ':<3} {'MIN':<3} {'DISK':<8} "
                      f"{'I/O':>5} {'Kbytes':>7} {'AVGms':>6}\n")
        ordered = sorted(rows.items(), key=lambda kv: kv[1][1], reverse=True)
        for (task, name, dev, kind), (ios, nbytes, us) in ordered[:opts.maxrows]:
            major, minor = dev_numbers(dev)
            disk = disk_name(dev)
            avg_ms = us / ios / 1000 if ios else 0.0
            writer.event({"ts": common.wall_clock_hms(), "pid": task, "comm": name, "rw": kind,
                          "major": major, "minor": minor, "disk": disk, "io": ios,
                          "kbytes": nbytes // 1024, "avg_ms": round(avg_ms, 3)},
                         f"{task:<7d} {name:<16} {kind:1} {major:<3d} {minor:<3d} {disk:<8} "
                         f"{ios:5d} {nbytes // 1024:7d} {avg_ms:6.2f}")
        writer.flush()

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Tracing... Output every %d secs. Hit Ctrl-C to end"
                                % opts.interval, report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("biotop", parse_args, run, argv)
