"""Start-up time of the TCP, OOM/capability/reclaim and profiling tools beside bpftrace's
equivalent one-liners, and the overhead of tcplife on a loopback connect loop.

Start-up: from spawning ``python -m pybpf TOOL`` until its first line (the header, printed
once everything is attached), beside bpftrace from spawn until "Attaching N probes".
Overhead: loopback connect+accept+close per second with and without the tool running.
Medians of 5 runs. Run as root: ``.venv/bin/python bench/bench_tools_net_prof.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

RUNS = 5
# tool argv, bpftrace program with the same hook
TOOLS = {
    "tcplife": ([], "tracepoint:sock:inet_sock_set_state { @[args->newstate] = count(); }"),
    "tcpstates": ([], "tracepoint:sock:inet_sock_set_state { printf(\"%d\\n\", args->newstate); }"),
    "tcpconnect": ([], "tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf(\"%d\\n\", pid); }"),
    "tcpaccept": ([], "tracepoint:syscalls:sys_exit_accept4 { printf(\"%d\\n\", pid); }"),
    "oomkill": ([], "tracepoint:oom:mark_victim { printf(\"%d\\n\", args->pid); }"),
    "capable": ([], "tracepoint:capability:cap_capable { @[args->cap] = count(); }"),
    "drsnoop": ([], "tracepoint:vmscan:mm_vmscan_direct_reclaim_begin { @s[tid] = nsecs; }"),
    "profile": (["-F", "49"], "profile:hz:49 { @[kstack, ustack] = count(); }"),
    "offcputime": ([], "tracepoint:sched:sched_switch { @[kstack] = count(); }"),
}


def _time_to_line(argv: list[str], predicate, env=None) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if predicate(line):
                return time.perf_counter() - start
        raise RuntimeError(f"{argv}: ended without the expected line")
    finally:
        # start-up only: a kill (the kernel frees everything with the fds) skips the
        # end-of-run reports (offcputime symbolises every stack in the system)
        proc.kill()
        proc.communicate()


def pybpf_startup(tool: str, args: list[str]) -> float:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return statistics.median(_time_to_line([sys.executable, "-m", "pybpf", tool, *args],
                                           lambda ln: ln.strip() != "", env)
                             for _ in range(RUNS))


def bpftrace_startup(program: str) -> float | None:
    if not shutil.which("bpftrace"):
        return None
    return statistics.median(_time_to_line(["bpftrace", "-e", program],
                                           lambda ln: ln.startswith("Attaching"))
                             for _ in range(RUNS))


def connects_per_s(seconds: float = 1.0) -> float:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        addr = listener.getsockname()
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            c = socket.create_connection(addr)
            s, _ = listener.accept()
            c.close()
            s.close()
            n += 1
    return n / seconds


def overhead(tool: str) -> tuple[float, float]:
    base = statistics.median(connects_per_s() for _ in range(RUNS))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "pybpf", tool], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    time.sleep(1.5)
    try:
        traced = statistics.median(connects_per_s() for _ in range(RUNS))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    return base, traced


def main() -> None:
    print("| tool | pybpf start-up (ms) | bpftrace one-liner (ms) |")
    print("|---|---:|---:|")
    for tool, (args, program) in TOOLS.items():
        ours = pybpf_startup(tool, args)
        theirs = bpftrace_startup(program)
        shown = f"{theirs * 1000:.0f}" if theirs is not None else "n/a"
        print(f"| {tool} | {ours * 1000:.0f} | {shown} |", flush=True)
    print()
    print("| workload | without tool (/s) | with tool (/s) | slowdown |")
    print("|---|---:|---:|---:|")
    for tool in ("tcplife", "tcpstates"):
        base, traced = overhead(tool)
        print(f"| loopback connect+accept+close, {tool} | {base:.0f} | {traced:.0f} | "
              f"{(1 - traced / base) * 100:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
