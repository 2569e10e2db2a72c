"""drsnoop: trace direct memory reclaim: who stalled, for how long, pages reclaimed.

From the ``vmscan:mm_vmscan_direct_reclaim_begin``/``_end`` tracepoints, as BCC's drsnoop,
plus ``mm_vmscan_memcg_reclaim_begin``/``_end``: a task charging memory past its cgroup's
limit reclaims synchronously too (the same stall, counted against the cgroup), and BCC's
kernels reported that under direct reclaim. Columns: COMM PID LAT(ms) PAGES.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid_tgid,
    struct,
    u32,
    u64,
    uid,
)
from pybpf.tools import common

__all__ = ["parse_args", "build", "run", "main"]


class ReclaimEvent(struct):
    ts: u64
    delta_ns: u64
    pages: u64
    pid: u32
    tid: u32
    uid: u32
    pad: u32
    task: bytes16


reclaim_events = RingBuf(max_entries=1 << 18)
reclaim_start = Hash(u32, u64, max_entries=10240)
target_pid = Const(u32, 0)
target_tid = Const(u32, 0)
target_uid = Const(u32, 0xFFFFFFFF)


def reclaim_begins():
    id_ = pid_tgid()
    tgid = id_ >> 32
    tid = id_ & 0xFFFFFFFF
    if target_pid != 0 and tgid != target_pid:
        return 0
    if target_tid != 0 and tid != target_tid:
        return 0
    if target_uid != 0xFFFFFFFF and uid() != target_uid:
        return 0
    reclaim_start[tid] = ktime_ns()
    return 0


def reclaim_ends(pages):
    id_ = pid_tgid()
    tid = id_ & 0xFFFFFFFF
    started = reclaim_start.lookup(tid)
    if not started:
        return 0
    now = ktime_ns()
    delta = now - started[0]
    reclaim_start.delete(tid)
    ev = reclaim_events.reserve(ReclaimEvent)
    if ev:
        ev.ts = now
        ev.delta_ns = delta
        ev.pages = pages
        ev.pid = id_ >> 32
        ev.tid = tid
        ev.uid = uid()
        ev.task = comm()
        reclaim_events.submit(ev)
    return 0


@bpf.tracepoint("vmscan/mm_vmscan_direct_reclaim_begin")
def drsnoop_direct_begin(ctx):
    return reclaim_begins()


@bpf.tracepoint("vmscan/mm_vmscan_direct_reclaim_end")
def drsnoop_direct_end(ctx):
    return reclaim_ends(ctx.nr_reclaimed)


@bpf.tracepoint("vmscan/mm_vmscan_memcg_reclaim_begin")
def drsnoop_memcg_begin(ctx):
    return reclaim_begins()


@bpf.tracepoint("vmscan/mm_vmscan_memcg_reclaim_end")
def drsnoop_memcg_end(ctx):
    return reclaim_ends(ctx.nr_reclaimed)


EXAMPLES = """
    ./drsnoop           # trace all direct reclaim
    ./drsnoop -T        # include timestamps
    ./drsnoop -U        # include UID
    ./drsnoop -P 181    # only trace PID 181
    ./drsnoop -t 123    # only trace TID 123
    ./drsnoop -u 1000   # only trace UID 1000
    ./drsnoop -d 10     # trace for 10 seconds only
    ./drsnoop -n main   # only print process names containing "main"
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("drsnoop", "Trace direct reclaim", EXAMPLES)
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    parser.add_argument("-t", "--tid", type=common.positive_int, help="trace this TID only")
    parser.add_argument("-u", "--uid", type=int, help="trace this UID only")
    parser.add_argument("-d", "--duration", type=common.positive_int,
                        help="total duration of trace in seconds")
    parser.add_argument("-n", "--name", help="only print process names containing this name")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    compiled = bpf.compile(drsnoop_direct_begin, drsnoop_direct_end, drsnoop_memcg_begin,
                           drsnoop_memcg_end)
    return compiled.with_constants({
        target_pid: opts.pid or 0,
        target_tid: opts.tid or 0,
        target_uid: 0xFFFFFFFF if opts.uid is None else opts.uid,
    })


class _Printer:
    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.opts = opts
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.clock = common.RelativeClock()

    def header(self) -> None:
        o = self.opts
        self.writer.header(("%-14s" % "TIME(s)" if o.timestamp else "") +
                           ("%-6s" % "UID" if o.print_uid else "") +
                           "%-14s %-6s %8s %5s" % ("COMM", "PID", "LAT(ms)", "PAGES"))

    def __call__(self, ev: Any) -> None:
        o = self.opts
        task = common.decode_str(ev.task)
        if o.name and o.name not in task:
            return
        ts = self.clock.seconds(ev.ts)
        ms = ev.delta_ns / 1e6
        fields = dict(ts=round(ts, 6), uid=ev.uid, comm=task, pid=ev.pid, tid=ev.tid,
                      lat_ms=round(ms, 3), pages=ev.pages)
        self.writer.event(fields, ("%-14.9f" % ts if o.timestamp else "") +
                          ("%-6d" % ev.uid if o.print_uid else "") +
                          "%-14.14s %-6s %8.2f %5d" % (task, ev.tid, ms, ev.pages))


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, the duration or a signal; returns the exit status."""
    printer = _Printer(opts, out)
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, reclaim_events, ReclaimEvent, printer,
                               as_json=opts.json) as reader:
        printer.header()
        common.poll_until_stopped([reader], stop, duration_s=opts.duration)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("drsnoop", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
