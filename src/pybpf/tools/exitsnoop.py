"""exitsnoop: trace process termination and its reason, like BCC's exitsnoop.

``sched:sched_process_exit`` fires in the exiting task, after ``exit_code`` is set; the
program reads it, the start time and the parent from the task (BTF)::

    PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE
    bash             19003  17656  19003  1.65    code 65
    sleep            19014  19013  19014  0.23    signal 2 (INT)

``exit_code`` holds the exit value in bits 15:8, or the signal in bits 6:0 with bit 7 set
when a core dump was asked for. Only thread-group leaders are shown unless --per-thread.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, RingBuf, bpf, bytes16, comm, current_task, ktime_ns, s32, struct, u32, u64
from . import common


class ExitEvent(struct):
    start_ns: u64
    exit_ns: u64
    pid: u32
    tid: u32
    ppid: u32
    exit_code: s32
    comm: bytes16


events = RingBuf(max_entries=1 << 18)
pid_filter = Const(u32, 0)
per_thread = Const(u32, 0)


@bpf.tracepoint("sched/sched_process_exit")
def exitsnoop_exit(ctx):
    task = current_task()
    tgid = u32(task.tgid)
    thread = u32(task.pid)
    if per_thread == 0 and tgid != thread:
        return 0
    if pid_filter != 0 and tgid != pid_filter:
        return 0
    ev = events.reserve(ExitEvent)
    if ev:
        ev.pid = tgid
        ev.tid = thread
        ev.start_ns = task.start_time
        ev.exit_code = task.exit_code
        ev.ppid = task.real_parent.tgid
        ev.exit_ns = ktime_ns()
        ev.comm = comm()
        events.submit(ev)
    return 0


EXAMPLES = """\
    exitsnoop                # trace all process termination
    exitsnoop -x             # trace only fails, exclude exit(0)
    exitsnoop -t             # include timestamps (local time)
    exitsnoop --utc          # include timestamps (UTC)
    exitsnoop -p 181         # only trace PID 181
    exitsnoop --label=exit   # label each output line with 'exit'
    exitsnoop --per-thread   # trace per thread termination
    exitsnoop --json         # one JSON object per exit
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """BCC's exitsnoop options (plus ``--json``)."""
    p = common.make_parser("exitsnoop", "Trace all process termination (exit, fatal signal)",
                           EXAMPLES)
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp (local time default)")
    p.add_argument("--utc", action="store_true", help="include timestamp in UTC (-t implied)")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("--label", help="label each line")
    p.add_argument("-x", "--failed", action="store_true",
                   help="trace only fails, exclude exit(0)")
    p.add_argument("--per-thread", action="store_true", help="trace per thread termination")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(exitsnoop_exit).with_constants({
        pid_filter: opts.pid or 0,
        per_thread: 1 if opts.per_thread else 0,
    })


def describe_exit(exit_code: int) -> str:
    """BCC's EXIT_CODE column: ``0``, ``code N``, or ``signal N (NAME)[, core dumped]``."""
    sig_info = exit_code & 0xFF
    if sig_info == 0:
        code = (exit_code >> 8) & 0xFF
        return "0" if code == 0 else f"code {code}"
    text = ""
    sig = sig_info & 0x7F
    if sig:
        try:
            name = signal.Signals(sig).name.removeprefix("SIG")
        except ValueError:
            name = "?"
        text = f"signal {sig} ({name})"
    if sig_info & 0x80:
        text += ", core dumped "
    return text


def header(opts: argparse.Namespace) -> str:
    cols = ""
    if opts.timestamp or opts.utc:
        cols += f"{'TIME-' + ('UTC' if opts.utc else time.strftime('%Z')):<13}"
    if opts.label is not None:
        cols += f"{'LABEL':<6}"
    return cols + (f"{'PCOMM':<16} {'PID':<6} {'PPID':<6} {'TID':<6} {'AGE(s)':<7} "
                   "EXIT_CODE")


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        if opts.failed and ev.exit_code == 0:
            return
        now = time.time()
        age_s = (ev.exit_ns - ev.start_ns) / 1e9
        name = common.decode_str(ev.comm)
        reason = describe_exit(ev.exit_code)
        text = ""
        if opts.timestamp or opts.utc:
            stamp = time.gmtime(now) if opts.utc else time.localtime(now)
            text += f"{time.strftime('%H:%M:%S', stamp)}.{int(now * 1000) % 1000:03d} "
        if opts.label is not None:
            text += f"{opts.label:<6}"
        text += f"{name:<16} {ev.pid:<6d} {ev.ppid:<6d} {ev.tid:<6d} {age_s:<7.2f} {reason}"
        writer.event({"time": round(now, 3), "pcomm": name, "pid": ev.pid, "ppid": ev.ppid,
                      "tid": ev.tid, "age_s": round(age_s, 6), "exit_code": ev.exit_code,
                      "reason": reason}, text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, ExitEvent, show, writer=writer) as reader:
        writer.header(header(opts))
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("exitsnoop", parse_args, run, argv)
