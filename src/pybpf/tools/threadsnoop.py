"""threadsnoop: list new threads as they are created, like BCC's threadsnoop.

A uprobe on libc's ``pthread_create()`` sends the caller and the thread's start
function (its fourth argument), named from the caller's symbols::

    TIME(ms)   PID     COMM             FUNC
    1136       23521   python3          thread_run
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import RingBuf, bpf, bytes16, comm, ktime_ns, pid, struct, u32, u64
from . import common
from .symbols import Symbolizer
from .uprobes import PendingUprobes, library_path

__all__ = ["parse_args", "build", "run", "main"]


class ThreadEvent(struct):
    ts_ns: u64
    start: u64
    pid: u32
    pad: u32
    comm: bytes16


events = RingBuf(max_entries=1 << 16)


@bpf.uprobe()
def threadsnoop_create(ctx):
    ev = events.reserve(ThreadEvent)
    if ev:
        ev.ts_ns = ktime_ns()
        ev.start = ctx.arg3
        ev.pid = pid()
        ev.comm = comm()
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./threadsnoop          # list new threads
    ./threadsnoop --json   # one JSON object per thread
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("threadsnoop", "List new thread creation (pthread_create)",
                           EXAMPLES)
    p.add_argument("-l", "--library", default="c",
                   help="the library holding pthread_create (default: libc)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(threadsnoop_create)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()
    symbols = Symbolizer()
    library = library_path(opts.library)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        func = symbols.user_name(ev.pid, ev.start)
        ms = clock.seconds(ev.ts_ns) * 1000
        writer.event({"time_ms": int(ms), "pid": ev.pid, "comm": name, "func": func},
                     f"{int(ms):<10d} {ev.pid:<7d} {name:<16} {func}")

    probes = PendingUprobes()
    probes.add_functions("threadsnoop_create", library, ["pthread_create"])
    with probes, probes.load(build(opts)) as coll:
        # the reader first: making it overlaps the kernel's first uprobe registration
        with common.ring_reader(coll, events, ThreadEvent, show, writer=writer) as reader:
            probes.attach(coll)
            writer.header(f"{'TIME(ms)':<10} {'PID':<7} {'COMM':<16} FUNC")
            common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("threadsnoop", parse_args, run, argv)
