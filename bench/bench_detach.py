"""Detaching many links: one by one against ``close_links`` (threads, grace periods
overlapping), per link, medians of ``--runs`` (3).

Rows: the first ``--tracepoints`` (100) syscall tracepoints; 16 libc functions as uprobes
(one perf event each); and, for reference, the same 16 sites as one uprobe_multi link
(Linux 6.6; pybpf's uprobe tools attach this way where the kernel can), whose detach
waits once for all of them.
Each tracepoint/uprobe detach waits for RCU grace periods in close(2); the perf event's
part is serial in the kernel (event_mutex), the bpf link's part overlaps.

Run as root: .venv/bin/python bench/bench_detach.py [--tracepoints N] [--runs R]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from pybpf.dataclass_compat import replace  # noqa: E402
from pybpf.kernel import Program  # noqa: E402
from pybpf.kernel.closing import close_links  # noqa: E402
from pybpf.kernel.lean import _bpf  # noqa: E402
from pybpf.kernel.links import attach_tracepoint, attach_uprobe  # noqa: E402
from pybpf.lang import bpf  # noqa: E402
from pybpf.spec import AttachType  # noqa: E402
from pybpf.tools.uprobes import function_offsets  # noqa: E402

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
FUNCTIONS = ["getpid", "getppid", "malloc", "free", "calloc", "realloc", "fopen", "fclose",
             "open", "close", "read", "write", "puts", "printf", "fork", "execve"]
_LINK_CREATE = 28


@bpf.tracepoint("syscalls/sys_enter_execve")
def bench_tp(ctx):  # type: ignore[no-untyped-def]
    return 0


@bpf.uprobe(LIBC, "getpid")
def bench_up(ctx):  # type: ignore[no-untyped-def]
    return 0


def _timed_close(links: list, together: bool) -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    if together:
        close_links(links)
    else:
        for link in reversed(links):
            link.close()
    return (time.perf_counter() - start) / len(links)


def tracepoint_rows(count: int, runs: int) -> tuple[float, float]:
    names = sorted(n for n in os.listdir("/sys/kernel/tracing/events/syscalls")
                   if n.startswith("sys_"))[:count]
    times: dict[bool, list[float]] = {False: [], True: []}
    with bpf.compile(bench_tp).load() as coll:
        prog = coll.programs["bench_tp"]
        for _ in range(runs):
            for together in (False, True):
                links = [attach_tracepoint(prog, "syscalls", n) for n in names]
                times[together].append(_timed_close(links, together))
    return statistics.median(times[False]), statistics.median(times[True])


def uprobe_rows(runs: int) -> tuple[float, float, float]:
    times: dict[bool, list[float]] = {False: [], True: []}
    multi: list[float] = []
    offsets = list(function_offsets(LIBC, names=FUNCTIONS).values())
    with bpf.compile(bench_up).load() as coll:
        prog = coll.programs["bench_up"]
        for _ in range(runs):
            for together in (False, True):
                links = [attach_uprobe(prog, LIBC, f) for f in FUNCTIONS]
                times[together].append(_timed_close(links, together))
    spec = replace(bpf.compile(bench_up).spec.programs["bench_up"],
                   attach_type=AttachType.TRACE_UPROBE_MULTI)
    with Program.load(spec) as prog:
        path = ctypes.create_string_buffer(LIBC.encode())
        sites = (ctypes.c_uint64 * len(offsets))(*offsets)
        for _ in range(runs):
            # union bpf_attr's link_create with its uprobe_multi member (uapi bpf.h)
            attr = ctypes.create_string_buffer(128)
            struct.pack_into("<IIII", attr, 0, int(prog.fileno()), 0,
                             int(AttachType.TRACE_UPROBE_MULTI), 0)
            struct.pack_into("<QQQQIII", attr, 16, ctypes.addressof(path),
                             ctypes.addressof(sites), 0, 0, len(offsets), 0, 0)
            fd = _bpf(_LINK_CREATE, attr)
            start = time.perf_counter()
            os.close(fd)
            multi.append((time.perf_counter() - start) / len(offsets))
    return statistics.median(times[False]), statistics.median(times[True]), \
        statistics.median(multi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracepoints", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tp_serial, tp_together = tracepoint_rows(args.tracepoints, args.runs)
    up_serial, up_together, up_multi = uprobe_rows(args.runs)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| detach, per link | one by one (ms) | close_links (ms) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| {args.tracepoints} syscall tracepoints | {tp_serial * 1e3:.1f} | "
          f"{tp_together * 1e3:.1f} | {tp_serial / tp_together:.1f}x |")
    print(f"| {len(FUNCTIONS)} libc uprobes | {up_serial * 1e3:.1f} | "
          f"{up_together * 1e3:.1f} | {up_serial / up_together:.1f}x |")
    print(f"| the same 16 as one uprobe_multi link | {up_multi * 1e3:.1f} | | |")


if __name__ == "__main__":
    main()
