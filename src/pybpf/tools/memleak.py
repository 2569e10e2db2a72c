"""memleak: trace outstanding memory allocations and the stacks that made them, like
BCC's memleak.

With ``-p PID`` (or ``-c COMMAND``): uprobes on libc's malloc, calloc, realloc,
posix_memalign, aligned_alloc, memalign, valloc, pvalloc (entry: the size; return: the
address) and free; without: the kernel's ``kmem:kmalloc``/``kfree`` and
``kmem:kmem_cache_alloc``/``kmem_cache_free`` tracepoints. Each live allocation keeps
its size, time and stack; each interval prints the stacks holding the most bytes::

    [11:16:33] Top 2 stacks with outstanding allocations:
            80 bytes in 5 allocations from stack
                    main+0x6d [allocs]
                    __libc_start_main+0xf0 [libc.so.6]

``-o MS`` counts only allocations older than MS milliseconds, ``-a`` lists them.
"""

from __future__ import annotations

import argparse
import shlex
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..lang import (
    BPF_F_USER_STACK,
    Const,
    Hash,
    StackTrace,
    bpf,
    ktime_ns,
    pid,
    probe_read_user,
    s32,
    struct,
    tid,
    u32,
    u64,
)
from ..spec import MapFlags
from . import common
from .symbols import Symbolizer
from .uprobes import PendingUprobes, function_offsets, library_path

if TYPE_CHECKING:
    import subprocess

__all__ = ["parse_args", "build", "run", "main"]


class AllocInfo(struct):
    nbytes: u64
    ts: u64
    stack_id: s32
    pad: u32


class PendingAlloc(struct):
    nbytes: u64
    memptr: u64


sizes = Hash(u32, PendingAlloc, max_entries=10240)
# not preallocated: a million entries would cost ~40 ms and ~50 MB at every start
allocs = Hash(u64, AllocInfo, max_entries=1000000, flags=MapFlags.NO_PREALLOC)
alloc_stacks = StackTrace(max_entries=10240, depth=127)
only_pid = Const(u32, 0)
min_size = Const(u64, 0)
max_size = Const(u64, 0xFFFFFFFFFFFFFFFF)
sample_every = Const(u64, 1)
kernel_stacks = Const(u32, 0)


def begin(size, memptr):  # noqa: ANN001, ANN201 - inlined into the entry probes
    if only_pid != 0 and pid() != only_pid:
        return 0
    if size < min_size or size > max_size:
        return 0
    p = PendingAlloc()
    p.nbytes = size
    p.memptr = memptr
    sizes[tid()] = p
    return 0


def record(ctx, address, size):  # noqa: ANN001, ANN201 - inlined
    if address == 0:
        return 0
    if sample_every > 1 and (ktime_ns() % sample_every) != 0:
        return 0
    info = AllocInfo()
    info.nbytes = size
    info.ts = ktime_ns()
    if kernel_stacks != 0:
        info.stack_id = alloc_stacks.get_stackid(ctx, 0)
    else:
        info.stack_id = alloc_stacks.get_stackid(ctx, BPF_F_USER_STACK)
    allocs[address] = info
    return 0


def finish(ctx, address):  # noqa: ANN001, ANN201 - inlined into the return probes
    thread = tid()
    pending = sizes.lookup(thread)
    if not pending:
        return 0
    size = pending[0].nbytes
    sizes.delete(thread)
    return record(ctx, address, size)


@bpf.uprobe()
def memleak_malloc(ctx):
    return begin(ctx.arg1, 0)


@bpf.uprobe()
def memleak_calloc(ctx):
    return begin(ctx.arg1 * ctx.arg2, 0)


@bpf.uprobe()
def memleak_realloc(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    allocs.delete(ctx.arg1)
    return begin(ctx.arg2, 0)


@bpf.uprobe()
def memleak_memalign(ctx):
    return begin(ctx.arg2, 0)


@bpf.uprobe()
def memleak_posix_memalign(ctx):
    return begin(ctx.arg3, ctx.arg1)


@bpf.uretprobe()
def memleak_alloc_ret(ctx):
    return finish(ctx, ctx.ret)


@bpf.uretprobe()
def memleak_posix_memalign_ret(ctx):
    thread = tid()
    pending = sizes.lookup(thread)
    if not pending:
        return 0
    memptr = pending[0].memptr
    if ctx.ret != 0 or memptr == 0:
        sizes.delete(thread)
        return 0
    return finish(ctx, probe_read_user(u64, memptr))


@bpf.uprobe()
def memleak_free(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    allocs.delete(ctx.arg1)
    return 0


@bpf.tracepoint("kmem/kmalloc")
def memleak_kmalloc(ctx):
    size: u64 = ctx.bytes_alloc
    if size < min_size or size > max_size:
        return 0
    return record(ctx, ctx.ptr, size)


@bpf.tracepoint("kmem/kmem_cache_alloc")
def memleak_cache_alloc(ctx):
    size: u64 = ctx.bytes_alloc
    if size < min_size or size > max_size:
        return 0
    return record(ctx, ctx.ptr, size)


@bpf.tracepoint("kmem/kfree")
def memleak_kfree(ctx):
    allocs.delete(ctx.ptr)
    return 0


@bpf.tracepoint("kmem/kmem_cache_free")
def memleak_cache_free(ctx):
    allocs.delete(ctx.ptr)
    return 0


USER_PROBES = {  # libc function -> (entry program, return program)
    "malloc": ("memleak_malloc", "memleak_alloc_ret"),
    "calloc": ("memleak_calloc", "memleak_alloc_ret"),
    "realloc": ("memleak_realloc", "memleak_alloc_ret"),
    "valloc": ("memleak_malloc", "memleak_alloc_ret"),
    "pvalloc": ("memleak_malloc", "memleak_alloc_ret"),
    "memalign": ("memleak_memalign", "memleak_alloc_ret"),
    "aligned_alloc": ("memleak_memalign", "memleak_alloc_ret"),
    "posix_memalign": ("memleak_posix_memalign", "memleak_posix_memalign_ret"),
}

EXAMPLES = """\
    ./memleak -p $(pidof allocs)          # trace allocations of allocs, every 5 seconds
    ./memleak -ap $(pidof allocs) 10      # ... with the allocations, every 10 seconds
    ./memleak -c "./allocs"               # run ./allocs and trace its allocations
    ./memleak                             # trace kernel allocations (kmem tracepoints)
    ./memleak -o 60000                    # only allocations older than a minute
    ./memleak -s 5                        # sample every 5th allocation
    ./memleak -T 5 -z 64                  # top 5 stacks, allocations of 64 bytes or more
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("memleak", "Trace outstanding memory allocations that weren't "
                           "freed. Supports both user-mode allocations made with libc "
                           "functions and kernel-mode allocations made with kmalloc/"
                           "kmem_cache_alloc.", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int,
                   help="the PID to trace; if not specified, trace kernel allocs")
    p.add_argument("-a", "--show-allocs", action="store_true",
                   help="show allocation addresses and sizes as well as call stacks")
    p.add_argument("-o", "--older", type=int, default=500,
                   help="prune allocations younger than this age in milliseconds")
    p.add_argument("-c", "--command", help="execute and trace the specified command")
    p.add_argument("--combined-only", action="store_true",
                   help="show combined allocation statistics only")
    p.add_argument("-s", "--sample-rate", type=common.positive_int, default=1,
                   help="sample every N-th allocation to decrease the overhead")
    p.add_argument("-T", "--top", type=common.positive_int, default=10,
                   help="display only this many top allocating stacks (by size)")
    p.add_argument("-z", "--min-size", type=int, help="capture only allocations larger than "
                   "or equal to this size")
    p.add_argument("-Z", "--max-size", type=int, help="capture only allocations smaller "
                   "than or equal to this size")
    p.add_argument("-O", "--obj", default="c",
                   help="attach to allocator functions in the specified object")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=5,
                   help="interval in seconds to print outstanding allocations")
    p.add_argument("count", nargs="?", type=common.positive_int,
                   help="number of times to print the report before exiting")
    return p.parse_args(argv)


def build(opts: argparse.Namespace, target_pid: int | None = None) -> Any:
    user = bool(target_pid)
    programs: list[Any] = []
    if user:
        programs = [memleak_malloc, memleak_calloc, memleak_realloc, memleak_memalign,
                    memleak_posix_memalign, memleak_alloc_ret, memleak_posix_memalign_ret,
                    memleak_free]
    else:
        programs = [memleak_kmalloc, memleak_cache_alloc, memleak_kfree, memleak_cache_free]
    return bpf.compile(*programs).with_constants({
        only_pid: target_pid or 0, kernel_stacks: 0 if user else 1,
        min_size: opts.min_size or 0,
        max_size: opts.max_size if opts.max_size is not None else (1 << 64) - 1,
        sample_every: opts.sample_rate})


def _frames(coll: Any, stack_id: int, symbols: Symbolizer, pid_: int | None) -> list[str]:
    if stack_id < 0:
        return ["[unknown stack]"]
    try:
        addresses = coll.maps[alloc_stacks][stack_id]
    except Exception:  # noqa: BLE001 - evicted
        return ["[lost stack]"]
    if pid_:
        return [symbols.user_name(pid_, a if i == 0 else a - 1)
                for i, a in enumerate(addresses)]
    return [symbols.kernel_name(a) for a in addresses]


def _report(coll: Any, opts: argparse.Namespace, out: TextIO, symbols: Symbolizer,
            pid_: int | None) -> None:
    now_ns = time.monotonic_ns()
    older_ns = opts.older * 1_000_000
    by_stack: dict[int, list[int]] = {}
    listed: list[tuple[int, int, int]] = []
    for address, info in list(coll.maps[allocs].items()):
        if now_ns - info.ts < older_ns:
            continue
        row = by_stack.setdefault(info.stack_id, [0, 0])
        row[0] += info.nbytes
        row[1] += 1
        if opts.show_allocs:
            listed.append((address, info.nbytes, now_ns - info.ts))
    top = sorted(by_stack.items(), key=lambda kv: kv[1][0], reverse=True)[:opts.top]
    if opts.json:
        for stack_id, (total, count) in top:
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps({"ts": common.wall_clock_hms(), "bytes": total,
                                  "allocations": count,
                                  "stack": _frames(coll, stack_id, symbols, pid_)},
                                 separators=(",", ":")) + "\n")
        out.flush()
        return
    if opts.show_allocs and not opts.combined_only:
        for address, size, age in sorted(listed):
            out.write(f"\taddr = {address:x} size = {size} age = {age / 1e9:.2f}s\n")
    out.write(f"[{common.wall_clock_hms()}] Top {len(top)} stacks with outstanding "
              "allocations:\n")
    for stack_id, (total, count) in reversed(top):
        out.write(f"\t{total} bytes in {count} allocations from stack\n")
        for frame in _frames(coll, stack_id, symbols, pid_):
            out.write(f"\t\t{frame}\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    symbols = Symbolizer()
    child: subprocess.Popen[bytes] | None = None
    target = opts.pid
    try:
        if opts.command:
            import subprocess  # noqa: PLC0415 - only for -c: ~2 ms of the start

            child = subprocess.Popen(shlex.split(opts.command))
            target = child.pid
        probes = PendingUprobes(pid=target or None)
        if target:
            library = library_path(opts.obj)
            offsets = function_offsets(library, names=[*USER_PROBES, "free"])
            done: set[int] = set()      # aliases (memalign, aligned_alloc) once
            for func, (entry, ret) in USER_PROBES.items():
                if func in offsets and offsets[func] not in done:
                    done.add(offsets[func])
                    probes.add(entry, library, [offsets[func]], retprogram=ret)
            probes.add("memleak_free", library, [offsets["free"]])
        with probes, probes.load(build(opts, target)) as coll:
            if target:
                probes.attach(coll)
                if not opts.json:
                    out.write(f"Attaching to pid {target}, Ctrl+C to quit.\n")
            else:
                coll.attach()
                if not opts.json:
                    out.write("Attaching to kernel allocators, Ctrl+C to quit.\n")
            out.flush()
            left = [opts.count]

            def tick() -> bool:
                _report(coll, opts, out, symbols, target)
                if left[0] is None:
                    return False
                left[0] -= 1
                return left[0] <= 0

            common.poll_until_stopped([], stop, interval_s=opts.interval, on_interval=tick)
    finally:
        if child is not None:
            child.kill()
            child.wait()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("memleak", parse_args, run, argv)
