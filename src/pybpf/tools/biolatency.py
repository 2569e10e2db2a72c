"""biolatency: block device I/O latency as a log2 histogram, BCC's output.

From the ``block:block_rq_issue`` / ``block:block_rq_complete`` tracepoints (with ``-Q``,
``block:block_rq_insert`` starts the clock, so time queued in the kernel counts). A
request is known by its device and start sector (the tracepoints carry no request
pointer). ``-D`` prints one histogram per disk (``disk = 'sda'``), ``-F`` one per set of
request flags, named as BCC names them (``flags = Sync-Write``), decoded from the
tracepoint's ``rwbs`` text.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import Const, Hash, bpf, ktime_ns, struct, u32, u64
from pybpf.tools import common
from pybpf.tools.histkit import HistKey, add_interval_args, log2_slot, run_histogram_tool

__all__ = ["parse_args", "build", "run", "main", "flags_name", "disk_name"]

# what each histogram key holds
BY_NONE, BY_DISK, BY_FLAGS = 0, 1, 2


class RequestKey(struct):
    dev: u64
    sector: u64


per_disk_or_flags = Const(u32, BY_NONE)
in_msecs = Const(u32, 0)
started = Hash(RequestKey, u64, max_entries=10240)
io_latency = Hash(HistKey, u64, max_entries=4096)


def remember_start(ctx):  # noqa: ANN001, ANN201 - inlined into the programs below
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    started[rk] = ktime_ns()
    return 0


@bpf.tracepoint("block/block_rq_insert")
def biolatency_insert(ctx):
    return remember_start(ctx)


@bpf.tracepoint("block/block_rq_issue")
def biolatency_issue(ctx):
    return remember_start(ctx)


@bpf.tracepoint("block/block_rq_complete")
def biolatency_complete(ctx):
    rk = RequestKey()
    rk.dev = ctx.dev
    rk.sector = ctx.sector
    start = started.lookup(rk)
    if not start:
        return 0
    delta = ktime_ns() - start[0]
    started.delete(rk)
    if in_msecs:
        delta = delta // 1000000
    else:
        delta = delta // 1000
    hk = HistKey()
    if per_disk_or_flags == BY_DISK:
        hk.key = ctx.dev
    elif per_disk_or_flags == BY_FLAGS:
        # the first 8 characters of rwbs ("WS", "RA", "FWFS"...), decoded in Python
        hk.key = (u64(ctx.rwbs[0]) | (u64(ctx.rwbs[1]) << 8) | (u64(ctx.rwbs[2]) << 16)
                  | (u64(ctx.rwbs[3]) << 24) | (u64(ctx.rwbs[4]) << 32)
                  | (u64(ctx.rwbs[5]) << 40) | (u64(ctx.rwbs[6]) << 48)
                  | (u64(ctx.rwbs[7]) << 56))
    hk.slot = log2_slot(delta)
    io_latency.increment(hk)
    return 0


# -- the Python half ------------------------------------------------------------------------

_OPS = {"R": "Read", "W": "Write", "D": "Discard", "E": "SecureErase", "N": None}


def flags_name(rwbs: str) -> str:
    """BCC's name for a request's flags from the kernel's rwbs text: the operation, each
    flag prefixed (``Sync-Write``, ``ForcedUnitAccess-Metadata-Sync-Write``,
    ``ReadAhead-Read``); a lone preflush is ``Flush``."""
    text = rwbs
    preflush = text.startswith("F")
    if preflush:
        text = text[1:]
    op_char, rest = (text[:1], text[1:]) if text else ("N", "")
    op = _OPS.get(op_char, "Unknown")
    if op is None:
        op = "Flush" if preflush else "Unknown"
    desc = op
    # BCC prefixes in this order: Sync, Metadata, ForcedUnitAccess, ..., ReadAhead
    if "S" in rest:
        desc = "Sync-" + desc
    if "M" in rest:
        desc = "Metadata-" + desc
    if "F" in rest:
        desc = "ForcedUnitAccess-" + desc
    if "A" in rest:
        desc = "ReadAhead-" + desc
    return desc


def _rwbs_text(key: int) -> str:
    return key.to_bytes(8, "little").split(b"\0", 1)[0].decode("ascii", "replace")


def _rwbs_key(key: int) -> int:
    """``key`` without the bytes after rwbs's NUL: the tracepoint leaves whatever was there,
    so one set of flags arrives under several keys (shown as one histogram)."""
    return int.from_bytes(key.to_bytes(8, "little").split(b"\0", 1)[0], "little")


def disk_name(dev: int) -> str:
    """The block device name of kernel ``dev_t`` ``dev`` (major << 20 | minor), from
    /sys/dev/block; ``MAJ:MIN`` when the device is gone."""
    major, minor = dev >> 20, dev & 0xFFFFF
    try:
        with open(f"/sys/dev/block/{major}:{minor}/uevent") as f:
            for line in f:
                if line.startswith("DEVNAME="):
                    return line.strip().split("=", 1)[1]
    except OSError:
        pass
    return f"{major}:{minor}"


EXAMPLES = """
    ./biolatency                    # summarize block I/O latency as a histogram
    ./biolatency 1 10               # print 1 second summaries, 10 times
    ./biolatency -mT 1              # 1s summaries, milliseconds, and timestamps
    ./biolatency -Q                 # include OS queued time in I/O time
    ./biolatency -D                 # show each disk device separately
    ./biolatency -F                 # show I/O flags separately
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("biolatency", "Summarize block device I/O latency as a "
                                "histogram", EXAMPLES)
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-Q", "--queued", action="store_true",
                        help="include OS queued time in I/O time")
    parser.add_argument("-m", "--milliseconds", action="store_true",
                        help="millisecond histogram")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-D", "--disks", action="store_true",
                       help="print a histogram per disk device")
    group.add_argument("-F", "--flags", action="store_true",
                       help="print a histogram per set of I/O flags")
    add_interval_args(parser)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled BPF half for ``opts`` (``-Q`` adds the insert program)."""
    programs = [biolatency_issue, biolatency_complete]
    if opts.queued:
        programs.insert(0, biolatency_insert)
    return bpf.compile(*programs).with_constants({
        per_disk_or_flags: BY_DISK if opts.disks else BY_FLAGS if opts.flags else BY_NONE,
        in_msecs: 1 if opts.milliseconds else 0,
    })


def _section(opts: argparse.Namespace) -> tuple[str | None, Any]:
    if opts.disks:
        return "disk", lambda dev: repr(disk_name(dev))
    if opts.flags:
        return "flags", lambda key: flags_name(_rwbs_text(key))
    return None, str


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop``, Ctrl-C or ``count`` intervals; print a histogram each interval
    (or once at the end)."""
    section, label = _section(opts)
    return run_histogram_tool(opts, out, stop, compiled=build(opts), hist_decl=io_latency,
                              banner="Tracing block device I/O... Hit Ctrl-C to end.",
                              unit="msecs" if opts.milliseconds else "usecs",
                              section=section, label=label,
                              key_of=_rwbs_key if opts.flags else None)


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("biolatency", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())

