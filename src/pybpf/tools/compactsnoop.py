"""compactsnoop: trace memory compaction, zone by zone, with its latency and outcome, like
BCC's compactsnoop.

``compaction:mm_compaction_begin``/``mm_compaction_end`` bracket each zone's compaction
(the zone is known by its first page frame, named from /proc/zoneinfo); a direct
compaction's order comes from ``mm_compaction_try_to_compact_pages`` before it (-1: a
whole-zone compaction, as /proc/sys/vm/compact_memory asks); the status names come from
the tracepoint's own format::

    COMM           PID    NODE ZONE         ORDER MODE      LAT(ms)           STATUS
    zsh            23685  0    ZONE_NORMAL  -1    SYNC        0.25          complete
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid,
    s32,
    struct,
    tid,
    u32,
    u64,
)
from . import common

__all__ = ["parse_args", "build", "run", "main", "status_names", "zone_names"]


class Started(struct):
    ts: u64
    order: s32
    sync: u32


class CompactEvent(struct):
    ts_ns: u64
    delta_ns: u64
    zone_start: u64
    pid: u32
    order: s32
    sync: u32
    status: s32
    comm: bytes16


orders = Hash(u32, s32, max_entries=10240)     # thread -> order of its direct compaction
started = Hash(u32, Started, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)


@bpf.tracepoint("compaction/mm_compaction_try_to_compact_pages")
def compactsnoop_direct(ctx):
    orders[tid()] = s32(ctx.order)
    return 0


@bpf.tracepoint("compaction/mm_compaction_begin")
def compactsnoop_begin(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    s = Started()
    s.ts = ktime_ns()
    s.order = -1
    o = orders.lookup(tid())
    if o:
        s.order = o[0]
    s.sync = u32(ctx.sync)
    started[tid()] = s
    return 0


@bpf.tracepoint("compaction/mm_compaction_end")
def compactsnoop_end(ctx):
    thread = tid()
    s = started.lookup(thread)
    if not s:
        return 0
    ev = events.reserve(CompactEvent)
    if ev:
        now = ktime_ns()
        ev.ts_ns = now
        ev.delta_ns = now - s[0].ts
        ev.zone_start = ctx.zone_start
        ev.pid = pid()
        ev.order = s[0].order
        ev.sync = s[0].sync
        ev.status = s32(ctx.status)
        ev.comm = comm()
        events.submit(ev)
    started.delete(thread)
    orders.delete(thread)
    return 0


@functools.cache
def status_names() -> dict[int, str]:
    """Compaction status number -> name, read off the end tracepoint's print format."""
    from ..kernel.tracefs import tracefs_root  # noqa: PLC0415
    path = os.path.join(tracefs_root(), "events", "compaction", "mm_compaction_end", "format")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}
    return {int(n): name for n, name in re.findall(r'\{(\d+), "(\w+)"\}', text)}


def zone_names(path: str = "/proc/zoneinfo") -> dict[int, tuple[int, str]]:
    """First page frame of each zone -> (node, ``ZONE_NAME``)."""
    zones: dict[int, tuple[int, str]] = {}
    node, zone = 0, ""
    with open(path) as f:
        for line in f:
            head = re.match(r"Node (\d+), zone\s+(\w+)", line)
            if head:
                node, zone = int(head.group(1)), head.group(2)
            elif line.strip().startswith("start_pfn:"):
                zones[int(line.split()[1])] = (node, f"ZONE_{zone.upper()}")
    return zones


EXAMPLES = """\
    ./compactsnoop          # trace all compaction stalls
    ./compactsnoop -T       # include timestamps
    ./compactsnoop -p 181   # only trace PID 181
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("compactsnoop", "Trace compact zone", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(compactsnoop_direct, compactsnoop_begin, compactsnoop_end
                       ).with_constants({only_pid: opts.pid or 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()
    statuses = status_names()
    zones = zone_names()

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        node, zone = zones.get(ev.zone_start, (-1, f"pfn {ev.zone_start:#x}"))
        mode = "SYNC" if ev.sync else "ASYNC"
        status = statuses.get(ev.status, str(ev.status))
        ms = ev.delta_ns / 1e6
        text = f"{clock.seconds(ev.ts_ns):<14.6f}" if opts.timestamp else ""
        text += (f"{name:<14} {ev.pid:<6d} {node:<4d} {zone:<12} {ev.order:<5d} {mode:<6} "
                 f"{ms:10.3f} {status:>16}")
        writer.event({"comm": name, "pid": ev.pid, "node": node, "zone": zone,
                      "order": ev.order, "mode": mode, "lat_ms": ms, "status": status}, text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, CompactEvent, show, writer=writer) as reader:
        header = f"{'TIME(s)':<14}" if opts.timestamp else ""
        header += (f"{'COMM':<14} {'PID':<6} {'NODE':<4} {'ZONE':<12} {'ORDER':<5} {'MODE':<6} "
                   f"{'LAT(ms)':>10} {'STATUS':>16}")
        writer.header(header)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("compactsnoop", parse_args, run, argv)
