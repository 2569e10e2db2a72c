#!/usr/bin/env python3
"""syscount: count system calls by number in a hash map, print the busiest (like BCC's).

    sudo python examples/syscount.py [--pid PID] [--duration SECONDS] [--top N]
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from _common import run_until

from pybpf.lang import Const, Hash, bpf, pid_tgid, u32, u64

counts = Hash(u32, u64, max_entries=1024)
only_pid = Const(u32, 0)          # .rodata: set before load, 0 means every process


@bpf.tracepoint("raw_syscalls/sys_enter")
def count_syscall(ctx):
    if only_pid != 0 and (pid_tgid() >> 32) != only_pid:
        return 0
    counts.increment(u32(ctx.id))
    return 0


def syscall_names(header: str = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
                  ) -> dict[int, str]:
    """Syscall numbers to names from the uapi header when it is installed."""
    try:
        with open(header, encoding="ascii") as f:
            found = re.findall(r"#define __NR_(\w+) (\d+)", f.read())
    except OSError:
        return {}
    return {int(number): name for name, number in found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--pid", type=int, default=0, help="only this process")
    parser.add_argument("-d", "--duration", type=float, default=None,
                        help="seconds to count (default: until Ctrl-C)")
    parser.add_argument("-T", "--top", type=int, default=10, help="how many to print")
    args = parser.parse_args(argv)
    names = syscall_names()
    with bpf.compile(count_syscall).load(constants={only_pid: args.pid}) as coll:
        coll.attach()
        print("Tracing syscalls... Ctrl-C to end.", flush=True)
        run_until(lambda: time.sleep(0.1), args.duration)
        ranked = sorted(coll.maps[counts].items(), key=lambda kv: -kv[1])[:args.top]
    print(f"{'SYSCALL':<22} {'COUNT':>10}")
    for number, n in ranked:
        print(f"{names.get(number, str(number)):<22} {n:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
