"""cachestat: page cache hits, misses and dirtied pages per interval, like BCC's cachestat.

kprobes count ``folio_mark_accessed`` (accesses), ``filemap_add_folio`` (misses: pages
added), ``folio_account_dirtied`` and ``mark_buffer_dirty`` (dirties); the kernel's
tracepoints see additions and dirtying but not accesses, so without kprobes there is no
hit ratio: the tool says so at start and exits::

        HITS   MISSES  DIRTIES HITRATIO   BUFFERS_MB  CACHED_MB
        1132        0        4  100.00%          277       4367
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Array, bpf, u64
from . import common
from .histkit import run_interval_reports
from .kprobes import require_kprobes

__all__ = ["parse_args", "build", "run", "main", "KPROBES", "ratios"]

KPROBES = ("folio_mark_accessed", "filemap_add_folio", "folio_account_dirtied",
           "mark_buffer_dirty")
ACCESSED, ADDED, DIRTIED, BUFFER_DIRTIED = 0, 1, 2, 3

counters = Array(u64, max_entries=4)


@bpf.kprobe("folio_mark_accessed")
def cachestat_accessed(ctx):
    counters.increment(ACCESSED)
    return 0


@bpf.kprobe("filemap_add_folio")
def cachestat_added(ctx):
    counters.increment(ADDED)
    return 0


@bpf.kprobe("folio_account_dirtied")
def cachestat_dirtied(ctx):
    counters.increment(DIRTIED)
    return 0


@bpf.kprobe("mark_buffer_dirty")
def cachestat_buffer_dirty(ctx):
    counters.increment(BUFFER_DIRTIED)
    return 0


def ratios(accessed: int, added: int, dirtied: int, buffer_dirtied: int
           ) -> tuple[int, int, int, float]:
    """(hits, misses, dirties, hit ratio) as BCC computes them from the four counts."""
    total = max(accessed - buffer_dirtied, 0)
    misses = max(added - dirtied, 0)
    hits = total - misses
    if hits < 0:
        misses, hits = total, 0
    ratio = hits / total if total else 0.0
    return hits, misses, buffer_dirtied, ratio


def _meminfo_mb() -> tuple[int, int]:
    values = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0])
    return values.get("Buffers", 0) // 1024, values.get("Cached", 0) // 1024


EXAMPLES = """\
    ./cachestat           # every second, until Ctrl-C
    ./cachestat -T 5 3    # every 5 seconds with timestamps, 3 times
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("cachestat", "Count cache kernel function calls", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds")
    p.add_argument("count", nargs="?", type=common.positive_int, help="number of outputs")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(cachestat_accessed, cachestat_added, cachestat_dirtied,
                       cachestat_buffer_dirty)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    require_kprobes(KPROBES)
    writer = common.EventWriter(out, as_json=opts.json)
    first = [True]

    def report(coll: Any) -> None:
        view = coll.maps[counters]
        counts = [view[i] for i in range(4)]
        for i in range(4):
            view[i] = 0
        hits, misses, dirties, ratio = ratios(*counts)
        buffers, cached = _meminfo_mb()
        if first[0]:
            writer.header(f"{'HITS':>8} {'MISSES':>8} {'DIRTIES':>8} {'HITRATIO':>8} "
                          f"{'BUFFERS_MB':>12} {'CACHED_MB':>10}")
            first[0] = False
        writer.event({"hits": hits, "misses": misses, "dirties": dirties,
                      "hit_ratio": ratio, "buffers_mb": buffers, "cached_mb": cached},
                     f"{hits:8d} {misses:8d} {dirties:8d} {ratio * 100:7.2f}% "
                     f"{buffers:12d} {cached:10d}")

    return run_interval_reports(opts, out, stop, compiled=build(opts), banner="",
                                report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("cachestat", parse_args, run, argv)
