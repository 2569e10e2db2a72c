"""wakeuptime: summarize the time threads slept, by the kernel stack and name of the
thread that woke them, like BCC's wakeuptime.

``tp_btf`` sched_switch notes when a thread goes to sleep; ``sched_waking`` runs in the
waker (BCC uses a kprobe on ``try_to_wake_up``, the same place), takes its kernel stack
and adds the time slept to a (waker, target, stack) counter::

    Tracing blocked time (us) by kernel stack... Hit Ctrl-C to end.
        target:          sleep
        hrtimer_wakeup
        __hrtimer_run_queues
        waker:           swapper/0
            1002313
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
    bytes16,
    comm,
    kernel_struct,
    ktime_ns,
    s32,
    struct,
    u32,
    u64,
)
from . import common
from .symbols import Symbolizer

__all__ = ["parse_args", "build", "run", "main"]

TASK_RUNNING = 0
PF_KTHREAD = 0x00200000


class WakeKey(struct):
    stack_id: s32
    pad: u32
    target: bytes16
    waker: bytes16


slept_since = Hash(u32, u64, max_entries=10240)
wake_counts = Hash(WakeKey, u64, max_entries=10240)
wake_stacks = StackTrace(max_entries=10240, depth=127)
only_pid = Const(u32, 0)
user_only = Const(u32, 0)
min_us = Const(u64, 1)
max_us = Const(u64, 0xFFFFFFFFFFFFFFFF)


@bpf.tp_btf("sched_switch")
def wakeuptime_switch(ctx):
    # sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
    #              unsigned int prev_state)
    if ctx.arg3 == TASK_RUNNING:
        return 0
    prev = kernel_struct("task_struct", ctx.arg1)
    if only_pid != 0 and prev.tgid != only_pid:
        return 0
    if user_only != 0 and (prev.flags & PF_KTHREAD) != 0:
        return 0
    slept_since[prev.pid] = ktime_ns()
    return 0


@bpf.tp_btf("sched_waking")
def wakeuptime_waking(ctx):
    target = kernel_struct("task_struct", ctx.arg0)
    tid: u32 = target.pid
    since = slept_since.lookup(tid)
    if not since:
        return 0
    delta = (ktime_ns() - since[0]) // 1000
    slept_since.delete(tid)
    if delta < min_us or delta > max_us:
        return 0
    k = WakeKey()
    k.target = target.comm
    k.waker = comm()
    k.stack_id = wake_stacks.get_stackid(ctx, 0)
    seen = wake_counts.lookup(k)
    if seen:
        seen[0] += delta
    else:
        wake_counts.update(k, delta, BPF_NOEXIST)
    return 0


EXAMPLES = """\
    ./wakeuptime             # trace blocked time with waker stacks
    ./wakeuptime 5           # trace for 5 seconds only
    ./wakeuptime -f 5        # 5 seconds, and output in folded format
    ./wakeuptime -u          # don't include kernel threads (user only)
    ./wakeuptime -p 185      # trace for PID 185 only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("wakeuptime", "Summarize sleep to wakeup time by waker kernel "
                           "stack", EXAMPLES)
    p.add_argument("-u", "--useronly", action="store_true",
                   help="user threads only (no kernel threads)")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-f", "--folded", action="store_true",
                   help="output folded format")
    p.add_argument("-m", "--min-block-time", type=int, default=1,
                   help="the amount of time in microseconds over which we store traces")
    p.add_argument("-M", "--max-block-time", type=int, default=(1 << 64) - 1,
                   help="the amount of time in microseconds under which we store traces")
    p.add_argument("duration", nargs="?", type=common.positive_int,
                   help="duration of trace, in seconds")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(wakeuptime_switch, wakeuptime_waking).with_constants({
        only_pid: opts.pid or 0, user_only: 1 if opts.useronly else 0,
        min_us: opts.min_block_time, max_us: opts.max_block_time})


def _report(coll: Any, opts: argparse.Namespace, out: TextIO) -> None:
    symbols = Symbolizer()
    stacks = coll.maps[wake_stacks]
    rows = sorted(coll.maps[wake_counts].items(), key=lambda kv: kv[1])
    for k, total in rows:
        frames: list[str] = []
        if k.stack_id >= 0:
            try:
                frames = [symbols.kernel_name(a) for a in stacks[k.stack_id]]
            except Exception:  # noqa: BLE001 - evicted
                frames = ["[Missed Kernel Stack]"]
        while frames and frames[0].startswith(("bpf_", "__bpf", "bpf_trace_run")):
            frames.pop(0)
        target, waker = common.decode_str(k.target), common.decode_str(k.waker)
        if opts.json:
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps({"target": target, "waker": waker, "stack": frames,
                                  "us": total}, separators=(",", ":")) + "\n")
        elif opts.folded:
            out.write(";".join([waker, *reversed(frames), target]) + f" {total}\n")
        else:
            out.write(f"    {'target:':<16} {target}\n")
            for frame in frames:
                out.write(f"    {frame}\n")
            out.write(f"    {'waker:':<16} {waker}\n        {total}\n\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    with common.attached(build(opts)) as coll:
        if not opts.json and not opts.folded:
            out.write("Tracing blocked time (us) by kernel stack... Hit Ctrl-C to end.\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration)
        finally:
            _report(coll, opts, out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("wakeuptime", parse_args, run, argv)
