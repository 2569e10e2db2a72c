"""runqlat: run queue (scheduler) latency as a log2 histogram, BCC's output.

The time a task waits on a run queue: from its wakeup (``sched_wakeup``,
``sched_wakeup_new``) or its preemption while still runnable (``sched_switch`` with
``prev_state`` TASK_RUNNING) until ``sched_switch`` puts it on a CPU. The three hooks are
BTF-typed raw tracepoints (``tp_btf``), whose arguments are the ``task_struct`` pointers,
so the thread id and process id of each task are read from the tasks themselves.
``-P`` prints one histogram per process (``pid = N``), ``-L`` one per thread (``tid = N``).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import Const, Hash, bpf, kernel_struct, ktime_ns, u32, u64
from pybpf.tools import common
from pybpf.tools.histkit import (
    HistKey,
    add_interval_args,
    add_per_task_args,
    log2_slot,
    per_task_section,
    run_histogram_tool,
)

__all__ = ["parse_args", "build", "run", "main"]

BY_NONE, BY_PID, BY_TID = 0, 1, 2
TASK_RUNNING = 0

only_pid = Const(u32, 0)          # a process id (tgid), 0 for all
hist_by = Const(u32, BY_NONE)
in_msecs = Const(u32, 0)
enqueued = Hash(u32, u64, max_entries=10240)      # thread id -> when it became runnable
runq_latency = Hash(HistKey, u64, max_entries=4096)


def note_enqueue(task):  # noqa: ANN001, ANN201 - inlined
    t = kernel_struct("task_struct", task)
    if only_pid and t.tgid != only_pid:
        return 0
    tid: u32 = t.pid
    if tid == 0:
        return 0
    enqueued[tid] = ktime_ns()
    return 0


@bpf.tp_btf("sched_wakeup")
def runqlat_wakeup(ctx):
    return note_enqueue(ctx.arg0)


@bpf.tp_btf("sched_wakeup_new")
def runqlat_wakeup_new(ctx):
    return note_enqueue(ctx.arg0)


@bpf.tp_btf("sched_switch")
def runqlat_switch(ctx):
    # sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
    #              unsigned int prev_state)
    if ctx.arg3 == TASK_RUNNING:
        note_enqueue(ctx.arg1)
    nxt = kernel_struct("task_struct", ctx.arg2)
    tid: u32 = nxt.pid
    start = enqueued.lookup(tid)
    if not start:
        return 0
    delta = ktime_ns() - start[0]
    enqueued.delete(tid)
    if in_msecs:
        delta = delta // 1000000
    else:
        delta = delta // 1000
    hk = HistKey()
    if hist_by == BY_PID:
        hk.key = nxt.tgid
    elif hist_by == BY_TID:
        hk.key = tid
    hk.slot = log2_slot(delta)
    runq_latency.increment(hk)
    return 0


EXAMPLES = """
    ./runqlat            # summarize run queue latency as a histogram
    ./runqlat 1 10       # print 1 second summaries, 10 times
    ./runqlat -mT 1      # 1s summaries, milliseconds, and timestamps
    ./runqlat -P         # show each PID separately
    ./runqlat -p 185     # trace PID 185 only
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("runqlat", "Summarize run queue (scheduler) latency as a "
                                "histogram", EXAMPLES)
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-m", "--milliseconds", action="store_true",
                        help="millisecond histogram")
    add_per_task_args(parser)
    add_interval_args(parser)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(runqlat_wakeup, runqlat_wakeup_new, runqlat_switch).with_constants({
        only_pid: opts.pid or 0,
        hist_by: BY_PID if opts.pids else BY_TID if opts.tids else BY_NONE,
        in_msecs: 1 if opts.milliseconds else 0,
    })


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, Ctrl-C or ``count`` intervals."""
    return run_histogram_tool(opts, out, stop, compiled=build(opts), hist_decl=runq_latency,
                              banner="Tracing run queue latency... Hit Ctrl-C to end.",
                              unit="msecs" if opts.milliseconds else "usecs",
                              section=per_task_section(opts))


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("runqlat", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
