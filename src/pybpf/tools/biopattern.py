"""biopattern: random versus sequential block I/O per disk, like BCC's biopattern.

``block:block_rq_complete`` compares each request's start sector with where the disk's
previous request ended::

    TIME     DISK     %RND  %SEQ    COUNT     KBYTES
    22:03:51 loop0       0   100       20         80
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, Hash, bpf, struct, u32, u64
from . import common
from .biosnoop import disk_dev
from .blockio import disk_name
from .histkit import add_interval_args, run_interval_reports

__all__ = ["parse_args", "build", "run", "main"]


class Pattern(struct):
    last_sector: u64
    bytes: u64
    sequential: u32
    random: u32


patterns = Hash(u32, Pattern, max_entries=64)
only_dev = Const(u32, 0)


@bpf.tracepoint("block/block_rq_complete")
def biopattern_complete(ctx):
    dev: u32 = ctx.dev
    if only_dev != 0 and dev != only_dev:
        return 0
    seen = patterns.lookup(dev)
    if not seen:
        fresh = Pattern()
        patterns[dev] = fresh
        seen = patterns.lookup(dev)
        if not seen:
            return 0
    if seen[0].last_sector != 0:
        if seen[0].last_sector == ctx.sector:
            seen[0].sequential += 1
        else:
            seen[0].random += 1
    seen[0].bytes += u64(ctx.nr_sector) * 512
    seen[0].last_sector = ctx.sector + ctx.nr_sector
    return 0


EXAMPLES = """\
    ./biopattern              # show block device I/O pattern.
    ./biopattern 1 10         # print 1 second summaries, 10 times
    ./biopattern -T 1         # 1s summaries with timestamps
    ./biopattern -d sdc       # trace sdc only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("biopattern", "Show block device I/O pattern.", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-d", "--disk", help="trace this disk only")
    add_interval_args(p)
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(biopattern_complete).with_constants(
        {only_dev: disk_dev(opts.disk) if opts.disk else 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    # BCC prints its column header once and the time on each row (-T or not)
    opts.timestamp = False
    first = [True]

    def report(coll: Any) -> None:
        view = coll.maps[patterns]
        rows = sorted(view.items(), key=lambda kv: kv[0])
        view.clear()
        if first[0]:
            writer.header(f"{'TIME':<8} {'DISK':<7} {'%RND':>5} {'%SEQ':>5} {'COUNT':>8} "
                          f"{'KBYTES':>10}")
            first[0] = False
        for dev, p in rows:
            total = p.sequential + p.random
            if not total:
                continue
            rnd = p.random * 100 // total
            disk = disk_name(dev)
            writer.event({"ts": common.wall_clock_hms(), "disk": disk, "random_pct": rnd,
                          "seq_pct": 100 - rnd, "count": total, "kbytes": p.bytes // 1024},
                         f"{common.wall_clock_hms():<8} {disk:<7} {rnd:5d} {100 - rnd:5d} "
                         f"{total:8d} {p.bytes // 1024:10d}")

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Tracing block device I/O requested seeks... "
                                "Hit Ctrl-C to end.", report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("biopattern", parse_args, run, argv)
