"""bashreadline: print the commands typed into every bash shell, like BCC's bashreadline.

A uretprobe on bash's ``readline()`` sees the returned line (``ctx.ret``, a user pointer
in the shell) and sends it with the pid; only tasks named ``bash`` count, as readline may
also live in a shared library other programs use::

    TIME      PID    COMMAND
    05:28:25  21176  ls -l
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import RingBuf, bpf, bytes16, comm, pid, probe_read_user_str, string, struct, u32
from . import common

LINE_SIZE = 256   # bytes kept of each command line
DEFAULT_SHELL = "/bin/bash"


class LineEvent(struct):
    pid: u32
    comm: bytes16
    line: Annotated[bytes, string(LINE_SIZE)]
events = RingBuf(max_entries=1 << 16)


@bpf.uretprobe()
def bashreadline_ret(ctx):
    if ctx.ret == 0:
        return 0
    ev = events.reserve(LineEvent)
    if ev:
        ev.comm = comm()
        ev.pid = pid()
        ev.line = probe_read_user_str(LINE_SIZE, ctx.ret)
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./bashreadline                       # trace bash readline() in /bin/bash
    ./bashreadline -s /usr/lib/libreadline.so  # readline in a shared library
    ./bashreadline --json                # one JSON object per command
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """BCC's bashreadline options (plus ``--json``)."""
    p = common.make_parser("bashreadline", "Print entered bash commands from all running "
                           "shells", EXAMPLES)
    p.add_argument("-s", "--shared", metavar="SHARED",
                   help="specify the location of libreadline.so library (default: "
                   f"readline in {DEFAULT_SHELL})")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(bashreadline_ret)


HEADER = f"{'TIME':<9} {'PID':<6} COMMAND"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    binary = opts.shared or DEFAULT_SHELL

    def show(ev: Any) -> None:
        if common.decode_str(ev.comm) != "bash":
            return
        line = common.decode_str(ev.line)
        writer.event({"pid": ev.pid, "command": line},
                     f"{common.wall_clock_hms():<9} {ev.pid:<6d} {line}")

    from ..kernel.links.uprobe import attach_uprobe  # noqa: PLC0415 - kernel on use

    with build(opts).load() as coll:
        # the binary is an option, so the section cannot name it: attach by hand; the
        # collection owns the link and detaches it on close
        coll.links.append(attach_uprobe(coll.programs["bashreadline_ret"], binary, "readline",
                                        retprobe=True))
        with common.ring_reader(coll, events, LineEvent, show, writer=writer) as reader:
            writer.header(HEADER)
            common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("bashreadline", parse_args, run, argv)
