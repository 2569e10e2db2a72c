"""slabratetop: kernel slab allocations by cache, top-like, like BCC's slabratetop.

BCC hooks ``kmem_cache_alloc`` with a kprobe; here the ``tp_btf`` form of the
``kmem:kmem_cache_alloc`` tracepoint hands the ``struct kmem_cache`` itself, whose name
and object size are read and counted::

    07:01:35 loadavg: 0.38 0.21 0.12 1/152 4545

    CACHE                            ALLOCS      BYTES
    kmalloc-4096                       3554   14557184
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import BPF_NOEXIST, Hash, bpf, kernel_struct, probe_read_kernel_str, string, struct, u64
from . import common
from .histkit import run_interval_reports

__all__ = ["parse_args", "build", "run", "main"]

NAME_SIZE = 32


class CacheKey(struct):
    name: Annotated[bytes, string(NAME_SIZE)]


class CacheCounts(struct):
    count: u64
    nbytes: u64


caches = Hash(CacheKey, CacheCounts, max_entries=2048)


@bpf.tp_btf("kmem_cache_alloc")
def slabratetop_alloc(ctx):
    # kmem_cache_alloc(unsigned long call_site, const void *ptr, struct kmem_cache *s,
    #                  gfp_t gfp_flags, int node)
    cache = kernel_struct("kmem_cache", ctx.arg2)
    k = CacheKey()
    k.name = probe_read_kernel_str(NAME_SIZE, cache.name)
    seen = caches.lookup(k)
    if not seen:
        caches.update(k, CacheCounts(), BPF_NOEXIST)
        seen = caches.lookup(k)
        if not seen:
            return 0
    seen[0].count += 1
    seen[0].nbytes += cache.size
    return 0


EXAMPLES = """\
    ./slabratetop            # kmem_cache_alloc() top, 1 second refresh
    ./slabratetop -C         # don't clear the screen
    ./slabratetop 5          # 5 second summaries
    ./slabratetop 5 10       # 5 second summaries, 10 times only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("slabratetop", "Kernel SLAB/SLUB memory cache allocation rate top",
                           EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-r", "--maxrows", type=common.positive_int, default=20,
                   help="maximum rows to print, default 20")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds")
    p.add_argument("count", nargs="?", type=common.positive_int, help="number of outputs")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(slabratetop_alloc)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    opts.timestamp = False

    def report(coll: Any) -> None:
        view = coll.maps[caches]
        rows = sorted(view.items(), key=lambda kv: kv[1].nbytes, reverse=True)
        view.clear()
        if not opts.json:
            if not opts.noclear:
                out.write("\033[2J\033[H")
            with open("/proc/loadavg") as f:
                out.write(f"{common.wall_clock_hms()} loadavg: {f.read().strip()}\n\n")
            out.write(f"{'CACHE':<32} {'ALLOCS':>6} {'BYTES':>10}\n")
        for k, v in rows[:opts.maxrows]:
            name = common.decode_str(k.name)
            writer.event({"ts": common.wall_clock_hms(), "cache": name, "allocs": v.count,
                          "bytes": v.nbytes}, f"{name:<32} {v.count:6d} {v.nbytes:10d}")
        writer.flush()

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Tracing... Output every %d secs. Hit Ctrl-C to end"
                                % opts.interval, report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("slabratetop", parse_args, run, argv)
