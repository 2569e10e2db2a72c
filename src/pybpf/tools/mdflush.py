"""mdflush: trace md (software RAID) flush requests, like BCC's mdflush.

BCC hooks ``md_flush_request()`` with a kprobe; every flush reaches an md device as a
bio with PREFLUSH set, which ``block:block_bio_queue`` shows (``rwbs`` starting with
``F``) with the device and the task that sent it. md devices have major 9; ``-a`` shows
flushes to every block device::

    Tracing md flush requests... Hit Ctrl-C to end.
    TIME     PID    COMM             DEVICE
    03:13:49 16770  sync             md0
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, RingBuf, bpf, bytes16, comm, pid, struct, u32
from . import common
from .blockio import disk_name

__all__ = ["parse_args", "build", "run", "main"]

MD_MAJOR = 9


class FlushEvent(struct):
    pid: u32
    dev: u32
    comm: bytes16


events = RingBuf(max_entries=1 << 16)
only_major = Const(u32, MD_MAJOR)      # 0: every device


@bpf.tracepoint("block/block_bio_queue")
def mdflush_bio(ctx):
    if ctx.rwbs[0] != 70:       # 'F': PREFLUSH
        return 0
    dev: u32 = ctx.dev
    if only_major != 0 and (dev >> 20) != only_major:
        return 0
    ev = events.reserve(FlushEvent)
    if ev:
        ev.pid = pid()
        ev.dev = dev
        ev.comm = comm()
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./mdflush        # trace md flush requests
    ./mdflush -a     # flush requests to any block device
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("mdflush", "Trace md flush events", EXAMPLES)
    p.add_argument("-a", "--all-disks", action="store_true",
                   help="trace flushes to every block device, not only md ones")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(mdflush_bio).with_constants(
        {only_major: 0 if opts.all_disks else MD_MAJOR})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        name, disk = common.decode_str(ev.comm), disk_name(ev.dev)
        writer.event({"pid": ev.pid, "comm": name, "device": disk},
                     f"{common.wall_clock_hms():<8} {ev.pid:<6d} {name:<16} {disk}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, FlushEvent, show, writer=writer) as reader:
        if not opts.json:
            out.write("Tracing md flush requests... Hit Ctrl-C to end.\n")
        writer.header(f"{'TIME':<8} {'PID':<6} {'COMM':<16} DEVICE")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("mdflush", parse_args, run, argv)
