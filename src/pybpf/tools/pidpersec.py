"""pidpersec: count new processes (forks) per second, like BCC's pidpersec.

``sched:sched_process_fork`` bumps one counter; each second prints and clears it::

    Tracing... Ctrl-C to end.
    18:33:06: PIDs/sec: 4
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Array, bpf, u64
from . import common

__all__ = ["parse_args", "build", "run", "main"]

forks = Array(u64, max_entries=1)


@bpf.tracepoint("sched/sched_process_fork")
def pidpersec_fork(ctx):
    forks.increment(0)
    return 0


EXAMPLES = """\
    ./pidpersec           # new processes per second, until Ctrl-C
    ./pidpersec -d 10     # for 10 seconds
    ./pidpersec --json    # one JSON object per second
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("pidpersec", "Count new processes (via fork) per second", EXAMPLES)
    p.add_argument("-d", "--duration", type=common.positive_int,
                   help="total duration of trace, seconds")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(pidpersec_fork)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    with common.attached(build(opts)) as coll:
        view = coll.maps[forks]

        def tick() -> bool:
            n = view[0]
            view[0] = 0
            ts = common.wall_clock_hms()
            writer.event({"ts": ts, "pids_per_sec": n}, f"{ts}: PIDs/sec: {n}")
            return False

        writer.header("Tracing... Ctrl-C to end.")
        common.poll_until_stopped([], stop, duration_s=opts.duration, interval_s=1,
                                  on_interval=tick)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("pidpersec", parse_args, run, argv)
