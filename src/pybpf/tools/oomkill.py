"""oomkill: one line each time the OOM killer picks a victim.

From the ``oom:mark_victim`` tracepoint (BCC uses a kprobe on oom_kill_process). The
tracepoint runs in the task that hit the out-of-memory condition, so "Triggered by" is the
current task; the victim's PID and name come from the tracepoint's fields. BCC prints the
OOM control's ``totalpages`` (the memory limit in pages) which this tracepoint does not
carry: we print the victim's total VM in pages (``total_vm``, kB in the record, divided by
the page size) and say so in the column's words ("pages of VM").
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import RingBuf, bpf, bytes16, comm, pid_tgid, struct, u32, u64
from pybpf.tools import common

__all__ = ["parse_args", "build", "run", "main"]


class OomEvent(struct):
    total_vm_kb: u64
    anon_rss_kb: u64
    trigger_pid: u32
    victim_pid: u32
    trigger_comm: bytes16
    victim_comm: bytes16


oom_events = RingBuf(max_entries=1 << 16)


@bpf.tracepoint("oom/mark_victim")
def oomkill_victim(ctx):
    ev = oom_events.reserve(OomEvent)
    if ev:
        ev.trigger_pid = pid_tgid() >> 32
        ev.trigger_comm = comm()
        ev.victim_pid = ctx.pid
        ev.total_vm_kb = ctx.total_vm
        ev.anon_rss_kb = ctx.anon_rss
        # the record's comm is a __data_loc string the compiler cannot follow yet; in the
        # usual memcg OOM the allocating task is the victim, so its comm is ours
        if ctx.pid == ev.trigger_pid:
            ev.victim_comm = comm()
        oom_events.submit(ev)
    return 0


EXAMPLES = """
    ./oomkill             # trace OOM kills until Ctrl-C
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("oomkill", "Trace out-of-memory (OOM) kills", EXAMPLES)
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    return bpf.compile(oomkill_victim)


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return f.read().strip()
    except OSError:
        return "?"


def _comm_of(pid: int) -> str:
    """The victim's name while it is still dying ("?" once it is gone)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


class _Printer:
    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024

    def __call__(self, ev: Any) -> None:
        trigger, victim = common.decode_str(ev.trigger_comm), common.decode_str(ev.victim_comm)
        if not victim:
            victim = _comm_of(ev.victim_pid)
        pages = ev.total_vm_kb // self.page_kb
        load = _loadavg()
        fields = dict(time=common.wall_clock_hms(), trigger_pid=ev.trigger_pid,
                      trigger_comm=trigger, victim_pid=ev.victim_pid, victim_comm=victim,
                      total_vm_pages=pages, anon_rss_kb=ev.anon_rss_kb, loadavg=load)
        self.writer.event(fields, f'{fields["time"]} Triggered by PID {ev.trigger_pid} '
                          f'("{trigger}"), OOM kill of PID {ev.victim_pid} ("{victim}"), '
                          f'{pages} pages of VM, loadavg: {load}')


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop`` is set (or a signal unwinds us); returns the exit status."""
    printer = _Printer(opts, out)
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, oom_events, OomEvent, printer, as_json=opts.json) as reader:
        if not opts.json:
            printer.writer.header("Tracing OOM kills... Ctrl-C to stop.")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("oomkill", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
