"""killsnoop: trace signals sent with kill(), like BCC's killsnoop.

``syscalls:sys_enter_kill`` keeps the target pid and signal per thread; the exit
tracepoint sends them with the result::

    TIME      PID    COMM             SIG  TPID   RESULT
    12:10:51  13967  bash             9    13885  0

-p (sender), -T (target) and -s (signal) filter in the kernel; -x here.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, Hash, RingBuf, bpf, bytes16, comm, pid, s32, struct, tid, u32
from . import common


class KillStart(struct):
    tpid: s32
    sig: s32


class KillEvent(struct):
    pid: u32
    tpid: s32
    sig: s32
    ret: s32
    comm: bytes16


starts = Hash(u32, KillStart, max_entries=10240)
events = RingBuf(max_entries=1 << 18)
pid_filter = Const(u32, 0)
tpid_filter = Const(s32, 0)
signal_filter = Const(s32, 0)


@bpf.tracepoint("syscalls/sys_enter_kill")
def killsnoop_enter(ctx):
    if pid_filter != 0 and pid() != pid_filter:
        return 0
    if tpid_filter != 0 and s32(ctx.pid) != tpid_filter:
        return 0
    if signal_filter != 0 and s32(ctx.sig) != signal_filter:
        return 0
    start = KillStart()
    start.tpid = s32(ctx.pid)
    start.sig = s32(ctx.sig)
    starts[tid()] = start
    return 0


@bpf.tracepoint("syscalls/sys_exit_kill")
def killsnoop_exit(ctx):
    thread = tid()
    start = starts.lookup(thread)
    if start:
        ev = events.reserve(KillEvent)
        if ev:
            ev.ret = s32(ctx.ret)
            ev.tpid = start.tpid
            ev.sig = start.sig
            ev.pid = pid()
            ev.comm = comm()
            events.submit(ev)
        starts.delete(thread)
    return 0


EXAMPLES = """\
    ./killsnoop           # trace all kill() signals
    ./killsnoop -x        # only show failed kills
    ./killsnoop -p 181    # only trace PID 181
    ./killsnoop -T 189    # only trace target PID 189
    ./killsnoop -s 9      # only trace signal 9
    ./killsnoop --json    # one JSON object per kill()
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """BCC's killsnoop options (plus ``--json``)."""
    p = common.make_parser("killsnoop", "Trace signals issued by the kill() syscall", EXAMPLES)
    p.add_argument("-x", "--failed", action="store_true", help="only show failed kill syscalls")
    p.add_argument("-p", "--pid", type=common.positive_int,
                   help="trace this PID only which is the sender of signal")
    p.add_argument("-T", "--tpid", type=common.positive_int,
                   help="trace this target PID only which is the receiver of signal")
    p.add_argument("-s", "--signal", type=common.positive_int, help="trace this signal only")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(killsnoop_enter, killsnoop_exit).with_constants({
        pid_filter: opts.pid or 0,
        tpid_filter: opts.tpid or 0,
        signal_filter: opts.signal or 0,
    })


HEADER = f"{'TIME':<9} {'PID':<6} {'COMM':<16} {'SIG':<4} {'TPID':<6} RESULT"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        if opts.failed and ev.ret >= 0:
            return
        name = common.decode_str(ev.comm)
        text = (f"{common.wall_clock_hms():<9} {ev.pid:<6d} {name:<16} {ev.sig:<4d} "
                f"{ev.tpid:<6d} {ev.ret}")
        writer.event({"pid": ev.pid, "comm": name, "sig": ev.sig, "tpid": ev.tpid,
                      "result": ev.ret}, text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, KillEvent, show, writer=writer) as reader:
        writer.header(HEADER)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("killsnoop", parse_args, run, argv)
