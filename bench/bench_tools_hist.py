"""Start-up to ready of the counting/histogram tools beside bpftrace one-liners, and the
overhead of syscount on a getppid loop. Run: .venv/bin/python bench/bench_tools_hist.py

Ready = the tool's banner line on stdout (printed after attach); bpftrace's "Attaching".
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

RUNS = 5
TOOLS = {
    "syscount": ([], "tracepoint:raw_syscalls:sys_exit { @[args->id] = count(); }"),
    "funccount": (["t:sched:sched_process_*"],
                  "tracepoint:sched:sched_process_* { @[probe] = count(); }"),
    "biolatency": ([], "tracepoint:block:block_rq_issue { @s = nsecs; }"),
    "runqlat": ([], "tracepoint:sched:sched_wakeup { @[args->pid] = nsecs; }"),
    "cpudist": ([], "tracepoint:sched:sched_switch { @[args->prev_pid] = nsecs; }"),
    "hardirqs": ([], "tracepoint:irq:irq_handler_entry { @[args->irq] = count(); }"),
    "softirqs": ([], "tracepoint:irq:softirq_entry { @[args->vec] = count(); }"),
}


def time_to_line(cmd: list[str], marker: str) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker in line:
            break
    elapsed = time.perf_counter() - start
    # ours unwinds on SIGINT; bpftrace would print its whole map first, so it is killed
    if "bpftrace" in cmd[0]:
        proc.kill()
    else:
        proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    return elapsed


def median(cmd: list[str], marker: str) -> float:
    return statistics.median(time_to_line(cmd, marker) for _ in range(RUNS)) * 1000


def loop_rate(seconds: float = 1.0) -> float:
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(1000):
            os.getppid()
        n += 1000
    return n / seconds


def main() -> int:
    bpftrace = shutil.which("bpftrace")
    print("| tool | pybpf ready (ms) | bpftrace one-liner ready (ms) |")
    print("|---|---|---|")
    for name, (argv, script) in TOOLS.items():
        ours = median([sys.executable, "-m", "pybpf", name, *argv], "Tracing")
        theirs = f"{median([bpftrace, '-e', script], 'Attaching'):.0f}" if bpftrace else "n/a"
        print(f"| {name} | {ours:.0f} | {theirs} |")
    base = statistics.median(loop_rate() for _ in range(RUNS))
    proc = subprocess.Popen([sys.executable, "-m", "pybpf", "syscount"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()
    traced = statistics.median(loop_rate() for _ in range(RUNS))
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    print()
    print("| getppid loop | calls/s | overhead |")
    print("|---|---|---|")
    print(f"| untraced | {base:,.0f} | |")
    print(f"| under pybpf syscount | {traced:,.0f} | {100 * (1 - traced / base):.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
