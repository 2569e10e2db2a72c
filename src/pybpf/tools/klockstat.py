"""klockstat: kernel lock contention, the time tasks waited for mutexes, rwsems and
spinlocks, by the caller that waited, like BCC's klockstat.

BCC times every mutex_lock/mutex_unlock with kprobes (wait and hold times); this kernel
has no kprobes, but ``lock:contention_begin``/``lock:contention_end`` mark every wait on
a contended lock (a lock taken at once costs nothing to wait for), with the waiter's
kernel stack taken at the start. Hold times need kprobes on the unlock functions and are
not shown::

                                  Caller   Avg Wait    Count   Max Wait Total Wait
                          pipe_write+0x4c       1284       42      10243      53928
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
    StackTrace,
    bpf,
    ktime_ns,
    pid_tgid,
    s32,
    struct,
    u32,
    u64,
)
from . import common
from .symbols import Symbolizer

__all__ = ["parse_args", "build", "run", "main", "caller_of"]


class Waiting(struct):
    ts: u64
    stack_id: s32
    pad: u32


class WaitStats(struct):
    total_ns: u64
    max_ns: u64
    count: u64


waiting = Hash(u32, Waiting, max_entries=10240)
wait_stats = Hash(s32, WaitStats, max_entries=10240)
lock_stacks = StackTrace(max_entries=10240, depth=16)
only_pid = Const(u32, 0)
only_tid = Const(u32, 0)


@bpf.tracepoint("lock/contention_begin")
def klockstat_begin(ctx):
    tg = pid_tgid()
    tid: u32 = tg & 0xFFFFFFFF
    if only_pid != 0 and (tg >> 32) != only_pid:
        return 0
    if only_tid != 0 and tid != only_tid:
        return 0
    w = Waiting()
    w.ts = ktime_ns()
    w.stack_id = lock_stacks.get_stackid(ctx, 0)
    waiting[tid] = w
    return 0


@bpf.tracepoint("lock/contention_end")
def klockstat_end(ctx):
    tid: u32 = pid_tgid() & 0xFFFFFFFF
    w = waiting.lookup(tid)
    if not w:
        return 0
    delta = ktime_ns() - w[0].ts
    stack_id = w[0].stack_id
    waiting.delete(tid)
    seen = wait_stats.lookup(stack_id)
    if not seen:
        wait_stats.update(stack_id, WaitStats(), BPF_NOEXIST)
        seen = wait_stats.lookup(stack_id)
        if not seen:
            return 0
    seen[0].total_ns += delta
    seen[0].count += 1
    if delta > seen[0].max_ns:
        seen[0].max_ns = delta
    return 0


# the lock functions themselves, and the tracing glue: the caller is the first frame past
_LOCK_FRAMES = ("bpf_", "__bpf", "perf_trace", "trace_", "__traceiter", "mutex_", "__mutex",
                "down_", "__down", "up_", "rwsem", "__rwsem", "_raw_", "queued_",
                "native_queued", "__pv_queued", "pv_", "__lock", "lock_", "osq_", "rt_mutex",
                "__rt_mutex", "rtlock", "do_raw_", "__percpu", "percpu_")


def caller_of(frames: list[str]) -> str:
    """The first frame of a waiter's stack that is not lock machinery."""
    for frame in frames:
        if not frame.startswith(_LOCK_FRAMES):
            return frame
    return frames[-1] if frames else "[unknown]"


EXAMPLES = """\
    ./klockstat                # trace system wide lock contention
    ./klockstat -d 5           # trace for 5 seconds only
    ./klockstat -i 5           # display stats every 5 seconds
    ./klockstat -p 123         # trace locks for PID 123
    ./klockstat -t 321         # trace locks for TID 321
    ./klockstat -c pipe_       # display stats only for callers matching 'pipe_'
    ./klockstat -S avg         # sort by average wait time
    ./klockstat -n 3           # display only 3 callers
    ./klockstat -s 3           # display 3 frames of each stack
"""

SORTS = {"total": lambda s: s.total_ns, "max": lambda s: s.max_ns,
         "count": lambda s: s.count, "avg": lambda s: s.total_ns // max(s.count, 1)}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("klockstat", "Kernel lock contention statistics", EXAMPLES)
    who = p.add_mutually_exclusive_group()
    who.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    who.add_argument("-t", "--tid", type=common.positive_int, help="trace this TID only")
    p.add_argument("-c", "--caller", help="print this caller only")
    p.add_argument("-d", "--duration", type=common.positive_int,
                   help="total duration of trace in seconds")
    p.add_argument("-i", "--interval", type=common.positive_int,
                   help="print summary at this interval (seconds)")
    p.add_argument("-n", "--locks", type=common.positive_int, default=99999999,
                   help="print given number of callers")
    p.add_argument("-s", "--stacks", type=common.positive_int, default=1,
                   help="print given number of stack frames")
    p.add_argument("-S", "--sort", default="total", choices=sorted(SORTS),
                   help="sort by this field (default total)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(klockstat_begin, klockstat_end).with_constants(
        {only_pid: opts.pid or 0, only_tid: opts.tid or 0})


def _report(coll: Any, opts: argparse.Namespace, out: TextIO, symbols: Symbolizer) -> None:
    view = coll.maps[wait_stats]
    stacks = coll.maps[lock_stacks]
    rows: list[tuple[list[str], Any]] = []
    for stack_id, stats in list(view.items()):
        frames: list[str] = []
        if stack_id >= 0:
            try:
                frames = [symbols.kernel.name(a, with_offset=True) for a in stacks[stack_id]]
            except Exception:  # noqa: BLE001 - evicted
                frames = []
        caller = caller_of(frames)
        if opts.caller and opts.caller not in caller:
            continue
        at = frames.index(caller) if caller in frames else 0
        rows.append((frames[at:at + opts.stacks] or [caller], stats))
    view.clear()
    rows.sort(key=lambda r: SORTS[opts.sort](r[1]), reverse=True)
    rows = rows[:opts.locks]
    if opts.json:
        for frames, s in rows:
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps({"caller": frames[0], "stack": frames,
                                  "avg_wait_ns": s.total_ns // max(s.count, 1),
                                  "count": s.count, "max_wait_ns": s.max_ns,
                                  "total_wait_ns": s.total_ns}, separators=(",", ":")) + "\n")
        out.flush()
        return
    out.write(f"\n{'Caller':>40} {'Avg Wait':>10} {'Count':>8} {'Max Wait':>10} "
              f"{'Total Wait':>10}\n")
    for frames, s in rows:
        out.write(f"{frames[0]:>40} {s.total_ns // max(s.count, 1):10d} {s.count:8d} "
                  f"{s.max_ns:10d} {s.total_ns:10d}\n")
        for frame in frames[1:]:
            out.write(f"{frame:>40}\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    symbols = Symbolizer()

    with common.attached(build(opts)) as coll:
        def tick() -> bool:
            _report(coll, opts, out, symbols)
            return False

        if not opts.json:
            out.write("Tracing lock contention... Hit Ctrl-C to end.\n")
            out.flush()
        try:
            common.poll_until_stopped(
                [], stop, duration_s=opts.duration, interval_s=opts.interval,
                on_interval=tick if opts.interval else None)
        finally:
            _report(coll, opts, out, symbols)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("klockstat", parse_args, run, argv)
