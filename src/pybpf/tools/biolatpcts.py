"""biolatpcts: block I/O latency percentiles per operation, every interval, like BCC's
biolatpcts.

``block:block_rq_issue`` (with ``-Q``, ``block_rq_insert``) and ``block:block_rq_complete``
time each request; the latency goes into one of 300 buckets per operation (10 us wide
below 1 ms, 1 ms below 100 ms, 100 ms above), from which the percentiles are read (each
the upper bound of its bucket)::

    12:00:03      1      5     10     16     25     50     75     84     90     95     99    100
    read       39us   39us   39us   49us   49us   59us   69us   79us   89us  119us  199us  1ms
    write         -      -      -      -      -      -      -      -      -      -      -    -
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, Hash, bpf, ktime_ns, struct, u32, u64
from . import common
from .biosnoop import disk_dev
from .blockio import RequestKey

__all__ = ["parse_args", "build", "run", "main", "bucket_of", "bucket_upper_us",
           "percentiles", "format_us"]

OPS = ("read", "write", "discard", "flush")
BUCKETS = 300
DEFAULT_PCTS = "1,5,10,16,25,50,75,84,90,95,99,100"


class LatKey(struct):
    op: u32
    bucket: u32


started = Hash(RequestKey, u64, max_entries=10240)
latencies = Hash(LatKey, u64, max_entries=BUCKETS * 4)
only_dev = Const(u32, 0)


def remember(ctx):  # noqa: ANN001, ANN201 - inlined
    if only_dev != 0 and ctx.dev != only_dev:
        return 0
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    started[rk] = ktime_ns()
    return 0


@bpf.tracepoint("block/block_rq_insert")
def biolatpcts_insert(ctx):
    return remember(ctx)


@bpf.tracepoint("block/block_rq_issue")
def biolatpcts_issue(ctx):
    return remember(ctx)


@bpf.tracepoint("block/block_rq_complete")
def biolatpcts_complete(ctx):
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    start = started.lookup(rk)
    if not start:
        return 0
    us = (ktime_ns() - start[0]) // 1000
    started.delete(rk)
    k = LatKey()
    # rwbs: an optional F (preflush), then R, W, D (discard) or N (a lone flush)
    c: u32 = ctx.rwbs[0]
    if c == 70:         # 'F'
        c = ctx.rwbs[1]
        if c == 78 or c == 0:
            k.op = 3
    if c == 82:         # 'R'
        k.op = 0
    elif c == 87:       # 'W'
        k.op = 1
    elif c == 68:       # 'D'
        k.op = 2
    elif c == 78:       # 'N'
        k.op = 3
    if us < 1000:
        k.bucket = us // 10
    elif us < 100000:
        k.bucket = 100 + us // 1000
    elif us < 10000000:
        k.bucket = 200 + us // 100000
    else:
        k.bucket = BUCKETS - 1
    latencies.increment(k)
    return 0


def bucket_of(us: int) -> int:
    """The bucket the BPF half puts a latency of ``us`` microseconds in."""
    if us < 1000:
        return us // 10
    if us < 100_000:
        return 100 + us // 1000
    if us < 10_000_000:
        return 200 + us // 100_000
    return BUCKETS - 1


def bucket_upper_us(bucket: int) -> int:
    """The largest latency (us) bucket ``bucket`` holds."""
    if bucket < 100:
        return bucket * 10 + 9
    if bucket < 200:
        return (bucket - 100) * 1000 + 999
    return (bucket - 200) * 100_000 + 99_999


def percentiles(counts: list[int], pcts: list[float]) -> list[int | None]:
    """The latency (us, a bucket's upper bound) at each percentile; None when no I/O."""
    total = sum(counts)
    if not total:
        return [None for _ in pcts]
    result: list[int | None] = []
    for pct in pcts:
        want = max(1, -(-total * pct // 100))     # the ceil(total * pct / 100)-th I/O
        seen = 0
        for bucket, n in enumerate(counts):
            seen += n
            if seen >= want:
                result.append(bucket_upper_us(bucket))
                break
    return result


def format_us(us: int | None) -> str:
    """BCC's cell: ``-`` for none, else microseconds or milliseconds."""
    if us is None:
        return "-"
    return f"{us}us" if us < 1000 else f"{us // 1000}ms"


EXAMPLES = """\
    ./biolatpcts                 # block I/O latency percentiles every 3 seconds
    ./biolatpcts -i 1            # every second
    ./biolatpcts -d sdb          # of sdb only
    ./biolatpcts -p 50,90,99     # these percentiles
    ./biolatpcts -Q              # from when the request was queued
"""


def _pcts(text: str) -> list[float]:
    try:
        values = [float(p) for p in text.split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad percentile list {text!r}") from None
    if not values or any(not 0 < v <= 100 for v in values):
        raise argparse.ArgumentTypeError(f"percentiles are in (0, 100]: {text!r}")
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("biolatpcts", "Monitor IO latency distribution of a block device",
                           EXAMPLES)
    p.add_argument("-d", "--dev", help="the block device (sda, nvme0n1...); default all")
    p.add_argument("-i", "--interval", type=common.positive_int, default=3,
                   help="report interval, in seconds (default 3)")
    p.add_argument("-p", "--pcts", type=_pcts, default=_pcts(DEFAULT_PCTS),
                   help=f"percentiles, comma separated (default {DEFAULT_PCTS})")
    p.add_argument("-Q", "--queued", action="store_true",
                   help="count from when the request was queued, not issued")
    p.add_argument("-c", "--count", type=common.positive_int, help="number of reports")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    programs = [biolatpcts_issue, biolatpcts_complete]
    if opts.queued:
        programs.insert(0, biolatpcts_insert)
    return bpf.compile(*programs).with_constants(
        {only_dev: disk_dev(opts.dev) if opts.dev else 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    left = [opts.count]
    labels = [f"{p:g}" for p in opts.pcts]
    with common.attached(build(opts)) as coll:
        view = coll.maps[latencies]

        def tick() -> bool:
            counts = [[0] * BUCKETS for _ in OPS]
            for k, n in list(view.items()):
                if k.op < len(OPS) and k.bucket < BUCKETS:
                    counts[k.op][k.bucket] += n
            view.clear()
            if opts.json:
                record: dict[str, Any] = {"ts": common.wall_clock_hms()}
                for op, c in zip(OPS, counts, strict=True):
                    record[op] = dict(zip(labels, percentiles(c, opts.pcts), strict=True))
                import json  # noqa: PLC0415 - only --json needs it
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
            else:
                out.write(f"{common.wall_clock_hms():<8}" + "".join(f"{x:>7}" for x in labels)
                          + "\n")
                for op, c in zip(OPS, counts, strict=True):
                    cells = [format_us(v) for v in percentiles(c, opts.pcts)]
                    out.write(f"{op:<8}" + "".join(f"{x:>7}" for x in cells) + "\n")
            out.flush()
            if left[0] is None:
                return False
            left[0] -= 1
            return left[0] <= 0

        if not opts.json:
            out.write(f"Tracing block I/O latency percentiles, every {opts.interval} s... "
                      "Hit Ctrl-C to end.\n")
            out.flush()
        common.poll_until_stopped([], stop, interval_s=opts.interval, on_interval=tick)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("biolatpcts", parse_args, run, argv)
