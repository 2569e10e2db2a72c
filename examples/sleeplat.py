#!/usr/bin/env python3
"""sleeplat: a log2 histogram of how long clock_nanosleep() calls take, in microseconds
(enter/exit tracepoints, a start-time hash keyed by thread, a histogram map).

    sudo python examples/sleeplat.py [--pid PID] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import run_until

from pybpf.lang import Const, Hash, Log2Hist, bpf, ktime_ns, pid_tgid, u32, u64

start = Hash(u32, u64, max_entries=10240)
usecs = Log2Hist()
only_pid = Const(u32, 0)


@bpf.tracepoint("syscalls/sys_enter_clock_nanosleep")
def sleep_enter(ctx):
    ids = pid_tgid()
    if only_pid != 0 and (ids >> 32) != only_pid:
        return 0
    start[u32(ids)] = ktime_ns()
    return 0


@bpf.tracepoint("syscalls/sys_exit_clock_nanosleep")
def sleep_exit(ctx):
    tid = u32(pid_tgid())
    began = start.lookup(tid)
    if began:
        usecs.log2_increment((ktime_ns() - began[0]) // 1000)
        start.delete(tid)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--pid", type=int, default=0, help="only this process")
    parser.add_argument("-d", "--duration", type=float, default=None,
                        help="seconds to trace (default: until Ctrl-C)")
    args = parser.parse_args(argv)
    compiled = bpf.compile(sleep_enter, sleep_exit)
    with compiled.load(constants={only_pid: args.pid}) as coll:
        coll.attach()
        print("Tracing clock_nanosleep()... Ctrl-C to end.", flush=True)
        run_until(lambda: time.sleep(0.1), args.duration)
        coll.maps[usecs].print_log2_hist("usecs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
