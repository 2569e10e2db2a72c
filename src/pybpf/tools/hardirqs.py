"""hardirqs: time spent in hard interrupt handlers, as totals or log2 histograms.

From the ``irq:irq_handler_entry``/``irq:irq_handler_exit`` tracepoints. The BPF half
keys by irq number; the Python half names each irq by its action names from
/proc/interrupts (BCC keys by the action name the tracepoint carries; a shared line shows
its actions joined by commas here). Columns as BCC: ``HARDIRQ TOTAL_usecs`` (``-N``
nanoseconds, ``-C`` counts), ``-d`` one histogram per irq (``hardirq = 'name'``).
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

__all__ = ["parse_args", "build", "run", "main", "irq_names"]

MODE_TIME, MODE_COUNT, MODE_DIST = 0, 1, 2

mode = Const(u32, MODE_TIME)
in_nsecs = Const(u32, 0)
one_cpu = Const(u32, 0)          # 1: only CPU ``cpu_wanted``
cpu_wanted = Const(u32, 0)
irq_start = PerCPUArray(u64, max_entries=1)
irq_totals = Hash(u32, u64, max_entries=1024)
irq_dist = Hash(HistKey, u64, max_entries=4096)


@bpf.tracepoint("irq/irq_handler_entry")
def hardirqs_entry(ctx):
    if one_cpu and smp_processor_id() != cpu_wanted:
        return 0
    if mode == MODE_COUNT:
        irq_totals.increment(ctx.irq)
        return 0
    start = irq_start.lookup(0)
    if start:
        start[0] = ktime_ns()
    return 0


@bpf.tracepoint("irq/irq_handler_exit")
def hardirqs_exit(ctx):
    if mode == MODE_COUNT:
        return 0
    if one_cpu and smp_processor_id() != cpu_wanted:
        return 0
    start = irq_start.lookup(0)
    if not start:
        return 0
    if start[0] == 0:
        return 0
    delta = ktime_ns() - start[0]
    start[0] = 0
    if not in_nsecs:
        delta = delta // 1000
    if mode == MODE_TIME:
        irq_totals.increment(ctx.irq, delta)
        return 0
    hk = HistKey()
    hk.key = ctx.irq
    hk.slot = log2_slot(delta)
    irq_dist.increment(hk)
    return 0


def irq_names() -> dict[int, str]:
    """irq number -> its action names (``virtio0-requests``, ``eth0``...) from
    /proc/interrupts; several actions on one line are joined by commas."""
    names: dict[int, str] = {}
    try:
        with open("/proc/interrupts") as f:
            lines = f.read().splitlines()
    except OSError:
        return names
    cpus = len(lines[0].split()) if lines else 0
    for line in lines[1:]:
        head, _, rest = line.partition(":")
        if not head.strip().isdigit():
            continue
        fields = rest.split()
        # counts per CPU, the chip, "HWIRQ-TRIGGER", then the actions ("a, b" when shared)
        actions = fields[cpus + 2:]
        names[int(head)] = " ".join(actions) or head.strip()
    return names


EXAMPLES = """
    ./hardirqs            # sum hard irq event time
    ./hardirqs -d         # show hard irq event time as histograms
    ./hardirqs 1 10       # print 1 second summaries, 10 times
    ./hardirqs -NT 1      # 1s summaries, nanoseconds, and timestamps
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("hardirqs", "Summarize hard irq event time as histograms",
                                EXAMPLES)
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-N", "--nanoseconds", action="store_true",
                        help="output in nanoseconds")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-C", "--count", action="store_true", help="show event counts")
    group.add_argument("-d", "--dist", action="store_true", help="show distributions as "
                       "histograms")
    parser.add_argument("-c", "--cpu", type=int, help="trace this CPU only")
    add_interval_args(parser, count_dest="outputs")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(hardirqs_entry, hardirqs_exit).with_constants({
        mode: MODE_COUNT if opts.count else MODE_DIST if opts.dist else MODE_TIME,
        in_nsecs: 1 if opts.nanoseconds else 0,
        one_cpu: 0 if opts.cpu is None else 1,
        cpu_wanted: opts.cpu or 0,
    })


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, Ctrl-C or ``outputs`` intervals."""
    label = "count" if opts.count else "nsecs" if opts.nanoseconds else "usecs"

    def report(coll: Any) -> None:
        names = irq_names()
        if opts.dist:
            show = (hist_json if opts.json else print_hists)
            show(out, read_hists(coll.maps[irq_dist]), label, section="hardirq",
                 label=lambda irq: repr(names.get(irq, str(irq))))
        else:
            view = coll.maps[irq_totals]
            totals = dict(view.items())
            view.clear()
            print_totals(out, totals, label, names, title="HARDIRQ", name_width=26,
                         as_json=opts.json)

    return run_interval_reports(
        opts, out, stop, compiled=build(opts), report=report, outputs=opts.outputs,
        banner="Tracing hard irq event %s... Hit Ctrl-C to end."
               % ("count" if opts.count else "time"))


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("hardirqs", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
