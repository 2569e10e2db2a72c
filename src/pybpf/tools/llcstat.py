"""llcstat: last level cache references and misses by process, like BCC's llcstat.

Two ``perf_event`` programs run on every ``-c``-th hardware cache reference and cache
miss of each CPU and add that period to a (pid, tid, cpu, comm) counter. The counters
are the CPU's own PMU: where there is none (most virtual machines: no ``cpu`` PMU in
/sys/bus/event_source/devices) the tool says so at start::

    Running for 10 seconds or hit Ctrl-C to end.
    PID      NAME             CPU     REFERENCE         MISS    HIT%
    0        swapper/0        0        31500000       200000  99.37%
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import (
    BPF_NOEXIST,
    Const,
    Hash,
    bpf,
    bytes16,
    comm,
    pid_tgid,
    smp_processor_id,
    struct,
    u32,
    u64,
)
from . import common

__all__ = ["parse_args", "build", "run", "main"]


class CacheKey(struct):
    pid: u32
    tid: u32
    cpu: u32
    pad: u32
    name: bytes16


references = Hash(CacheKey, u64, max_entries=10240)
misses = Hash(CacheKey, u64, max_entries=10240)
period = Const(u64, 100)
per_thread = Const(u32, 0)


def key_now():  # noqa: ANN201 - inlined
    k = CacheKey()
    tg = pid_tgid()
    k.pid = tg >> 32
    if per_thread != 0:
        k.tid = tg & 0xFFFFFFFF
    k.cpu = smp_processor_id()
    k.name = comm()
    return k


@bpf.perf_event
def llcstat_reference(ctx):
    k = key_now()
    seen = references.lookup(k)
    if seen:
        seen[0] += period
    else:
        references.update(k, period, BPF_NOEXIST)
    return 0


@bpf.perf_event
def llcstat_miss(ctx):
    k = key_now()
    seen = misses.lookup(k)
    if seen:
        seen[0] += period
    else:
        misses.update(k, period, BPF_NOEXIST)
    return 0


EXAMPLES = """\
    ./llcstat             # 10 seconds, sampling every 100th event
    ./llcstat 20 -c 1000  # 20 seconds, every 1000th event
    ./llcstat -t          # per thread
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("llcstat", "Summarize cache references and misses by PID",
                           EXAMPLES)
    p.add_argument("-c", "--sample_period", type=common.positive_int, default=100,
                   help="Sample one in this many number of cache reference / miss events")
    p.add_argument("-t", "--tid", action="store_true", help="Summarize by TID/PID")
    p.add_argument("duration", nargs="?", type=common.positive_int, default=10,
                   help="Duration, in seconds, to run")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(llcstat_reference, llcstat_miss).with_constants(
        {period: opts.sample_period, per_thread: 1 if opts.tid else 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    from ..kernel.links.perf_event import PerfHwConfig, attach_perf_event  # noqa: PLC0415
    from ..kernel.sys import PerfType  # noqa: PLC0415

    writer = common.EventWriter(out, as_json=opts.json)
    with build(opts).load() as coll:
        for program, config in (("llcstat_reference", PerfHwConfig.CACHE_REFERENCES),
                                ("llcstat_miss", PerfHwConfig.CACHE_MISSES)):
            coll.links.append(attach_perf_event(coll.programs[program], type=PerfType.HARDWARE,
                                                config=config,
                                                sample_period=opts.sample_period))
        if not opts.json:
            out.write(f"Running for {opts.duration} seconds or hit Ctrl-C to end.\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration)
        finally:
            refs = dict(coll.maps[references].items())
            miss = dict(coll.maps[misses].items())
            head = f"{'PID':<8} " + (f"{'TID':<8} " if opts.tid else "")
            writer.header(head + f"{'NAME':<16} {'CPU':<4} {'REFERENCE':>12} {'MISS':>12} "
                          "HIT%")
            for k in sorted(set(refs) | set(miss), key=lambda k: (k.pid, k.tid, k.cpu)):
                r, m = refs.get(k, 0), miss.get(k, 0)
                hit = 100.0 * (r - m) / r if r > m else 0.0
                name = common.decode_str(k.name)
                text = f"{k.pid:<8d} " + (f"{k.tid:<8d} " if opts.tid else "")
                writer.event({"pid": k.pid, "tid": k.tid, "comm": name, "cpu": k.cpu,
                              "references": r, "misses": m, "hit_pct": round(hit, 2)},
                             text + f"{name:<16} {k.cpu:<4d} {r:>12d} {m:>12d} {hit:6.2f}%")
            writer.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("llcstat", parse_args, run, argv)
