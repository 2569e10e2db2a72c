"""profile: a CPU profiler sampling stacks at a timed interval (perf_event + StackTrace).

A ``perf_event`` program runs on each CPU-clock sample (``-F`` times a second on every
CPU), keys a hash by (pid, user stack id, kernel stack id, comm) and counts. Stack ids come
from ``bpf_get_stackid`` into a STACK_TRACE map. At the end the stacks are symbolised:
kernel frames from /proc/kallsyms, user frames from the process's ELF symbols through
/proc/PID/maps (:mod:`pybpf.tools.symbols`), and printed as BCC's profile does (stacks with
counts, least frequent first), or folded (``-f``), or drawn as a flame graph (``--svg``),
or written as a pprof profile (``--pprof FILE``: gzip protobuf, for Grafana Pyroscope,
Parca and ``go tool pprof``; :mod:`pybpf.tools.pprof`).
"""

from __future__ import annotations

import argparse
import errno
import sys
import threading
import time
from typing import Any, TextIO

from pybpf.lang import (
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
from pybpf.tools import common
from pybpf.tools.pprof import PprofSample, write_pprof
from pybpf.tools.stacks import StackCounts, collect_stacks, folded_frames, write_stack_report
from pybpf.tools.symbols import Symbolizer

__all__ = ["parse_args", "build", "run", "main", "pprof_samples", "write_profile",
           "attach_sampler"]


class SampleKey(struct):
    pid: u32
    tid: u32
    user_stack_id: s32
    kernel_stack_id: s32
    name: bytes16


sample_counts = Hash(SampleKey, u64, max_entries=40960)
sample_stacks = StackTrace(max_entries=16384, depth=127)
target_pid = Const(u32, 0)
target_tid = Const(u32, 0)
include_idle = Const(u32, 0)
want_user = Const(u32, 1)
want_kernel = Const(u32, 1)


@bpf.perf_event
def profile_sample(ctx):
    id_ = pid_tgid()
    tgid = id_ >> 32
    tid = id_ & 0xFFFFFFFF
    if include_idle == 0 and tid == 0:
        return 0
    if target_pid != 0 and tgid != target_pid:
        return 0
    if target_tid != 0 and tid != target_tid:
        return 0
    key = SampleKey()
    key.pid = tgid
    key.tid = tid
    key.name = comm()
    key.user_stack_id = -1
    key.kernel_stack_id = -1
    if want_user != 0:
        key.user_stack_id = sample_stacks.get_stackid(ctx, BPF_F_USER_STACK)
    if want_kernel != 0:
        key.kernel_stack_id = sample_stacks.get_stackid(ctx, 0)
    sample_counts.increment(key)
    return 0


EXAMPLES = """
    ./profile             # profile stack traces at 49 Hertz until Ctrl-C
    ./profile -F 99       # profile stack traces at 99 Hertz
    ./profile 5           # profile at 49 Hertz for 5 seconds only
    ./profile -f 5        # output in folded format for flame graphs
    ./profile -p 185      # only profile process with PID 185
    ./profile -L 185      # only profile thread with TID 185
    ./profile -U          # only show user space stacks (no kernel)
    ./profile -K          # only show kernel space stacks (no user)
    ./profile --svg out.svg 5   # write a flame graph of 5 seconds to out.svg
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("profile", "Profile CPU stack traces at a timed interval",
                                EXAMPLES)
    thread = parser.add_mutually_exclusive_group()
    thread.add_argument("-p", "--pid", type=common.positive_int,
                        help="profile process with this PID only")
    thread.add_argument("-L", "--tid", type=common.positive_int,
                        help="profile thread with this TID only")
    stacks = parser.add_mutually_exclusive_group()
    stacks.add_argument("-U", "--user-stacks-only", action="store_true",
                        help="show stacks from user space only (no kernel space stacks)")
    stacks.add_argument("-K", "--kernel-stacks-only", action="store_true",
                        help="show stacks from kernel space only (no user space stacks)")
    parser.add_argument("-F", "--frequency", type=common.positive_int, default=49,
                        help="sample frequency, Hertz (default 49)")
    parser.add_argument("-d", "--delimited", action="store_true",
                        help="insert delimiter between kernel/user stacks")
    parser.add_argument("-a", "--annotations", action="store_true",
                        help="add _[k] annotations to kernel frames")
    parser.add_argument("-I", "--include-idle", action="store_true",
                        help="include CPU idle stacks")
    parser.add_argument("-f", "--folded", action="store_true",
                        help="output folded format, one line per stack (for flame graphs)")
    parser.add_argument("--svg", metavar="FILE", help="also write a flame graph SVG to FILE")
    parser.add_argument("--pprof", metavar="FILE",
                        help="also write the samples as a pprof profile (gzip protobuf) to "
                        "FILE")
    parser.add_argument("duration", nargs="?", type=common.positive_int,
                        help="duration of trace, in seconds")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(profile_sample).with_constants({
        target_pid: opts.pid or 0,
        target_tid: opts.tid or 0,
        include_idle: 1 if opts.include_idle else 0,
        want_user: 0 if opts.kernel_stacks_only else 1,
        want_kernel: 0 if opts.user_stacks_only else 1,
    })


def _describe(opts: argparse.Namespace) -> str:
    who = f"PID {opts.pid}" if opts.pid else f"TID {opts.tid}" if opts.tid else "all threads"
    which = "user" if opts.user_stacks_only else "kernel" if opts.kernel_stacks_only \
        else "user + kernel"
    until = f"for {opts.duration} secs." if opts.duration else "... Hit Ctrl-C to end."
    return f"Sampling at {opts.frequency} Hertz of {who} by {which} stack {until}"


def pprof_samples(stacks: StackCounts, *, user: bool = True,
                  kernel: bool = True) -> list[PprofSample]:
    """``stacks`` as pprof samples: frames leaf first down to the command name at the
    root (the folded stack reversed), labelled with ``comm`` and ``pid``."""
    return [(folded_frames(item, user=user, kernel=kernel)[::-1], item[4],
             {"comm": item[0]}, {"pid": item[1]}) for item in stacks]


def write_profile(coll: Any, opts: argparse.Namespace, path: str, *, started_ns: int,
                  ended_ns: int | None = None, clear: bool = False,
                  symbols: Symbolizer | None = None) -> StackCounts:
    """Write the samples ``coll`` holds to ``path`` as pprof, a profile of ``started_ns``
    to ``ended_ns`` (default now); ``clear``: then empty the counts, for the next period;
    ``symbols``: a Symbolizer kept across periods (ELF symbols read once). Returns the
    stacks."""
    user, kernel = not opts.kernel_stacks_only, not opts.user_stacks_only
    ended_ns = ended_ns or time.time_ns()
    counts = coll.maps[sample_counts]
    stacks = collect_stacks(counts, coll.maps[sample_stacks], symbols or Symbolizer(),
                            user=user, kernel=kernel)
    if clear:
        counts.clear()
    _write_pprof(stacks, opts, path, started_ns, ended_ns)
    return stacks


def _write_pprof(stacks: StackCounts, opts: argparse.Namespace, path: str,
                 started_ns: int, ended_ns: int) -> None:
    user, kernel = not opts.kernel_stacks_only, not opts.user_stacks_only
    write_pprof(path, pprof_samples(stacks, user=user, kernel=kernel),
                period_ns=1_000_000_000 // opts.frequency, time_ns=started_ns,
                duration_ns=max(ended_ns - started_ns, 0))


def report(coll: Any, opts: argparse.Namespace, out: TextIO, *, started_ns: int = 0) -> None:
    """Print what the maps of ``coll`` hold now (also used after Ctrl-C)."""
    user, kernel = not opts.kernel_stacks_only, not opts.user_stacks_only
    stacks = collect_stacks(coll.maps[sample_counts], coll.maps[sample_stacks], Symbolizer(),
                            user=user, kernel=kernel)
    if opts.pprof:
        now = time.time_ns()
        _write_pprof(stacks, opts, opts.pprof, started_ns or now, now)
    write_stack_report(stacks, out, as_json=opts.json, folded=opts.folded,
                       svg_path=opts.svg, svg_title="CPU Flame Graph", svg_unit="samples",
                       count_field="count", delimited=opts.delimited,
                       annotate=opts.annotations, user=user, kernel=kernel)


def attach_sampler(coll: Any, opts: argparse.Namespace) -> Any:
    """The perf_event link sampling every CPU ``opts.frequency`` times a second."""
    from pybpf.errors import KernelError  # noqa: PLC0415
    from pybpf.kernel.links.perf_event import attach_perf_event  # noqa: PLC0415

    try:
        return attach_perf_event(coll.programs["profile_sample"], sample_freq=opts.frequency)
    except KernelError as err:
        if err.errno == errno.EINVAL:
            raise KernelError("perf_event_open", err.errno, obj=f"{opts.frequency} Hz "
                              "CPU-clock sampling (above kernel.perf_event_max_sample_"
                              "rate?)") from None
        raise


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Sample until ``stop``, the duration or a signal, then print the stacks."""
    compiled = build(opts)
    started_ns = time.time_ns()
    with compiled.load() as coll:
        with attach_sampler(coll, opts) as link:
            if not (opts.folded or opts.json):
                out.write(_describe(opts) + "\n")
                out.flush()
            try:
                common.poll_until_stopped([], stop, duration_s=opts.duration)
            finally:
                link.close()
                report(coll, opts, out, started_ns=started_ns)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("profile", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
