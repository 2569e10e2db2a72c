"""sigsnoop: trace signals as the kernel generates them, like BCC's sigsnoop.

``signal:signal_generate`` fires in the sender for every signal (kill(), tgkill(), the
kernel's own SIGCHLD, SIGSEGV...), with the target pid and what became of it::

    TIME     PID     COMM             SIG       TPID    RESULT
    19:56:14 3204808 a.out            11        3204808 0

-p (sender), -t (target), -s (signal) filter in the kernel; -x (failed only), -k (kill()
only, through ``syscalls:sys_enter_kill``) and -n (signal names) as BCC's.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, RingBuf, bpf, bytes16, comm, pid, s32, struct, u32
from . import common

__all__ = ["parse_args", "build", "run", "main", "signal_name"]


class SigEvent(struct):
    pid: u32
    tpid: s32
    sig: s32
    ret: s32
    comm: bytes16


events = RingBuf(max_entries=1 << 18)
pid_filter = Const(u32, 0)
tpid_filter = Const(s32, 0)
signal_filter = Const(s32, 0)
failed_only = Const(u32, 0)


@bpf.tracepoint("signal/signal_generate")
def sigsnoop_generate(ctx):
    if pid_filter != 0 and pid() != pid_filter:
        return 0
    if tpid_filter != 0 and s32(ctx.pid) != tpid_filter:
        return 0
    if signal_filter != 0 and s32(ctx.sig) != signal_filter:
        return 0
    if failed_only != 0 and s32(ctx.errno) == 0:
        return 0
    ev = events.reserve(SigEvent)
    if ev:
        ev.pid = pid()
        ev.tpid = s32(ctx.pid)
        ev.sig = s32(ctx.sig)
        ev.ret = s32(ctx.errno)
        ev.comm = comm()
        events.submit(ev)
    return 0


@bpf.tracepoint("syscalls/sys_enter_kill")
def sigsnoop_kill(ctx):
    if pid_filter != 0 and pid() != pid_filter:
        return 0
    if tpid_filter != 0 and s32(ctx.pid) != tpid_filter:
        return 0
    if signal_filter != 0 and s32(ctx.sig) != signal_filter:
        return 0
    ev = events.reserve(SigEvent)
    if ev:
        ev.pid = pid()
        ev.tpid = s32(ctx.pid)
        ev.sig = s32(ctx.sig)
        ev.ret = 0
        ev.comm = comm()
        events.submit(ev)
    return 0


def signal_name(sig: int) -> str:
    """``SIGTERM`` for 15; the number for a signal Python has no name for."""
    try:
        return signal.Signals(sig).name
    except ValueError:
        return str(sig)


EXAMPLES = """\
    ./sigsnoop             # trace signals system-wide
    ./sigsnoop -k          # trace signals issued by kill syscall only
    ./sigsnoop -x          # trace failed signals only
    ./sigsnoop -p 1216     # only trace PID 1216
    ./sigsnoop -t 1216     # only trace target PID 1216
    ./sigsnoop -s 9        # only trace signal 9
    ./sigsnoop -n          # print signal names
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("sigsnoop", "Trace standard and real-time signals", EXAMPLES)
    p.add_argument("-x", "--failed", action="store_true", help="trace failed signals only")
    p.add_argument("-k", "--kill", action="store_true",
                   help="trace signals issued by kill syscall only")
    p.add_argument("-p", "--pid", type=common.positive_int, help="process ID to trace")
    p.add_argument("-t", "--tid", type=common.positive_int, help="target process ID to trace")
    p.add_argument("-s", "--signal", type=common.positive_int, help="signal to trace")
    p.add_argument("-n", "--name", action="store_true", help="output signal name instead of "
                   "signal number")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    program = sigsnoop_kill if opts.kill else sigsnoop_generate
    return bpf.compile(program).with_constants({
        pid_filter: opts.pid or 0, tpid_filter: opts.tid or 0,
        signal_filter: opts.signal or 0, failed_only: 1 if opts.failed else 0})


HEADER = f"{'TIME':<8} {'PID':<7} {'COMM':<16} {'SIG':<9} {'TPID':<7} RESULT"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        sig = signal_name(ev.sig) if opts.name else str(ev.sig)
        writer.event({"pid": ev.pid, "comm": name, "sig": ev.sig, "tpid": ev.tpid,
                      "result": ev.ret},
                     f"{common.wall_clock_hms():<8} {ev.pid:<7d} {name:<16} {sig:<9} "
                     f"{ev.tpid:<7d} {ev.ret}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, SigEvent, show, writer=writer) as reader:
        writer.header(HEADER)
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("sigsnoop", parse_args, run, argv)
