"""biosnoop: trace block device I/O with process, disk and latency, like BCC's biosnoop.

``block:block_rq_issue`` (``-Q``: ``block_rq_insert`` too) remembers when, by whom and
how many bytes; ``block:block_rq_complete`` sends the finished request::

    TIME(s)     COMM           PID     DISK      T SECTOR     BYTES    LAT(ms)
    0.000000    dd             12345   loop0     W 0          4096       0.05
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, Hash, RingBuf, bpf, bytes16, comm, ktime_ns, pid, struct, u32, u64
from . import common
from .blockio import RequestKey, disk_name, is_write, rwbs_word

__all__ = ["parse_args", "build", "run", "main"]


class Issued(struct):
    queued_ns: u64
    issued_ns: u64
    pid: u32
    bytes: u32
    comm: bytes16


class IoEvent(struct):
    ts_ns: u64
    delta_ns: u64
    queue_ns: u64
    sector: u64
    rwbs: u64
    dev: u32
    pid: u32
    bytes: u32
    pad: u32
    comm: bytes16


issued = Hash(RequestKey, Issued, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
only_dev = Const(u32, 0)


@bpf.tracepoint("block/block_rq_insert")
def biosnoop_insert(ctx):
    if only_dev != 0 and ctx.dev != only_dev:
        return 0
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    st = Issued()
    st.queued_ns = ktime_ns()
    issued[rk] = st
    return 0


@bpf.tracepoint("block/block_rq_issue")
def biosnoop_issue(ctx):
    if only_dev != 0 and ctx.dev != only_dev:
        return 0
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    st = Issued()
    now = ktime_ns()
    st.queued_ns = now
    seen = issued.lookup(rk)
    if seen:
        st.queued_ns = seen[0].queued_ns
    st.issued_ns = now
    st.pid = pid()
    st.bytes = ctx.bytes
    st.comm = comm()
    issued[rk] = st
    return 0


@bpf.tracepoint("block/block_rq_complete")
def biosnoop_complete(ctx):
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    st = issued.lookup(rk)
    if not st:
        return 0
    now = ktime_ns()
    ev = events.reserve(IoEvent)
    if ev:
        ev.ts_ns = now
        ev.delta_ns = now - st[0].issued_ns
        ev.queue_ns = st[0].issued_ns - st[0].queued_ns
        ev.sector = ctx.sector
        ev.rwbs = rwbs_word(ctx)
        ev.dev = ctx.dev
        ev.pid = st[0].pid
        ev.bytes = st[0].bytes
        ev.comm = st[0].comm
        events.submit(ev)
    issued.delete(rk)
    return 0


EXAMPLES = """\
    ./biosnoop           # trace all block I/O
    ./biosnoop -Q        # include OS queued time
    ./biosnoop -d sdc    # trace sdc only
    ./biosnoop --json    # one JSON object per I/O
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("biosnoop", "Trace block I/O", EXAMPLES)
    p.add_argument("-Q", "--queue", action="store_true", help="include OS queued time")
    p.add_argument("-d", "--disk", help="trace this disk only")
    return p.parse_args(argv)


def disk_dev(name: str) -> int:
    """The kernel ``dev_t`` of block device ``name`` (``sda``, ``/dev/loop0``). Raises
    InvalidInputError for an unknown disk."""
    from ..errors import InvalidInputError  # noqa: PLC0415
    base = name.rpartition("/")[2]
    try:
        with open(f"/sys/class/block/{base}/dev") as f:
            major, minor = (int(x) for x in f.read().split(":"))
    except OSError:
        raise InvalidInputError(f"no such disk: {name!r} (see /sys/class/block)") from None
    return major << 20 | minor


def build(opts: argparse.Namespace) -> Any:
    programs = [biosnoop_issue, biosnoop_complete]
    if opts.queue:
        programs.insert(0, biosnoop_insert)
    return bpf.compile(*programs).with_constants(
        {only_dev: disk_dev(opts.disk) if opts.disk else 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()
    disks: dict[int, str] = {}
    header = (f"{'TIME(s)':<11} {'COMM':<14} {'PID':<7} {'DISK':<9} {'T':<1} {'SECTOR':<10} "
              f"{'BYTES':<7} ")
    header += f"{'QUE(ms)':>7} " if opts.queue else ""
    header += f"{'LAT(ms)':>7}"

    def show(ev: Any) -> None:
        disk = disks.get(ev.dev) or disks.setdefault(ev.dev, disk_name(ev.dev))
        name = common.decode_str(ev.comm)
        kind = "W" if is_write(ev.rwbs) else "R"
        ts = clock.seconds(ev.ts_ns)
        text = (f"{ts:<11.6f} {name[:14]:<14} {ev.pid:<7} {disk:<9} {kind:<1} {ev.sector:<10} "
                f"{ev.bytes:<7} ")
        if opts.queue:
            text += f"{ev.queue_ns / 1e6:7.2f} "
        text += f"{ev.delta_ns / 1e6:7.2f}"
        fields = {"ts": round(ts, 6), "comm": name, "pid": ev.pid, "disk": disk, "rw": kind,
                  "sector": ev.sector, "bytes": ev.bytes, "lat_ms": ev.delta_ns / 1e6}
        if opts.queue:
            fields["queue_ms"] = ev.queue_ns / 1e6
        writer.event(fields, text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, IoEvent, show, writer=writer) as reader:
        writer.header(header)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("biosnoop", parse_args, run, argv)
