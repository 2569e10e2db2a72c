"""runqslower: trace tasks that waited on a run queue longer than a threshold, like BCC's
runqslower.

``tp_btf`` sched_wakeup/sched_wakeup_new (and a preempted task at sched_switch) start the
clock; sched_switch to that task stops it; waits of at least ``min_us`` are sent::

    Tracing run queue latency higher than 10000 us
    TIME     COMM             TID           LAT(us)
    04:16:32 cc1              12924           12739
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, Hash, RingBuf, bpf, bytes16, kernel_struct, ktime_ns, struct, u32, u64
from . import common

__all__ = ["parse_args", "build", "run", "main"]

TASK_RUNNING = 0


class SlowEvent(struct):
    delta_us: u64
    tid: u32
    prev_tid: u32
    comm: bytes16
    prev_comm: bytes16


enqueued = Hash(u32, u64, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)
only_tid = Const(u32, 0)
min_us = Const(u64, 10000)


def note_enqueue(task):  # noqa: ANN001, ANN201 - inlined
    t = kernel_struct("task_struct", task)
    if only_pid != 0 and t.tgid != only_pid:
        return 0
    tid: u32 = t.pid
    if tid == 0:
        return 0
    if only_tid != 0 and tid != only_tid:
        return 0
    enqueued[tid] = ktime_ns()
    return 0


@bpf.tp_btf("sched_wakeup")
def runqslower_wakeup(ctx):
    return note_enqueue(ctx.arg0)


@bpf.tp_btf("sched_wakeup_new")
def runqslower_wakeup_new(ctx):
    return note_enqueue(ctx.arg0)


@bpf.tp_btf("sched_switch")
def runqslower_switch(ctx):
    # sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
    #              unsigned int prev_state)
    if ctx.arg3 == TASK_RUNNING:
        note_enqueue(ctx.arg1)
    nxt = kernel_struct("task_struct", ctx.arg2)
    tid: u32 = nxt.pid
    start = enqueued.lookup(tid)
    if not start:
        return 0
    delta = (ktime_ns() - start[0]) // 1000
    enqueued.delete(tid)
    if delta < min_us:
        return 0
    prev = kernel_struct("task_struct", ctx.arg1)
    ev = events.reserve(SlowEvent)
    if ev:
        ev.delta_us = delta
        ev.tid = tid
        ev.prev_tid = prev.pid
        ev.comm = nxt.comm
        ev.prev_comm = prev.comm
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./runqslower         # trace run queue latency higher than 10000 us (default)
    ./runqslower 1000    # trace run queue latency higher than 1000 us
    ./runqslower -p 123  # trace pid 123
    ./runqslower -t 123  # trace tid 123 (use for threads only)
    ./runqslower -P      # also show previous task name and TID
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("runqslower", "Trace high run queue latency", EXAMPLES)
    group = p.add_mutually_exclusive_group()
    group.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    group.add_argument("-t", "--tid", type=common.positive_int, help="trace this TID only")
    p.add_argument("-P", "--previous", action="store_true",
                   help="also show previous task name and TID")
    p.add_argument("min_us", nargs="?", type=common.positive_int, default=10000,
                   help="minimum run queue latency to trace, in us (default 10000)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(runqslower_wakeup, runqslower_wakeup_new, runqslower_switch
                       ).with_constants({only_pid: opts.pid or 0, only_tid: opts.tid or 0,
                                         min_us: opts.min_us})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        text = f"{common.wall_clock_hms():<8} {name:<16} {ev.tid:<6d} {ev.delta_us:14d}"
        fields: dict[str, Any] = {"comm": name, "tid": ev.tid, "lat_us": ev.delta_us}
        if opts.previous:
            prev = common.decode_str(ev.prev_comm)
            text += f" {prev:<16} {ev.prev_tid}"
            fields.update(prev_comm=prev, prev_tid=ev.prev_tid)
        writer.event(fields, text)

    header = f"{'TIME':<8} {'COMM':<16} {'TID':<6} {'LAT(us)':>14}"
    if opts.previous:
        header += f" {'PREV COMM':<16} PREV TID"
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, SlowEvent, show, writer=writer) as reader:
        if not opts.json:
            out.write(f"Tracing run queue latency higher than {opts.min_us} us\n")
        writer.header(header)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("runqslower", parse_args, run, argv)
