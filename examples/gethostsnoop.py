#!/usr/bin/env python3
"""gethostsnoop: every getaddrinfo() call in libc with its host name and latency, through a
uprobe and a uretprobe on the C library (like BCC's gethostlatency).

    sudo python examples/gethostsnoop.py [--count N] [--duration SECONDS] [--libc PATH]
"""

from __future__ import annotations

import argparse
import sys
from typing import Annotated

from _common import run_until, text

from pybpf.lang import (
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid_tgid,
    probe_read_user_str,
    string,
    struct,
    u32,
    u64,
)


def find_libc() -> str:
    """The C library this Python runs on (from /proc/self/maps)."""
    with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
        for line in f:
            path = line.split()[-1]
            if "/libc.so" in path or "/libc-" in path:
                return path
    return "/lib/x86_64-linux-gnu/libc.so.6"


LIBC = find_libc()


class Lookup(struct):
    pid: u32
    started_ns: u64
    comm: bytes16
    host: Annotated[bytes, string(80)]
class Event(struct):
    pid: u32
    latency_us: u64
    comm: bytes16
    host: Annotated[bytes, string(80)]
pending = Hash(u32, Lookup, max_entries=4096)
events = RingBuf(max_entries=1 << 16)


@bpf.uprobe(LIBC, "getaddrinfo")
def lookup_start(ctx):
    ids = pid_tgid()
    entry = Lookup()
    entry.pid = ids >> 32
    entry.started_ns = ktime_ns()
    entry.comm = comm()
    entry.host = probe_read_user_str(80, ctx.arg1)   # const char *node
    pending[u32(ids)] = entry
    return 0


@bpf.uretprobe(LIBC, "getaddrinfo")
def lookup_done(ctx):
    tid = u32(pid_tgid())
    entry = pending.lookup(tid)
    if entry:
        ev = events.reserve(Event)
        if ev:
            ev.pid = entry.pid
            ev.latency_us = (ktime_ns() - entry.started_ns) // 1000
            ev.comm = entry.comm
            ev.host = entry.host
            events.submit(ev)
        pending.delete(tid)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, help="stop after this many lookups")
    parser.add_argument("-d", "--duration", type=float, help="stop after this many seconds")
    args = parser.parse_args(argv)
    seen = [0]

    def show(ev: Event) -> None:
        seen[0] += 1
        print(f"{ev.pid:<8} {text(ev.comm):<16} {ev.latency_us:>10} {text(ev.host)}",
              flush=True)

    with bpf.compile(lookup_start, lookup_done).load() as coll:
        coll.attach()
        print(f"{'PID':<8} {'COMM':<16} {'LAT(us)':>10} HOST", flush=True)
        reader = coll.ring_reader(events, show, Event)   # closed with coll
        run_until(lambda: reader.poll(100) >= 0 and
                  not (args.count and seen[0] >= args.count), args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
