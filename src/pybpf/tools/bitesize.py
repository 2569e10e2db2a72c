"""bitesize: block I/O sizes per process as log2 histograms of Kbytes, like BCC's bitesize.

``block:block_rq_issue`` counts each request's size under the issuing task's name::

    Process Name = dd
         Kbytes              : count     distribution
             0 -> 1          : 0        |                                        |
             2 -> 3          : 0        |                                        |
             4 -> 7          : 20       |****************************************|
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Hash, bpf, bytes16, comm, struct, u64
from . import common
from .histkit import SLOTS, add_interval_args, log2_slot, run_interval_reports

__all__ = ["parse_args", "build", "run", "main"]


class SizeKey(struct):
    name: bytes16
    slot: u64


sizes = Hash(SizeKey, u64, max_entries=10240)


@bpf.tracepoint("block/block_rq_issue")
def bitesize_issue(ctx):
    k = SizeKey()
    k.name = comm()
    k.slot = log2_slot(u64(ctx.bytes) // 1024)
    sizes.increment(k)
    return 0


EXAMPLES = """\
    ./bitesize            # block I/O sizes per process, printed at Ctrl-C
    ./bitesize 1 5        # every second, 5 times
    ./bitesize --json     # one JSON object per process histogram
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("bitesize", "Summarize block device I/O size as a histogram per "
                           "process", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    add_interval_args(p)
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(bitesize_issue)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    def report(coll: Any) -> None:
        view = coll.maps[sizes]
        hists: dict[str, list[int]] = {}
        for k, n in list(view.items()):
            counts = hists.setdefault(common.decode_str(k.name), [0] * SLOTS)
            if 0 <= k.slot < SLOTS:
                counts[k.slot] += n
        view.clear()
        for name in sorted(hists):
            if opts.json:
                buckets = [{"low": (1 << i) >> 1 if i > 1 else 0, "high": (1 << i) - 1,
                            "count": c} for i, c in enumerate(hists[name]) if c and i]
                if hists[name][0]:
                    buckets.insert(0, {"low": 0, "high": 0, "count": hists[name][0]})
                import json  # noqa: PLC0415 - only --json needs it
                out.write(json.dumps({"ts": common.wall_clock_hms(), "comm": name,
                                      "unit": "Kbytes", "buckets": buckets},
                                     separators=(",", ":")) + "\n")
            else:
                out.write(f"\nProcess Name = {name}\n")
                common.print_log2_hist(hists[name], "Kbytes", out=out)

    return run_interval_reports(opts, out, stop, compiled=build(opts),
                                banner="Tracing block I/O... Hit Ctrl-C to end.",
                                report=report, outputs=opts.count)


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("bitesize", parse_args, run, argv)
