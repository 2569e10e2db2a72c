"""funcslower: trace slow user function calls, like BCC's funcslower.

A uprobe at each function's entry keeps the time (and, with ``-a``, the first arguments)
per thread; the uretprobe sends the calls that took at least the threshold, with the
return value. Kernel functions need kprobes, which this kernel lacks: functions are
``LIB:FUNC`` (``c:open``, ``/usr/bin/python3:PyEval_EvalCode``)::

    Tracing function calls slower than 1 ms... Ctrl+C to quit.
    COMM           PID    LAT(ms)             RVAL FUNC
    python3        3432      1.03                0 c:usleep
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import (
    Const,
    Hash,
    RingBuf,
    attach_cookie,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid,
    struct,
    tid,
    u32,
    u64,
)
from . import common
from .uprobes import PendingUprobes, match_functions, split_probe_spec

__all__ = ["parse_args", "build", "run", "main"]


class Entry(struct):
    ts: u64
    arg1: u64
    arg2: u64
    arg3: u64
    arg4: u64
    arg5: u64
    arg6: u64


class SlowCall(struct):
    ts_ns: u64
    delta_ns: u64
    retval: u64
    arg1: u64
    arg2: u64
    arg3: u64
    arg4: u64
    arg5: u64
    arg6: u64
    func: u32
    pid: u32
    tid: u32
    pad: u32
    comm: bytes16


entries = Hash(u32, Entry, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)
min_ns = Const(u64, 1_000_000)


@bpf.uprobe()
def funcslower_entry(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    e = Entry()
    e.ts = ktime_ns()
    e.arg1 = ctx.arg1
    e.arg2 = ctx.arg2
    e.arg3 = ctx.arg3
    e.arg4 = ctx.arg4
    e.arg5 = ctx.arg5
    e.arg6 = ctx.arg6
    entries[tid()] = e
    return 0


@bpf.uretprobe()
def funcslower_return(ctx):
    thread = tid()
    e = entries.lookup(thread)
    if not e:
        return 0
    now = ktime_ns()
    delta = now - e[0].ts
    if delta >= min_ns:
        ev = events.reserve(SlowCall)
        if ev:
            ev.ts_ns = now
            ev.delta_ns = delta
            ev.retval = ctx.ret
            ev.arg1 = e[0].arg1
            ev.arg2 = e[0].arg2
            ev.arg3 = e[0].arg3
            ev.arg4 = e[0].arg4
            ev.arg5 = e[0].arg5
            ev.arg6 = e[0].arg6
            ev.func = u32(attach_cookie(ctx))
            ev.pid = pid()
            ev.tid = thread
            ev.comm = comm()
            events.submit(ev)
    entries.delete(thread)
    return 0


EXAMPLES = """\
    ./funcslower c:open                # trace open() calls slower than 1 ms
    ./funcslower -m 10 c:usleep        # slower than 10 ms
    ./funcslower -u 10 c:write         # slower than 10 us
    ./funcslower -p 135 c:read         # PID 135 only
    ./funcslower -a 2 c:write          # show the first two arguments
    ./funcslower c:open c:openat       # several functions
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("funcslower", "Trace slow user function calls", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    unit = p.add_mutually_exclusive_group()
    unit.add_argument("-m", "--min-ms", type=float, dest="min_ms",
                      help="minimum duration to trace (ms)")
    unit.add_argument("-u", "--min-us", type=float, dest="min_us",
                      help="minimum duration to trace (us)")
    p.add_argument("-a", "--arguments", type=int, default=0,
                   help="print this many entry arguments, as hex")
    p.add_argument("-T", "--time", action="store_true", help="show HH:MM:SS timestamp")
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="show timestamp in seconds")
    p.add_argument("functions", nargs="+", metavar="function",
                   help="function(s) to trace (LIB:FUNC)")
    opts = p.parse_args(argv)
    if not 0 <= opts.arguments <= 6:
        p.error("-a takes 0 to 6 arguments")
    return opts


def _threshold_ns(opts: argparse.Namespace) -> int:
    if opts.min_us is not None:
        return int(opts.min_us * 1000)
    return int((opts.min_ms if opts.min_ms is not None else 1.0) * 1_000_000)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(funcslower_entry, funcslower_return).with_constants(
        {only_pid: opts.pid or 0, min_ns: _threshold_ns(opts)})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()
    targets: list[tuple[str, str, int]] = []      # (label, binary, offset)
    for spec in opts.functions:
        binary, pattern = split_probe_spec(spec)
        lib = spec.rsplit(":", 1)[0]
        targets.extend((f"{lib}:{name}", binary, off)
                       for name, off in match_functions(binary, pattern).items())
    in_us = opts.min_us is not None
    probes = PendingUprobes(pid=opts.pid)
    for i, (_, binary, offset) in enumerate(targets):
        probes.add("funcslower_entry", binary, [offset], retprogram="funcslower_return",
                   first_cookie=i)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        func = targets[ev.func][0] if ev.func < len(targets) else str(ev.func)
        lat = ev.delta_ns / (1e3 if in_us else 1e6)
        text = ""
        if opts.time:
            text += f"{common.wall_clock_hms():<10} "
        if opts.timestamp:
            text += f"{clock.seconds(ev.ts_ns):<17.9f} "
        text += f"{name:<14} {ev.tid:<6d} {lat:7.2f} {ev.retval:16x} {func}"
        args = [ev.arg1, ev.arg2, ev.arg3, ev.arg4, ev.arg5, ev.arg6][:opts.arguments]
        if args:
            text += " " + " ".join(f"0x{a:x}" for a in args)
        writer.event({"comm": name, "pid": ev.pid, "tid": ev.tid,
                      "lat_us" if in_us else "lat_ms": lat, "retval": ev.retval,
                      "func": func, "args": args}, text)

    with probes, probes.load(build(opts)) as coll:
        # the reader first: making it overlaps the kernel's first uprobe registration
        with common.ring_reader(coll, events, SlowCall, show, writer=writer) as reader:
            probes.attach(coll)
            unit = "us" if in_us else "ms"
            threshold = opts.min_us if in_us else (opts.min_ms or 1.0)
            if not opts.json:
                out.write(f"Tracing function calls slower than {threshold:g} {unit}... "
                          "Ctrl+C to quit.\n")
            header = f"{'TIME':<10} " if opts.time else ""
            header += f"{'TIME (s)':<17} " if opts.timestamp else ""
            header += f"{'COMM':<14} {'PID':<6} {'LAT(' + unit + ')':>7} {'RVAL':>16} FUNC"
            if opts.arguments:
                header += " ARGS"
            writer.header(header)
            common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("funcslower", parse_args, run, argv)
