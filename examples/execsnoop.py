#!/usr/bin/env python3
"""execsnoop: one line per exec() system-wide, like BCC's execsnoop (ring buffer events).

    sudo python examples/execsnoop.py [--count N] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import sys
from typing import Annotated

from _common import run_until, text

from pybpf.lang import (
    RingBuf,
    bpf,
    bytes16,
    comm,
    current_task,
    pid_tgid,
    probe_read_user_str,
    string,
    struct,
    u32,
)


class Event(struct):
    pid: u32
    ppid: u32
    comm: bytes16
    filename: Annotated[bytes, string(64)]
events = RingBuf(max_entries=1 << 18)


@bpf.tracepoint("syscalls/sys_enter_execve")
def trace_exec(ctx):
    ev = events.reserve(Event)
    if ev:
        ev.pid = pid_tgid() >> 32
        ev.ppid = current_task().real_parent.tgid   # CO-RE: offsets from kernel BTF
        ev.comm = comm()                             # the caller's name, before the exec
        ev.filename = probe_read_user_str(64, ctx.filename)
        events.submit(ev)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, help="stop after this many events")
    parser.add_argument("-d", "--duration", type=float, help="stop after this many seconds")
    args = parser.parse_args(argv)
    seen = [0]

    def show(ev: Event) -> None:
        seen[0] += 1
        print(f"{ev.pid:<8} {ev.ppid:<8} {text(ev.comm):<16} {text(ev.filename)}", flush=True)

    with bpf.compile(trace_exec).load() as coll:
        coll.attach()
        print(f"{'PID':<8} {'PPID':<8} {'COMM':<16} FILENAME", flush=True)
        reader = coll.ring_reader(events, show, Event)   # closed with coll
        run_until(lambda: reader.poll(100) >= 0 and
                  not (args.count and seen[0] >= args.count), args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
