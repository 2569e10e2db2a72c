"""What several benches share: the pcap expressions the filter benches time and the frames
they run them over, and the CPU time a process has used.

Imported by the benches beside it (a bench run as a script has bench/ on its path).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for tests.cbpf

# the filter benches' expressions (bench_filter, bench_filter_vm, bench_vm_filter_llvm)
FILTER_EXPRESSIONS = ["tcp port 80", "host 198.18.0.1 or 198.18.0.2", "tcp[13] & 2 != 0",
                      "vlan and udp port 53", "ip6 net 2001:db8::/32 and not icmp6",
                      "(tcp or udp) and not port 22 and net 198.18.0.0/15"]


def filter_frames(count: int) -> list[bytes]:
    """``count`` frames: the whole (uncut) Ethernet frames of tests/cbpf's packet corpus,
    repeated."""
    from tests.cbpf.packets import build_packets

    corpus = [d for _, d, w in build_packets() if len(d) == w >= 14]
    return [corpus[i % len(corpus)] for i in range(count)]


def packets_and_runs(argv: list[str] | None, doc: str, *, packets: int,
                     quick_packets: int) -> tuple[int, int]:
    """A filter bench's options: ``--packets N``, ``--runs R`` (5), and ``--quick``
    (``quick_packets``, 3 runs); ``doc`` (the bench's docstring) gives the description."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--packets", type=int, default=packets)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help=f"{quick_packets:,} packets, 3 runs")
    args = parser.parse_args(argv)
    return (quick_packets, 3) if args.quick else (args.packets, args.runs)


def runqueue_wait_ns(pid: int) -> int:
    """Time the main thread of ``pid`` has spent runnable but waiting for a CPU
    (schedstat's second field): on a machine other work keeps busy, wall time less this
    estimates the wall time the machine would give alone."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[1])


def process_cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` so far (schedstat: ns on a CPU)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total
