"""gethostlatency: show latency of host name lookups, like BCC's gethostlatency.

Uprobes on libc's ``getaddrinfo()``, ``gethostbyname()`` and ``gethostbyname2()`` keep
the host name and the start time per thread; their uretprobes send the latency::

    TIME      PID     COMM                  LATms HOST
    06:10:24  28011   wget                  90.00 www.iovisor.org
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid,
    probe_read_user_str,
    string,
    struct,
    tid,
    u32,
    u64,
)
from . import common
from .uprobes import PendingUprobes, library_path

__all__ = ["parse_args", "build", "run", "main"]

HOST_SIZE = 80
FUNCTIONS = ["getaddrinfo", "gethostbyname", "gethostbyname2"]


class Lookup(struct):
    ts: u64
    host: Annotated[bytes, string(HOST_SIZE)]


class LookupEvent(struct):
    delta_ns: u64
    pid: u32
    pad: u32
    comm: bytes16
    host: Annotated[bytes, string(HOST_SIZE)]


lookups = Hash(u32, Lookup, max_entries=10240)
events = RingBuf(max_entries=1 << 16)
only_pid = Const(u32, 0)


@bpf.uprobe()
def gethostlatency_entry(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    start = Lookup()
    start.ts = ktime_ns()
    start.host = probe_read_user_str(HOST_SIZE, ctx.arg1)
    lookups[tid()] = start
    return 0


@bpf.uretprobe()
def gethostlatency_return(ctx):
    thread = tid()
    start = lookups.lookup(thread)
    if not start:
        return 0
    ev = events.reserve(LookupEvent)
    if ev:
        ev.delta_ns = ktime_ns() - start[0].ts
        ev.pid = pid()
        ev.comm = comm()
        ev.host = start[0].host
        events.submit(ev)
    lookups.delete(thread)
    return 0


EXAMPLES = """\
    ./gethostlatency           # time getaddrinfo/gethostbyname[2] calls
    ./gethostlatency -p 181    # only trace PID 181
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("gethostlatency", "Show latency for getaddrinfo/gethostbyname[2] "
                           "calls", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(gethostlatency_entry, gethostlatency_return).with_constants(
        {only_pid: opts.pid or 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    libc = library_path("c")

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        host = common.decode_str(ev.host)
        ms = ev.delta_ns / 1e6
        writer.event({"pid": ev.pid, "comm": name, "lat_ms": ms, "host": host},
                     f"{common.wall_clock_hms():<9} {ev.pid:<7d} {name:<16} {ms:10.2f} {host}")

    probes = PendingUprobes(pid=opts.pid)
    probes.add_functions("gethostlatency_entry", libc, FUNCTIONS,
                         retprogram="gethostlatency_return", missing_ok=True)
    with probes, probes.load(build(opts)) as coll:
        # the reader first: making it overlaps the kernel's first uprobe registration
        with common.ring_reader(coll, events, LookupEvent, show, writer=writer) as reader:
            probes.attach(coll)
            writer.header(f"{'TIME':<9} {'PID':<7} {'COMM':<16} {'LATms':>10} HOST")
            common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("gethostlatency", parse_args, run, argv)
