"""swapin: count swap-ins by process, like BCC's swapin.

A kprobe on ``swap_read_folio()`` (the kernel has no swap-in tracepoint) counts per
process; each interval prints the counts. On a kernel without kprobes the tool says so at
start and exits::

    COMM             PID    COUNT
    chrome           21346  32
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Hash, bpf, bytes16, comm, pid, struct, u32, u64
from . import common
from .histkit import run_interval_reports
from .kprobes import require_kprobes

__all__ = ["parse_args", "build", "run", "main", "KPROBES"]

KPROBES = ("swap_read_folio",)


class SwapKey(struct):
    pid: u32
    pad: u32
    comm: bytes16


swapins = Hash(SwapKey, u64, max_entries=10240)


@bpf.kprobe("swap_read_folio")
def swapin_read(ctx):
    k = SwapKey()
    k.pid = pid()
    k.comm = comm()
    swapins.increment(k)
    return 0


EXAMPLES = """\
    ./swapin          # count swap-ins per process, every second
    ./swapin -T 5     # every 5 seconds, no timestamps
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("swapin", "Count swapins by process", EXAMPLES)
    p.add_argument("-T", "--notime", action="store_true", help="do not show the timestamp")
    p.add_argument("interval", nargs="?", type=common.positive_int, default=1,
                   help="output interval, in seconds")
    p.add_argument("count", nargs="?", type=common.positive_int, help="number of outputs")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(swapin_read)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    require_kprobes(KPROBES)
    writer = common.EventWriter(out, as_json=opts.json)
    opts.timestamp = not opts.notime

    def report(coll: Any) -> None:
        view = coll.maps[swapins]
        rows = sorted(view.items(), key=lambda kv: kv[1])
        view.clear()
        writer.header(f"{'COMM':<16} {'PID':<6} COUNT")
        for k, n in rows:
            name = common.decode_str(k.comm)
            writer.event({"comm": name, "pid": k.pid, "count": n},
                         f"{name:<16} {k.pid:<6d} {n}")

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Counting swap ins. Ctrl-C to end.", report=report,
                                outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("swapin", parse_args, run, argv)
