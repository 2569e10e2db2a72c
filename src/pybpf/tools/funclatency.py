"""funclatency: time user functions and show their latency as a log2 histogram, like
BCC's funclatency.

A uprobe at each matching function's entry keeps the time per thread; the uretprobe adds
the time spent to a histogram (one per function with ``-F``; the bpf cookie of each
attachment says which function). Kernel functions need kprobes, which this kernel lacks:
patterns name ``LIB:FUNC`` (``c:read``, ``/usr/bin/bash:readline``, wildcards or ``-r``)::

    Tracing 1 functions for "c:malloc"... Hit Ctrl-C to end.

         nsecs               : count     distribution
           256 -> 511        : 12       |****************************************|

    avg = 402 nsecs, total: 4830 nsecs, count: 12
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import BPF_NOEXIST, Const, Hash, attach_cookie, bpf, ktime_ns, pid, tid, u32, u64
from . import common
from .histkit import SLOTS, HistKey, log2_slot, print_hists
from .uprobes import PendingUprobes, match_functions, split_probe_spec

__all__ = ["parse_args", "build", "run", "main"]

UNIT_DIVISORS = {"nsecs": 1, "usecs": 1000, "msecs": 1_000_000}

started = Hash(u32, u64, max_entries=10240)
latency = Hash(HistKey, u64, max_entries=4096)
totals = Hash(u32, u64, max_entries=2)          # 0: sum of times (in the unit), 1: calls
only_pid = Const(u32, 0)
divisor = Const(u64, 1)
per_function = Const(u32, 0)


@bpf.uprobe()
def funclatency_entry(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    started[tid()] = ktime_ns()
    return 0


@bpf.uretprobe()
def funclatency_return(ctx):
    thread = tid()
    start = started.lookup(thread)
    if not start:
        return 0
    delta = (ktime_ns() - start[0]) // divisor
    started.delete(thread)
    hk = HistKey()
    if per_function != 0:
        hk.key = attach_cookie(ctx)
    hk.slot = log2_slot(delta)
    latency.increment(hk)
    total = totals.lookup(0)
    if total:
        total[0] += delta
    else:
        totals.update(0, delta, BPF_NOEXIST)
    totals.increment(1)
    return 0


EXAMPLES = """\
    ./funclatency c:read            # time the read() function of libc
    ./funclatency -u c:malloc       # time malloc(), in microseconds
    ./funclatency -m -i 5 c:fsync   # output every 5 seconds, in milliseconds
    ./funclatency -p 181 c:read     # time process 181 only
    ./funclatency 'c:str*'          # time every libc function starting with "str"
    ./funclatency -F 'c:str*'       # show a separate histogram per function
    ./funclatency -r 'c:^str.*cpy$' # same, with a regular expression
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("funclatency", "Time functions and print latency as a histogram",
                           EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-i", "--interval", type=common.positive_int,
                   help="summary interval, in seconds")
    p.add_argument("-d", "--duration", type=common.positive_int,
                   help="total duration of trace, in seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    unit = p.add_mutually_exclusive_group()
    unit.add_argument("-u", "--microseconds", action="store_true",
                      help="microsecond histogram")
    unit.add_argument("-m", "--milliseconds", action="store_true",
                      help="millisecond histogram")
    p.add_argument("-F", "--function", action="store_true",
                   help="show a separate histogram per function")
    p.add_argument("-r", "--regexp", action="store_true",
                   help="use regular expressions. Default is \"*\" wildcards only.")
    p.add_argument("pattern", help="search expression for functions (LIB:FUNC)")
    return p.parse_args(argv)


def _unit(opts: argparse.Namespace) -> str:
    return "usecs" if opts.microseconds else "msecs" if opts.milliseconds else "nsecs"


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(funclatency_entry, funclatency_return).with_constants({
        only_pid: opts.pid or 0, divisor: UNIT_DIVISORS[_unit(opts)],
        per_function: 1 if opts.function else 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    binary, pattern = split_probe_spec(opts.pattern)
    functions = match_functions(binary, pattern, regexp=opts.regexp)
    names = list(functions)
    unit = _unit(opts)

    def report(coll: Any) -> bool:
        view = coll.maps[latency]
        hists: dict[int, list[int]] = {}
        for k, n in list(view.items()):
            if 0 <= k.slot < SLOTS:
                hists.setdefault(k.key, [0] * SLOTS)[k.slot] += n
        view.clear()
        sums = coll.maps[totals]
        total, calls = sums.get(0) or 0, sums.get(1) or 0
        sums.clear()
        if opts.json:
            for key in sorted(hists):
                buckets = [{"low": (1 << i) >> 1 if i > 1 else 0, "high": (1 << i) - 1,
                            "count": c} for i, c in enumerate(hists[key]) if c and i]
                if hists[key][0]:
                    buckets.insert(0, {"low": 0, "high": 0, "count": hists[key][0]})
                record: dict[str, Any] = {"ts": common.wall_clock_hms(), "unit": unit}
                if opts.function:
                    record["function"] = names[key] if key < len(names) else str(key)
                record.update(buckets=buckets, total=total, count=calls)
                import json  # noqa: PLC0415 - only --json needs it
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
        else:
            out.write("\n")
            if opts.timestamp:
                out.write(f"{common.wall_clock_hms():<8}\n")
            print_hists(out, hists, unit, section="Function" if opts.function else None,
                        label=lambda k: names[k] if k < len(names) else str(k))
            if calls:
                out.write(f"\navg = {total // calls} {unit}, total: {total} {unit}, "
                          f"count: {calls}\n")
        out.flush()
        return False

    probes = PendingUprobes(pid=opts.pid).add("funclatency_entry", binary,
                                              functions.values(),
                                              retprogram="funclatency_return")
    with probes, probes.load(build(opts)) as coll:
        probes.attach(coll)
        if not opts.json:
            out.write(f'Tracing {len(functions)} functions for "{opts.pattern}"... '
                      "Hit Ctrl-C to end.\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration,
                                      interval_s=opts.interval,
                                      on_interval=lambda: report(coll))
        finally:
            if not opts.interval or not stop.is_set():
                report(coll)
            if not opts.json:
                out.write("Detaching...\n")
                out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("funclatency", parse_args, run, argv)
