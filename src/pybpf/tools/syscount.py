"""syscount: count system calls (and their time) by syscall or by process, BCC's output.

From the ``raw_syscalls:sys_enter``/``sys_exit`` tracepoints (``sys_enter`` only with
``-L``, to time each call). Names come from a table generated from the x86_64 uapi header
(scripts/gen_syscall_table.py); a number the table lacks prints as ``[unknown: N]``,
as BCC prints it. ``-e`` takes an errno name (Python's errno module) or number.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import threading
import time
from typing import Any, TextIO

from pybpf.lang import Const, Hash, bpf, bytes16, comm, ktime_ns, pid_tgid, s64, u32, u64
from pybpf.tools import common

__all__ = ["parse_args", "build", "run", "main", "syscall_name"]

only_pid = Const(u32, 0)
by_process = Const(u32, 0)
with_latency = Const(u32, 0)
failures_only = Const(u32, 0)
errno_wanted = Const(u32, 0)
entered = Hash(u64, u64, max_entries=10240)        # pid_tgid -> sys_enter time
call_counts = Hash(u32, u64, max_entries=1024)     # syscall number (or pid) -> calls
call_ns = Hash(u32, u64, max_entries=1024)         # ... -> total time in the calls
process_names = Hash(u32, bytes16, max_entries=1024)


@bpf.tracepoint("raw_syscalls/sys_enter")
def syscount_enter(ctx):
    tg = pid_tgid()
    if only_pid and (tg >> 32) != only_pid:
        return 0
    entered[tg] = ktime_ns()
    return 0


@bpf.tracepoint("raw_syscalls/sys_exit")
def syscount_exit(ctx):
    tg = pid_tgid()
    if only_pid and (tg >> 32) != only_pid:
        return 0
    ret: s64 = ctx.ret
    if failures_only and ret >= 0:
        return 0
    if errno_wanted and ret != -s64(errno_wanted):
        return 0
    key: u32 = ctx.id
    if by_process:
        key = tg >> 32
        process_names[key] = comm()
    call_counts.increment(key)
    if with_latency:
        start = entered.lookup(tg)
        if start:
            call_ns.increment(key, ktime_ns() - start[0])
            entered.delete(tg)
    return 0


def syscall_name(number: int) -> str:
    """The name of syscall ``number`` on this machine, or ``[unknown: N]``."""
    if os.uname().machine == "x86_64":
        from pybpf.tools.syscall_names import X86_64_SYSCALLS
        name = X86_64_SYSCALLS.get(number)
        if name is not None:
            return name
    return f"[unknown: {number}]"


def errno_number(text: str) -> int:
    """argparse type: ``EPERM`` or ``1`` -> 1."""
    if text.isdigit():
        return int(text)
    value = getattr(errno, text.upper(), None)
    if not isinstance(value, int):
        raise argparse.ArgumentTypeError(f"{text!r} is not an errno name or number")
    return value


EXAMPLES = """
    ./syscount                 # count all syscalls
    ./syscount -P              # count by process and not by syscall
    ./syscount -x              # count only failed syscalls
    ./syscount -e ENOENT       # count only syscalls failing with ENOENT
    ./syscount -L              # measure and display syscall latency
    ./syscount -p 181 -i 1     # trace PID 181, print every second
    ./syscount -l              # list the syscalls this tool knows
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("syscount", "Summarize syscall counts and latencies.",
                                EXAMPLES)
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace only this pid")
    parser.add_argument("-i", "--interval", type=common.positive_int,
                        help="print summary at this interval (seconds)")
    parser.add_argument("-d", "--duration", type=common.positive_int,
                        help="total duration of trace, in seconds")
    parser.add_argument("-T", "--top", type=common.positive_int, default=10,
                        help="print only the top syscalls by count or latency")
    parser.add_argument("-x", "--failures", action="store_true",
                        help="trace only failed syscalls (return < 0)")
    parser.add_argument("-e", "--errno", type=errno_number,
                        help="trace only syscalls that return this error (numeric or "
                        "EPERM, etc.)")
    parser.add_argument("-L", "--latency", action="store_true",
                        help="collect syscall latency")
    parser.add_argument("-m", "--milliseconds", action="store_true",
                        help="display latency in milliseconds (default: microseconds)")
    parser.add_argument("-P", "--process", action="store_true",
                        help="count by process and not by syscall")
    parser.add_argument("-l", "--list", action="store_true",
                        help="print list of recognized syscalls and exit")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    constants = {
        only_pid: opts.pid or 0,
        by_process: 1 if opts.process else 0,
        with_latency: 1 if opts.latency else 0,
        failures_only: 1 if opts.failures else 0,
        errno_wanted: opts.errno or 0,
    }
    if opts.latency:
        return bpf.compile(syscount_enter, syscount_exit).with_constants(constants)
    return bpf.compile(syscount_exit).with_constants(constants)


def _rows(coll: Any, opts: argparse.Namespace) -> list[tuple[int, int, int]]:
    """(key, count, total ns) of the top entries, emptied from the maps."""
    counts_view = coll.maps[call_counts]
    counts = dict(counts_view.items())
    counts_view.clear()
    times = {}
    if opts.latency:
        times_view = coll.maps[call_ns]
        times = dict(times_view.items())
        times_view.clear()
    rows = [(k, n, times.get(k, 0)) for k, n in counts.items()]
    rows.sort(key=(lambda r: -r[2]) if opts.latency else (lambda r: -r[1]))
    return rows[:opts.top]


def _label(opts: argparse.Namespace, key: int, names: dict[int, str]) -> str:
    if opts.process:
        return f"{key:<6d} {names.get(key, '?'):<15}"
    return syscall_name(key)


def print_stats(coll: Any, opts: argparse.Namespace, out: TextIO) -> None:
    """One summary as BCC prints it: ``[HH:MM:SS]``, the header, the top rows, a blank."""
    rows = _rows(coll, opts)
    names = {}
    if opts.process:
        names_view = coll.maps[process_names]
        names = {k: common.decode_str(v) for k, v in names_view.items()}
        names_view.clear()
    unit = "ms" if opts.milliseconds else "us"
    if opts.json:
        for key, count, total_ns in rows:
            record: dict[str, Any] = {"ts": time.strftime("%H:%M:%S"), "count": count}
            if opts.process:
                record.update(pid=key, comm=names.get(key, "?"))
            else:
                record.update(syscall=syscall_name(key), id=key)
            if opts.latency:
                record[f"time_{unit}"] = total_ns / (1e6 if opts.milliseconds else 1e3)
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
        out.flush()
        return
    column = "PID    COMM" if opts.process else "SYSCALL"
    out.write(f"[{time.strftime('%H:%M:%S')}]\n")
    if opts.latency:
        out.write(f"{column:<22} {'COUNT':>8} {'TIME (' + unit + ')':>16}\n")
    else:
        out.write(f"{column:<22} {'COUNT':>8}\n")
    for key, count, total_ns in rows:
        label = _label(opts, key, names)
        if opts.latency:
            t = f"{total_ns / 1e6:16.6f}" if opts.milliseconds else f"{total_ns / 1e3:16.3f}"
            out.write(f"{label:<22} {count:8d} {t}\n")
        else:
            out.write(f"{label:<22} {count:8d}\n")
    out.write("\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, Ctrl-C or ``-d``; print every ``-i`` seconds and at the end."""
    if opts.list:
        from pybpf.tools.syscall_names import X86_64_SYSCALLS
        for name in X86_64_SYSCALLS.values():
            out.write(name + "\n")
        return 0
    with common.attached(build(opts)) as coll:
        if not opts.json:
            out.write("Tracing %ssyscalls, printing top %d... Ctrl+C to quit.\n"
                      % ("failed " if opts.failures else "", opts.top))
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration,
                                      interval_s=opts.interval,
                                      on_interval=(lambda: print_stats(coll, opts, out))
                                      if opts.interval else None)
        except KeyboardInterrupt:
            print_stats(coll, opts, out)
            if not opts.json:
                out.write("Detaching...\n")
            raise
        print_stats(coll, opts, out)
        if not opts.json:
            out.write("Detaching...\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("syscount", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
