"""runqlen: summarize the CPU run queue length as a histogram, by sampling, like BCC's
runqlen.

A ``perf_event`` program samples every CPU 99 times a second and reads the length of the
run queue of the task it interrupted (``current->se.cfs_rq``; its count field's offset
comes from the kernel's BTF: ``nr_queued`` since Linux 6.14, ``nr_running`` before),
less the running task, as BCC does::

    Sampling run queue length... Hit Ctrl-C to end.

         runqlen       : count     distribution
            0          : 1776     |****************************************|
            1          : 4        |                                        |
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import (
    Const,
    Hash,
    bpf,
    current_task,
    probe_read_kernel,
    smp_processor_id,
    u32,
    u64,
)
from . import common
from .histkit import HistKey, add_interval_args

__all__ = ["parse_args", "build", "run", "main"]

FREQUENCY = 99
MAX_LEN = 64

lengths = Hash(HistKey, u64, max_entries=4096)
per_cpu = Const(u32, 0)
queued_offset = Const(u32, 0)     # offsetof(struct cfs_rq, nr_queued or nr_running)


@bpf.perf_event
def runqlen_sample(ctx):
    task = current_task()
    rq = u64(task.se.cfs_rq)
    queued: u64 = 0
    if rq != 0:
        queued = probe_read_kernel(u32, rq + queued_offset)
    n: u64 = 0
    if queued > 0:
        n = queued - 1
    if n > MAX_LEN:
        n = MAX_LEN
    hk = HistKey()
    if per_cpu != 0:
        hk.key = smp_processor_id()
    hk.slot = n
    lengths.increment(hk)
    return 0


EXAMPLES = """\
    ./runqlen            # summarize run queue length as a histogram
    ./runqlen 1 10       # print 1 second summaries, 10 times
    ./runqlen -T 1       # 1s summaries and timestamps
    ./runqlen -O         # report run queue occupancy
    ./runqlen -C         # show each CPU separately
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("runqlen", "Summarize scheduler run queue length as a histogram",
                           EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-O", "--runqocc", action="store_true", help="report run queue occupancy")
    p.add_argument("-C", "--cpus", action="store_true", help="print output for each CPU "
                   "separately")
    add_interval_args(p)
    return p.parse_args(argv)


def _queued_offset() -> int:
    from ..lang import KernelTypes  # noqa: PLC0415
    fields = KernelTypes().struct("cfs_rq").fields
    field = fields.get("nr_queued") or fields["nr_running"]
    return int(field.offset)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(runqlen_sample).with_constants(
        {per_cpu: 1 if opts.cpus else 0, queued_offset: _queued_offset()})


def _report(coll: Any, opts: argparse.Namespace, out: TextIO) -> None:
    view = coll.maps[lengths]
    hists: dict[int, list[int]] = {}
    for k, n in list(view.items()):
        hists.setdefault(k.key, [0] * (MAX_LEN + 1))[min(k.slot, MAX_LEN)] += n
    view.clear()
    if not opts.json:
        out.write("\n")
        if opts.timestamp:
            out.write(f"{common.wall_clock_hms():<8}\n")
    for key in sorted(hists):
        counts = hists[key]
        total = sum(counts)
        occupancy = 100.0 * (total - counts[0]) / total if total else 0.0
        if opts.json:
            record: dict[str, Any] = {"ts": common.wall_clock_hms()}
            if opts.cpus:
                record["cpu"] = key
            record.update(runqlen={str(i): c for i, c in enumerate(counts) if c},
                          runqocc_pct=round(occupancy, 2))
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            continue
        if opts.cpus:
            out.write(f"\ncpu = {key}\n")
        if opts.runqocc:
            out.write(f"runqocc: {occupancy:0.2f}%\n")
        else:
            common.print_linear_hist(counts, "runqlen", out=out)
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    from ..kernel.links.perf_event import attach_perf_event  # noqa: PLC0415

    left = [opts.count]
    with build(opts).load() as coll:
        coll.links.append(attach_perf_event(coll.programs["runqlen_sample"],
                                            sample_freq=FREQUENCY))
        if not opts.json:
            out.write("Sampling run queue length... Hit Ctrl-C to end.\n")
            out.flush()

        def tick() -> bool:
            _report(coll, opts, out)
            if left[0] is None:
                return False
            left[0] -= 1
            return left[0] <= 0

        finished = False
        try:
            common.poll_until_stopped([], stop, interval_s=opts.interval,
                                      on_interval=tick if opts.interval else None)
            finished = bool(opts.interval and left[0] is not None and left[0] <= 0)
        finally:
            if not finished:
                _report(coll, opts, out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("runqlen", parse_args, run, argv)
