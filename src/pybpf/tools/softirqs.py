"""softirqs: time spent in soft interrupts, as totals or log2 histograms.

From the ``irq:softirq_entry``/``irq:softirq_exit`` tracepoints, keyed by vector and
named as the kernel names them (``timer``, ``net_rx``...). Columns as BCC: ``SOFTIRQ
TOTAL_usecs`` (``-N`` nanoseconds, ``-C`` counts), ``-d`` one histogram per vector
(``softirq = net_rx``).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import (
    Const,
    Hash,
    PerCPUArray,
    bpf,
    ktime_ns,
    smp_processor_id,
    u32,
    u64,
)
from pybpf.tools import common
from pybpf.tools.histkit import (
    HistKey,
    add_interval_args,
    hist_json,
    log2_slot,
    print_hists,
    print_totals,
    read_hists,
    run_interval_reports,
)

__all__ = ["parse_args", "build", "run", "main", "SOFTIRQ_NAMES"]

# enum of include/linux/interrupt.h, in the kernel's softirq_to_name order
SOFTIRQ_NAMES = ["hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet",
                 "sched", "hrtimer", "rcu"]

MODE_TIME, MODE_COUNT, MODE_DIST = 0, 1, 2

mode = Const(u32, MODE_TIME)
in_nsecs = Const(u32, 0)
one_cpu = Const(u32, 0)
cpu_wanted = Const(u32, 0)
softirq_start = PerCPUArray(u64, max_entries=1)
softirq_totals = Hash(u32, u64, max_entries=64)
softirq_dist = Hash(HistKey, u64, max_entries=2048)


@bpf.tracepoint("irq/softirq_entry")
def softirqs_entry(ctx):
    if one_cpu and smp_processor_id() != cpu_wanted:
        return 0
    if mode == MODE_COUNT:
        softirq_totals.increment(ctx.vec)
        return 0
    start = softirq_start.lookup(0)
    if start:
        start[0] = ktime_ns()
    return 0


@bpf.tracepoint("irq/softirq_exit")
def softirqs_exit(ctx):
    if mode == MODE_COUNT:
        return 0
    if one_cpu and smp_processor_id() != cpu_wanted:
        return 0
    start = softirq_start.lookup(0)
    if not start:
        return 0
    if start[0] == 0:
        return 0
    delta = ktime_ns() - start[0]
    start[0] = 0
    if not in_nsecs:
        delta = delta // 1000
    if mode == MODE_TIME:
        softirq_totals.increment(ctx.vec, delta)
        return 0
    hk = HistKey()
    hk.key = ctx.vec
    hk.slot = log2_slot(delta)
    softirq_dist.increment(hk)
    return 0


def vec_name(vec: int) -> str:
    return SOFTIRQ_NAMES[vec] if 0 <= vec < len(SOFTIRQ_NAMES) else f"[unknown: {vec}]"


EXAMPLES = """
    ./softirqs            # sum soft irq event time
    ./softirqs -C         # show the number of soft irq events
    ./softirqs -d         # show soft irq event time as histograms
    ./softirqs 1 10       # print 1 second summaries, 10 times
    ./softirqs -NT 1      # 1s summaries, nanoseconds, and timestamps
    ./softirqs -c 1       # sum soft irq event time on CPU 1 only
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("softirqs", "Summarize soft irq event time as histograms.",
                                EXAMPLES)
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-N", "--nanoseconds", action="store_true",
                        help="output in nanoseconds")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-C", "--events", dest="count", action="store_true",
                       help="show the number of soft irq events")
    group.add_argument("-d", "--dist", action="store_true", help="show distributions as "
                       "histograms")
    parser.add_argument("-c", "--cpu", type=int, help="trace this CPU only")
    add_interval_args(parser, count_dest="outputs")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(softirqs_entry, softirqs_exit).with_constants({
        mode: MODE_COUNT if opts.count else MODE_DIST if opts.dist else MODE_TIME,
        in_nsecs: 1 if opts.nanoseconds else 0,
        one_cpu: 0 if opts.cpu is None else 1,
        cpu_wanted: opts.cpu or 0,
    })


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, Ctrl-C or ``outputs`` intervals."""
    label = "count" if opts.count else "nsecs" if opts.nanoseconds else "usecs"
    names = dict(enumerate(SOFTIRQ_NAMES))

    def report(coll: Any) -> None:
        if opts.dist:
            show = (hist_json if opts.json else print_hists)
            show(out, read_hists(coll.maps[softirq_dist]), label, section="softirq", label=vec_name)
        else:
            view = coll.maps[softirq_totals]
            totals = dict(view.items())
            view.clear()
            print_totals(out, totals, label, names, title="SOFTIRQ", name_width=16,
                         as_json=opts.json)

    return run_interval_reports(
        opts, out, stop, compiled=build(opts), report=report, outputs=opts.outputs,
        banner="Tracing soft irq event %s... Hit Ctrl-C to end."
               % ("count" if opts.count else "time"))


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("softirqs", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
