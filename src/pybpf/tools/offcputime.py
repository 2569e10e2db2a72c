"""offcputime: time threads spent blocked (off CPU), summed by stack trace.

One ``tp_btf/sched_switch`` program: when a thread is switched out it is still current,
so its blocking stacks (user and kernel, through ``bpf_get_stackid``) are taken then and
kept with the time; when that thread is switched back in, the time away is added to a
(pid, stacks, comm) counter. BCC hooks finish_task_switch with a kprobe and takes the
stacks after the switch; the totals are the same. Printed as BCC's offcputime prints them
(microseconds), folded with ``-f``, or drawn with ``--svg``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import (
    BPF_F_USER_STACK,
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
from pybpf.tools import common
from pybpf.tools.stacks import collect_stacks, write_stack_report
from pybpf.tools.symbols import Symbolizer

__all__ = ["parse_args", "build", "run", "main"]

PF_KTHREAD = 0x00200000


class OffKey(struct):
    pid: u32
    tid: u32
    user_stack_id: s32
    kernel_stack_id: s32
    name: bytes16


class SwitchedOut(struct):
    ts: u64
    pid: u32
    user_stack_id: s32
    kernel_stack_id: s32
    pad: u32
    name: bytes16


offcpu_counts = Hash(OffKey, u64, max_entries=40960)
offcpu_start = Hash(u32, SwitchedOut, max_entries=40960)
offcpu_stacks = StackTrace(max_entries=16384, depth=127)
target_pid = Const(u32, 0)
target_tid = Const(u32, 0)
threads_kind = Const(u32, 0)         # 0 all, 1 user threads only, 2 kernel threads only
want_user = Const(u32, 1)
want_kernel = Const(u32, 1)
min_block_us = Const(u64, 1)
max_block_us = Const(u64, 0xFFFFFFFFFFFFFFFF)
want_state = Const(u64, 0xFFFFFFFFFFFFFFFF)   # all ones: any prev_state


@bpf.tp_btf("sched_switch")
def offcputime_switch(ctx):
    # (bool preempt, struct task_struct *prev, struct task_struct *next, unsigned prev_state)
    prev = kernel_struct("task_struct", ctx.arg1)
    nxt = kernel_struct("task_struct", ctx.arg2)
    now = ktime_ns()
    prev_tid = prev.pid
    prev_pid = prev.tgid
    keep = 1
    if prev_tid == 0:
        keep = 0
    if target_pid != 0 and prev_pid != target_pid:
        keep = 0
    if target_tid != 0 and prev_tid != target_tid:
        keep = 0
    if threads_kind == 1 and (prev.flags & PF_KTHREAD) != 0:
        keep = 0
    if threads_kind == 2 and (prev.flags & PF_KTHREAD) == 0:
        keep = 0
    if want_state != 0xFFFFFFFFFFFFFFFF and ctx.arg3 != want_state:
        keep = 0
    if keep != 0:
        out = SwitchedOut()
        out.ts = now
        out.pid = prev_pid
        out.name = comm()
        out.user_stack_id = -1
        out.kernel_stack_id = -1
        if want_user != 0 and (prev.flags & PF_KTHREAD) == 0:
            out.user_stack_id = offcpu_stacks.get_stackid(ctx, BPF_F_USER_STACK)
        if want_kernel != 0:
            out.kernel_stack_id = offcpu_stacks.get_stackid(ctx, 0)
        offcpu_start[prev_tid] = out
    next_tid = nxt.pid
    was = offcpu_start.lookup(next_tid)
    if not was:
        return 0
    delta = (now - was[0].ts) // 1000
    if delta >= min_block_us and delta <= max_block_us:
        key = OffKey()
        key.pid = was[0].pid
        key.tid = next_tid
        key.user_stack_id = was[0].user_stack_id
        key.kernel_stack_id = was[0].kernel_stack_id
        key.name = was[0].name
        total = offcpu_counts.lookup(key)
        if total:
            total[0] += delta
        else:
            offcpu_counts[key] = delta
    offcpu_start.delete(next_tid)
    return 0


EXAMPLES = """
    ./offcputime             # trace off-CPU stack time until Ctrl-C
    ./offcputime 5           # trace for 5 seconds only
    ./offcputime -f 5        # 5 seconds, and output in folded format
    ./offcputime -m 1000     # trace only events that last more than 1000 usec
    ./offcputime -M 10000    # trace only events that last less than 10000 usec
    ./offcputime -p 185      # only trace threads for PID 185
    ./offcputime -t 188      # only trace thread 188
    ./offcputime -u          # only trace user threads (no kernel)
    ./offcputime -k          # only trace kernel threads (no user)
    ./offcputime -U          # only show user space stacks (no kernel)
    ./offcputime -K          # only show kernel space stacks (no user)
    ./offcputime --svg off.svg 5   # flame graph of 5 seconds of off-CPU time
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("offcputime", "Summarize off-CPU time by stack trace",
                                EXAMPLES)
    thread = parser.add_mutually_exclusive_group()
    thread.add_argument("-p", "--pid", type=common.positive_int,
                        help="trace this PID only")
    thread.add_argument("-t", "--tid", type=common.positive_int, help="trace this TID only")
    thread.add_argument("-u", "--user-threads-only", action="store_true",
                        help="user threads only (no kernel threads)")
    thread.add_argument("-k", "--kernel-threads-only", action="store_true",
                        help="kernel threads only (no user threads)")
    stacks = parser.add_mutually_exclusive_group()
    stacks.add_argument("-U", "--user-stacks-only", action="store_true",
                        help="show stacks from user space only (no kernel space stacks)")
    stacks.add_argument("-K", "--kernel-stacks-only", action="store_true",
                        help="show stacks from kernel space only (no user space stacks)")
    parser.add_argument("-d", "--delimited", action="store_true",
                        help="insert delimiter between kernel/user stacks")
    parser.add_argument("-f", "--folded", action="store_true",
                        help="output folded format")
    parser.add_argument("-m", "--min-block-time", type=common.positive_int, default=1,
                        help="the amount of time in microseconds over which we store traces "
                             "(default 1)")
    parser.add_argument("-M", "--max-block-time", type=common.positive_int,
                        default=(1 << 64) - 1,
                        help="the amount of time in microseconds under which we store traces "
                             "(default U64_MAX)")
    parser.add_argument("--state", type=int,
                        help="filter on this thread state bitmask (eg, 2 == "
                             "TASK_UNINTERRUPTIBLE) see include/linux/sched.h")
    parser.add_argument("--svg", metavar="FILE", help="also write a flame graph SVG to FILE")
    parser.add_argument("duration", nargs="?", type=common.positive_int,
                        help="duration of trace, in seconds")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(offcputime_switch).with_constants({
        target_pid: opts.pid or 0,
        target_tid: opts.tid or 0,
        threads_kind: 1 if opts.user_threads_only else 2 if opts.kernel_threads_only else 0,
        want_user: 0 if opts.kernel_stacks_only else 1,
        want_kernel: 0 if opts.user_stacks_only else 1,
        min_block_us: opts.min_block_time,
        max_block_us: opts.max_block_time,
        want_state: (1 << 64) - 1 if opts.state is None else opts.state,
    })


def _describe(opts: argparse.Namespace) -> str:
    who = f"PID {opts.pid}" if opts.pid else f"TID {opts.tid}" if opts.tid else \
        "user threads" if opts.user_threads_only else \
        "kernel threads" if opts.kernel_threads_only else "all threads"
    which = "user" if opts.user_stacks_only else "kernel" if opts.kernel_stacks_only \
        else "user + kernel"
    until = f"for {opts.duration} secs." if opts.duration else "... Hit Ctrl-C to end."
    return f"Tracing off-CPU time (us) of {who} by {which} stack {until}"


# the frames between the scheduler and us: our program and the tracepoint's calling glue
_GLUE = ("bpf_prog_", "bpf_trace_run", "__traceiter_", "__bpf_trace_")


def report(coll: Any, opts: argparse.Namespace, out: TextIO) -> None:
    """Print what the maps of ``coll`` hold now (also used after Ctrl-C)."""
    user, kernel = not opts.kernel_stacks_only, not opts.user_stacks_only
    stacks = collect_stacks(coll.maps[offcpu_counts], coll.maps[offcpu_stacks], Symbolizer(),
                            user=user, kernel=kernel, skip_kernel_prefixes=_GLUE)
    write_stack_report(stacks, out, as_json=opts.json, folded=opts.folded,
                       svg_path=opts.svg, svg_title="Off-CPU Time Flame Graph", svg_unit="us",
                       count_field="usecs", delimited=opts.delimited, user=user,
                       kernel=kernel)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, the duration or a signal, then print the stacks."""
    with common.attached(build(opts)) as coll:
        if not (opts.folded or opts.json):
            out.write(_describe(opts) + "\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration)
        finally:
            for link in coll.links:
                link.close()
            report(coll, opts, out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("offcputime", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
