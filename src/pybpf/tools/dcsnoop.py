"""dcsnoop: trace directory entry cache (dcache) lookups, like BCC's dcsnoop.

A kretprobe on ``d_lookup()`` sees misses (it returned NULL) with the name looked up; a
kprobe on ``lookup_fast()`` counts references with ``-a``. Both are kprobes: on a kernel
without them the tool says so at start and exits::

    TIME(s)     PID    COMM             T FILE
    0.005463    2663   cat              M zzz
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    kernel_struct,
    ktime_ns,
    pid,
    probe_read_kernel_str,
    string,
    struct,
    tid,
    u32,
    u64,
)
from . import common
from .kprobes import require_kprobes

__all__ = ["parse_args", "build", "run", "main", "KPROBES"]

KPROBES = ("d_lookup", "lookup_fast")
NAME_SIZE = 64
REFERENCE, MISS = ord("R"), ord("M")


class LookupEvent(struct):
    ts_ns: u64
    pid: u32
    kind: u32
    comm: bytes16
    name: Annotated[bytes, string(NAME_SIZE)]


names = Hash(u32, u64, max_entries=10240)      # thread -> struct qstr * being looked up
events = RingBuf(max_entries=1 << 18)


@bpf.kprobe("lookup_fast")
def dcsnoop_fast(ctx):
    ev = events.reserve(LookupEvent)
    if ev:
        ev.ts_ns = ktime_ns()
        ev.pid = pid()
        ev.kind = REFERENCE
        ev.comm = comm()
        nd = kernel_struct("nameidata", ctx.arg1)
        ev.name = probe_read_kernel_str(NAME_SIZE, nd.last.name)
        events.submit(ev)
    return 0


@bpf.kprobe("d_lookup")
def dcsnoop_lookup(ctx):
    names[tid()] = ctx.arg2
    return 0


@bpf.kretprobe("d_lookup")
def dcsnoop_lookup_ret(ctx):
    thread = tid()
    qstr = names.lookup(thread)
    if not qstr:
        return 0
    if ctx.ret == 0:
        ev = events.reserve(LookupEvent)
        if ev:
            ev.ts_ns = ktime_ns()
            ev.pid = pid()
            ev.kind = MISS
            ev.comm = comm()
            ev.name = probe_read_kernel_str(NAME_SIZE, kernel_struct("qstr", qstr[0]).name)
            events.submit(ev)
    names.delete(thread)
    return 0


EXAMPLES = """\
    ./dcsnoop           # trace failed dcache lookups
    ./dcsnoop -a        # trace all dcache lookups
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("dcsnoop", "Trace directory entry cache (dcache) lookups",
                           EXAMPLES)
    p.add_argument("-a", "--all", action="store_true", help="trace all lookups (default is "
                   "fails only)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    programs = [dcsnoop_lookup, dcsnoop_lookup_ret]
    if opts.all:
        programs.append(dcsnoop_fast)
    return bpf.compile(*programs)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    require_kprobes(KPROBES if opts.all else KPROBES[:1])
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()

    def show(ev: Any) -> None:
        name, file = common.decode_str(ev.comm), common.decode_str(ev.name)
        kind = chr(ev.kind)
        writer.event({"pid": ev.pid, "comm": name, "type": kind, "file": file},
                     f"{clock.seconds(ev.ts_ns):<11.6f} {ev.pid:<6d} {name:<16} {kind} {file}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, LookupEvent, show, writer=writer) as reader:
        writer.header(f"{'TIME(s)':<11} {'PID':<6} {'COMM':<16} T FILE")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("dcsnoop", parse_args, run, argv)
