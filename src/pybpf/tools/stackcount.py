"""stackcount: count the stack traces that lead to tracepoints or user functions, like
BCC's stackcount.

One program per kind (tracepoint or uprobe) takes the kernel and user stacks
(``bpf_get_stackid``) at each hit and counts them; kernel functions need kprobes, which
this kernel lacks, so patterns are ``t:CATEGORY:EVENT`` or ``LIB:FUNC`` (wildcards, or
``-r``)::

    Tracing 1 functions for "c:malloc"... Hit Ctrl-C to end.
    ^C
      malloc
      PyMem_RawMalloc
        12

    Detaching...
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import (
    BPF_F_USER_STACK,
    Const,
    Hash,
    StackTrace,
    bpf,
    bytes16,
    comm,
    pid_tgid,
    s32,
    struct,
    u32,
    u64,
)
from . import common
from .funccount import TraceEntry, _event_id, is_tracepoint_pattern, match_tracepoints
from .stacks import collect_stacks
from .symbols import Symbolizer
from .uprobes import PendingUprobes, match_functions, split_probe_spec

__all__ = ["parse_args", "build", "run", "main"]


class StackKey(struct):
    pid: u32
    tid: u32
    user_stack_id: s32
    kernel_stack_id: s32
    name: bytes16


stack_counts = Hash(StackKey, u64, max_entries=10240)
stack_traces = StackTrace(max_entries=10240, depth=127)
only_pid = Const(u32, 0)
per_pid = Const(u32, 0)
want_user = Const(u32, 1)
want_kernel = Const(u32, 1)


def count_stack(ctx):  # noqa: ANN001, ANN201 - inlined into both programs
    tg = pid_tgid()
    if only_pid != 0 and (tg >> 32) != only_pid:
        return 0
    k = StackKey()
    if per_pid != 0:
        k.pid = tg >> 32
        k.name = comm()
    k.user_stack_id = -1
    k.kernel_stack_id = -1
    if want_user != 0:
        k.user_stack_id = stack_traces.get_stackid(ctx, BPF_F_USER_STACK)
    if want_kernel != 0:
        k.kernel_stack_id = stack_traces.get_stackid(ctx, 0)
    stack_counts.increment(k)
    return 0


@bpf.tracepoint("sched/sched_switch", ctx=TraceEntry)
def stackcount_tp(ctx):
    return count_stack(ctx)


@bpf.uprobe()
def stackcount_uprobe(ctx):
    return count_stack(ctx)


EXAMPLES = """\
    ./stackcount c:malloc                 # count stacks of libc malloc() calls
    ./stackcount -P c:malloc              # ... one set per process
    ./stackcount -p 185 c:malloc          # only PID 185
    ./stackcount t:sched:sched_switch     # stacks leading to a context switch
    ./stackcount -K t:block:block_rq_issue  # kernel stacks only
    ./stackcount -i 5 -f c:free           # folded, every 5 seconds
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("stackcount", "Count events and their stack traces", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-i", "--interval", type=common.positive_int,
                   help="summary interval, seconds")
    p.add_argument("-D", "--duration", type=common.positive_int,
                   help="total duration of trace, seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-r", "--regexp", action="store_true",
                   help="use regular expressions. Default is \"*\" wildcards only.")
    p.add_argument("-P", "--perpid", action="store_true",
                   help="display stacks separately for each process")
    only = p.add_mutually_exclusive_group()
    only.add_argument("-K", "--kernel-stacks-only", action="store_true",
                      help="kernel stack only")
    only.add_argument("-U", "--user-stacks-only", action="store_true", help="user stack only")
    p.add_argument("-d", "--delimited", action="store_true",
                   help="insert delimiter between kernel/user stacks")
    p.add_argument("-f", "--folded", action="store_true", help="output folded format")
    p.add_argument("pattern", help="search expression for events (t:CAT:EVENT or LIB:FUNC)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    program = stackcount_tp if is_tracepoint_pattern(opts.pattern) else stackcount_uprobe
    return bpf.compile(program).with_constants({
        only_pid: opts.pid or 0, per_pid: 1 if opts.perpid else 0,
        want_user: 0 if opts.kernel_stacks_only else 1,
        want_kernel: 0 if opts.user_stacks_only else 1})


def _report(coll: Any, opts: argparse.Namespace, out: TextIO, symbols: Symbolizer) -> None:
    user, kernel = not opts.kernel_stacks_only, not opts.user_stacks_only
    view = coll.maps[stack_counts]
    stacks = collect_stacks(view, coll.maps[stack_traces], symbols, user=user,
                            kernel=kernel, skip_kernel_prefixes=("bpf_", "__bpf",
                                                                 "perf_trace_"))
    view.clear()
    if opts.json:
        for name, pid, ustack, kstack, count in stacks:
            record: dict[str, Any] = {"kernel_stack": kstack, "user_stack": ustack,
                                      "count": count}
            if opts.perpid:
                record.update(comm=name, pid=pid)
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
        out.flush()
        return
    if opts.timestamp:
        out.write(f"{common.wall_clock_hms()}\n")
    for name, pid, ustack, kstack, count in stacks:
        if opts.folded:
            frames = [name] if opts.perpid else []
            frames += list(reversed(ustack or [])) if user else []
            if opts.delimited and user and kernel and ustack and kstack:
                frames.append("-")
            frames += list(reversed(kstack or [])) if kernel else []
            out.write(";".join(frames) + f" {count}\n")
            continue
        for frame in (kstack or []) if kernel else []:
            out.write(f"  {frame}\n")
        if user:
            if opts.delimited and kernel and kstack and ustack:
                out.write("    --\n")
            for frame in ustack or []:
                out.write(f"  {frame}\n")
        if opts.perpid:
            out.write(f"    {name} [{pid}]\n")
        out.write(f"    {count}\n\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    from ..kernel.links import attach_tracepoint  # noqa: PLC0415 - kernel on use

    symbols = Symbolizer()
    tracing = is_tracepoint_pattern(opts.pattern)
    points: list[tuple[str, str]] = []
    offsets: list[int] = []
    probes = PendingUprobes(pid=opts.pid)
    if tracing:
        points = match_tracepoints(opts.pattern, regexp=opts.regexp)
    else:
        binary, func_pattern = split_probe_spec(opts.pattern)
        offsets = list(match_functions(binary, func_pattern, regexp=opts.regexp).values())
        probes.add("stackcount_uprobe", binary, offsets)
    with probes, probes.load(build(opts)) as coll:
        if tracing:
            program = coll.programs["stackcount_tp"]
            for category, event in points:
                coll.links.append(attach_tracepoint(program, category, event,
                                                    cookie=_event_id(category, event)))
        else:
            probes.attach(coll)
        if not opts.json:
            out.write(f'Tracing {len(points) + len(offsets)} functions for '
                      f'"{opts.pattern}"... Hit Ctrl-C to end.\n')
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration,
                                      interval_s=opts.interval,
                                      on_interval=lambda: _report(coll, opts, out, symbols)
                                      if opts.interval else None)
        finally:
            _report(coll, opts, out, symbols)
            if not opts.json:
                out.write("Detaching...\n")
                out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("stackcount", parse_args, run, argv)
