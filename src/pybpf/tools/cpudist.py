"""cpudist: on-CPU (or, with ``-O``, off-CPU) time per task as a log2 histogram.

From the BTF-typed ``sched_switch`` tracepoint (``tp_btf``): the task leaving the CPU ran
since it was last switched in (on-CPU time); the task coming in was away since it was
last switched out (off-CPU time). ``-P`` prints one histogram per process (``pid = N``),
``-L`` one per thread (``tid = N``); ``-p`` keeps one process. BCC's output.
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

only_pid = Const(u32, 0)
hist_by = Const(u32, BY_NONE)
in_msecs = Const(u32, 0)
off_cpu = Const(u32, 0)
switched_at = Hash(u32, u64, max_entries=10240)     # thread id -> last switch in (or out)
cpu_time = Hash(HistKey, u64, max_entries=4096)


@bpf.tp_btf("sched_switch")
def cpudist_switch(ctx):
    # sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...)
    now = ktime_ns()
    prev = kernel_struct("task_struct", ctx.arg1)
    nxt = kernel_struct("task_struct", ctx.arg2)
    # on-CPU: the interval ends for prev and starts for next; off-CPU: the other way round
    ending = nxt
    starting = prev
    if not off_cpu:
        ending = prev
        starting = nxt
    if only_pid == 0 or starting.tgid == only_pid:
        start_tid: u32 = starting.pid
        switched_at[start_tid] = now
    if only_pid and ending.tgid != only_pid:
        return 0
    tid: u32 = ending.pid
    start = switched_at.lookup(tid)
    if not start:
        return 0
    delta = now - start[0]
    switched_at.delete(tid)
    if in_msecs:
        delta = delta // 1000000
    else:
        delta = delta // 1000
    hk = HistKey()
    if hist_by == BY_PID:
        hk.key = ending.tgid
    elif hist_by == BY_TID:
        hk.key = tid
    hk.slot = log2_slot(delta)
    cpu_time.increment(hk)
    return 0


EXAMPLES = """
    cpudist              # summarize on-CPU time as a histogram
    cpudist -O           # summarize off-CPU time as a histogram
    cpudist 1 10         # print 1 second summaries, 10 times
    cpudist -mT 1        # 1s summaries, milliseconds, and timestamps
    cpudist -P           # show each PID separately
    cpudist -p 185       # trace PID 185 only
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("cpudist", "Summarize on-CPU time per task as a histogram.",
                                EXAMPLES)
    parser.add_argument("-O", "--offcpu", action="store_true", help="measure off-CPU time")
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-m", "--milliseconds", action="store_true",
                        help="millisecond histogram")
    add_per_task_args(parser)
    add_interval_args(parser)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(cpudist_switch).with_constants({
        only_pid: opts.pid or 0,
        hist_by: BY_PID if opts.pids else BY_TID if opts.tids else BY_NONE,
        in_msecs: 1 if opts.milliseconds else 0,
        off_cpu: 1 if opts.offcpu else 0,
    })


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, Ctrl-C or ``count`` intervals."""
    what = "off-CPU" if opts.offcpu else "on-CPU"
    return run_histogram_tool(opts, out, stop, compiled=build(opts), hist_decl=cpu_time,
                              banner=f"Tracing {what} time... Hit Ctrl-C to end.",
                              unit="msecs" if opts.milliseconds else "usecs",
                              section=per_task_section(opts))


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("cpudist", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
