"""profile: a CPU profiler sampling stacks at a timed interval (perf_event + StackTrace).

A ``perf_event`` program runs on each CPU-clock sample (``-F`` times a second on every
CPU), keys a hash by (pid, user stack id, kernel stack id, comm) and counts. Stack ids come
from ``bpf_get_stackid`` into a STACK_TRACE map. At the end the stacks are symbolised:
kernel frames from /proc/kallsyms, user frames from the process's ELF symbols through
/proc/PID/maps (:mod:`pybpf.tools.symbols`), and printed as BCC's profile does (stacks with
counts, least frequent first), or folded (``-f``), or drawn as a flame graph (``--svg``).
"""

from __future__ import annotations

import argparse
import errno
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import (BPF_F_USER_STACK, Const, Hash, StackTrace, bpf, bytes16, comm,
                        pid_tgid, s32, struct, u32, u64)
from pybpf.tools import common
from pybpf.tools.symbols import Symbolizer

__all__ = ["parse_args", "build", "run", "main", "StackCounts", "collect_stacks",
           "write_stacks", "write_folded"]


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
    key: SampleKey
    key.pid = tgid
    key.tid = tid
    key.name = comm()
    key.user_stack_id = -1
    key.kernel_stack_id = -1
    if want_user != 0:
        key.user_stack_id = sample_stacks.get_stackid(ctx, BPF_F_USER_STACK)
    if want_kernel != 0:
        key.kernel_stack_id = sample_stacks.get_stackid(ctx, 0)
    seen = sample_counts.lookup(key)
    if seen:
        seen[0] += 1
    else:
        sample_counts[key] = 1
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
    parser.add_argument("duration", nargs="?", type=common.positive_int,
                        help="duration of trace, in seconds")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    target_pid.value = opts.pid or 0
    target_tid.value = opts.tid or 0
    include_idle.value = 1 if opts.include_idle else 0
    want_user.value = 0 if opts.kernel_stacks_only else 1
    want_kernel.value = 0 if opts.user_stacks_only else 1
    return bpf.compile(profile_sample)


# one counted stack: (comm, pid, user frames leaf first, kernel frames leaf first, count),
# a frame list None when its stack id was an error (the stack was lost)
StackCounts = list[tuple[str, int, "list[str] | None", "list[str] | None", int]]


# bpf_get_stackid's -EFAULT: no stack of that kind at the sample (a kernel stack while
# in user mode): an empty stack, not a lost one (BCC treats it the same way)
_NO_STACK = -errno.EFAULT


def _frames(stacks: Any, stack_id: int, name: Any) -> list[str] | None:
    if stack_id == _NO_STACK:
        return []
    if stack_id < 0:
        return None
    try:
        addresses = stacks[stack_id]
    except Exception:   # noqa: BLE001 - evicted by a later hash collision
        return None
    # every frame but the leaf is a return address: look up the byte before it, so a call
    # that never returns (the last instruction of a function) names its caller
    return [name(a if i == 0 else a - 1) for i, a in enumerate(addresses)]


def collect_stacks(counts: Any, stacks: Any, symbols: Symbolizer, *,
                   user: bool = True, kernel: bool = True,
                   skip_kernel_prefixes: tuple[str, ...] = ()) -> StackCounts:
    """Read a (key -> count) hash and its stack map into symbolised stacks, least
    frequent first (BCC's order). Leading kernel frames whose names start with one of
    ``skip_kernel_prefixes`` (the BPF program and tracepoint glue) are dropped."""
    merged: dict[tuple[Any, ...], int] = {}
    for key, count in counts.items():
        if user and key.pid:
            symbols.remember(key.pid)
        ustack = _frames(stacks, key.user_stack_id,
                         lambda a, pid=key.pid: symbols.user_name(pid, a)) if user else []
        kstack = _frames(stacks, key.kernel_stack_id, symbols.kernel_name) if kernel else []
        while kstack and skip_kernel_prefixes and kstack[0].startswith(skip_kernel_prefixes):
            kstack.pop(0)
        # stacks that differ only in addresses inside the same functions print as one
        ident = (common.decode_str(key.name), key.pid,
                 None if ustack is None else tuple(ustack),
                 None if kstack is None else tuple(kstack))
        merged[ident] = merged.get(ident, 0) + int(count)
    result: StackCounts = [(name, pid, None if u is None else list(u),
                            None if k is None else list(k), n)
                           for (name, pid, u, k), n in merged.items()]
    result.sort(key=lambda item: item[4])
    return result


def folded_frames(item: tuple[str, int, Any, Any, int], *, delimited: bool = False,
                  annotate: bool = False, user: bool = True, kernel: bool = True
                  ) -> list[str]:
    """A stack as folded frames, root first: comm, user frames, then kernel frames."""
    name, _pid, ustack, kstack, _count = item
    line = [name]
    if user:
        line.extend(["[Missed User Stack]"] if ustack is None else reversed(ustack))
    if kernel:
        if delimited and ustack and kstack:
            line.append("-")
        suffix = "_[k]" if annotate else ""
        line.extend(["[Missed Kernel Stack]"] if kstack is None else
                    (f + suffix for f in reversed(kstack)))
    return line


def write_folded(stacks: StackCounts, out: TextIO, **options: Any) -> None:
    for item in stacks:
        out.write(";".join(folded_frames(item, **options)) + f" {item[4]}\n")


def write_stacks(stacks: StackCounts, out: TextIO, *, delimited: bool = False,
                 annotate: bool = False, user: bool = True, kernel: bool = True) -> None:
    """BCC's multi-line form: kernel frames, ``--``, user frames (leaf first), then
    ``-  comm (pid)`` and the count."""
    for name, pid, ustack, kstack, count in stacks:
        if kernel:
            if kstack is None:
                out.write("    [Missed Kernel Stack]\n")
            else:
                for frame in kstack:
                    out.write(f"    {frame}{'_[k]' if annotate else ''}\n")
        if user:
            if delimited and kernel and ustack and kstack:
                out.write("    --\n")
            if ustack is None:
                out.write("    [Missed User Stack]\n")
            else:
                for frame in ustack:
                    out.write(f"    {frame}\n")
        out.write("    %-16s %s (%d)\n" % ("-", name, pid))
        out.write(f"        {count}\n\n")


def _describe(opts: argparse.Namespace) -> str:
    who = f"PID {opts.pid}" if opts.pid else f"TID {opts.tid}" if opts.tid else "all threads"
    which = "user" if opts.user_stacks_only else "kernel" if opts.kernel_stacks_only \
        else "user + kernel"
    until = f"for {opts.duration} secs." if opts.duration else "... Hit Ctrl-C to end."
    return f"Sampling at {opts.frequency} Hertz of {who} by {which} stack {until}"


def report(opts: argparse.Namespace, out: TextIO) -> None:
    """Print what the maps hold now (also used after Ctrl-C)."""
    user, kernel = not opts.kernel_stacks_only, not opts.user_stacks_only
    stacks = collect_stacks(sample_counts, sample_stacks, Symbolizer(), user=user,
                            kernel=kernel)
    shape = dict(delimited=opts.delimited, annotate=opts.annotations, user=user,
                 kernel=kernel)
    if opts.svg:
        from pybpf.tools.flamegraph import write_svg  # noqa: PLC0415
        write_svg([(folded_frames(s, **shape), s[4]) for s in stacks], opts.svg,
                  title="CPU Flame Graph", unit="samples")
    if opts.json:
        writer = common.EventWriter(out, as_json=True)
        for item in stacks:
            writer.event(dict(comm=item[0], pid=item[1], user_stack=item[2],
                              kernel_stack=item[3], count=item[4]), "")
    elif opts.folded:
        write_folded(stacks, out, **shape)
    else:
        write_stacks(stacks, out, **shape)
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Sample until ``stop``, the duration or a signal, then print the stacks."""
    from pybpf.errors import KernelError  # noqa: PLC0415
    from pybpf.kernel.links.perf_event import attach_perf_event  # noqa: PLC0415

    compiled = build(opts)
    with compiled.load() as coll:
        try:
            link = attach_perf_event(coll.programs["profile_sample"],
                                     sample_freq=opts.frequency)
        except KernelError as err:
            if err.errno == errno.EINVAL:
                raise KernelError("perf_event_open", err.errno, obj=f"{opts.frequency} Hz "
                                  "CPU-clock sampling (above kernel.perf_event_max_sample_"
                                  "rate?)") from None
            raise
        with link:
            if not (opts.folded or opts.json):
                out.write(_describe(opts) + "\n")
                out.flush()
            try:
                common.poll_until_stopped([], stop, duration_s=opts.duration)
            finally:
                link.close()
                report(opts, out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("profile", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
