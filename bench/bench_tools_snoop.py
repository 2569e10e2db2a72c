"""The snoop tools: start-up to ready beside bpftrace, and the cost they add to a busy
fork/exec or open loop.

Start-up: from spawning ``python -m pybpf TOOL`` until its header line (printed once
every program is attached), beside bpftrace running the equivalent one-liner until its
"Attaching N probes..." line; medians of 5 runs. Overhead: execs/s of /bin/true and
open()+close()/s of one file with no tool, with the pybpf tool, and with bpftrace's
equivalent running (output drained to nowhere); medians of 5.

Run as root: .venv/bin/python bench/bench_tools_snoop.py
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
PYTHON = sys.executable

# tool -> the bpftrace program that sees the same events
BPFTRACE = {
    "execsnoop": 'tracepoint:syscalls:sys_enter_execve { printf("%d %s\\n", pid, '
                 'str(args->filename)); } tracepoint:syscalls:sys_exit_execve '
                 '{ printf("%d %d\\n", pid, args->ret); }',
    "exitsnoop": 'tracepoint:sched:sched_process_exit { printf("%s %d %d\\n", comm, pid, '
                 'curtask->exit_code); }',
    "killsnoop": 'tracepoint:syscalls:sys_enter_kill { @t[tid] = args->pid; } '
                 'tracepoint:syscalls:sys_exit_kill /@t[tid]/ { printf("%d %d %d\\n", pid, '
                 '@t[tid], args->ret); delete(@t[tid]); }',
    "opensnoop": 'tracepoint:syscalls:sys_enter_open,tracepoint:syscalls:sys_enter_openat '
                 '{ @f[tid] = args->filename; } tracepoint:syscalls:sys_exit_open,'
                 'tracepoint:syscalls:sys_exit_openat /@f[tid]/ { printf("%d %s %d\\n", pid, '
                 'str(@f[tid]), args->ret); delete(@f[tid]); }',
    "bashreadline": 'uretprobe:/bin/bash:readline { printf("%d %s\\n", pid, str(retval)); }',
    "statsnoop": 'tracepoint:syscalls:sys_enter_newstat,tracepoint:syscalls:sys_enter_newlstat'
                 ',tracepoint:syscalls:sys_enter_statx { @f[tid] = args->filename; } '
                 'tracepoint:syscalls:sys_exit_newstat,tracepoint:syscalls:sys_exit_newlstat,'
                 'tracepoint:syscalls:sys_exit_statx /@f[tid]/ { printf("%d %s %d\\n", pid, '
                 'str(@f[tid]), args->ret); delete(@f[tid]); }',
    "syncsnoop": 'tracepoint:syscalls:sys_enter_sync { printf("%lld sync()\\n", nsecs); }',
    "mountsnoop": 'tracepoint:syscalls:sys_enter_mount { @s[tid] = 1; } '
                  'tracepoint:syscalls:sys_exit_mount /@s[tid]/ { printf("%d %d\\n", pid, '
                  'args->ret); delete(@s[tid]); }',
}


class Running:
    """A tracer child; ``ready_s`` is how long it took to print ``ready_prefix``. Its
    output is drained afterwards so it never blocks on a full pipe."""

    def __init__(self, argv: list[str], ready_prefix: str):
        start = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(ready_prefix):
                break
        else:
            raise RuntimeError(f"{argv[:3]} ended before {ready_prefix!r}")
        self.ready_s = time.perf_counter() - start
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def pybpf_tool(name: str) -> Running:
    header_start = {"execsnoop": "PCOMM", "exitsnoop": "PCOMM", "killsnoop": "TIME",
                    "opensnoop": "PID", "bashreadline": "TIME", "statsnoop": "PID",
                    "syncsnoop": "TIME", "mountsnoop": "COMM"}[name]
    return Running([PYTHON, "-m", "pybpf", name], header_start)


def bpftrace(name: str) -> Running:
    return Running(["bpftrace", "-e", BPFTRACE[name]], "Attaching")


def median_ready_ms(start) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        run = start()
        times.append(run.ready_s * 1000)
        run.stop()
    return statistics.median(times)


def exec_rate(duration_s: float = 1.5) -> float:
    end = time.perf_counter() + duration_s
    n = 0
    while time.perf_counter() < end:
        subprocess.run(["/bin/true"])
        n += 1
    return n / duration_s


def open_rate(path: str, duration_s: float = 1.0) -> float:
    end = time.perf_counter() + duration_s
    n = 0
    while time.perf_counter() < end:
        for _ in range(200):
            os.close(os.open(path, os.O_RDONLY))
        n += 200
    return n / duration_s


def overhead_row(label: str, rate, tool: str) -> str:  # type: ignore[no-untyped-def]
    base = statistics.median(rate() for _ in range(RUNS))
    cols = [f"{base:,.0f}"]
    for start in (pybpf_tool, bpftrace):
        run = start(tool)
        try:
            with_tool = statistics.median(rate() for _ in range(RUNS))
        finally:
            run.stop()
        cost_pct = (1 - with_tool / base) * 100   # negative: within noise, faster
        cols.append(f"{with_tool:,.0f} ({cost_pct:+.1f}%)")
    return f"| {label} | " + " | ".join(cols) + " |"


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("run as root")
    have_bpftrace = shutil.which("bpftrace") is not None
    print("| tool | pybpf ready (ms) | bpftrace ready (ms) |")
    print("|---|---:|---:|")
    for name in BPFTRACE:
        ours = median_ready_ms(lambda: pybpf_tool(name))
        theirs = median_ready_ms(lambda: bpftrace(name)) if have_bpftrace else float("nan")
        print(f"| {name} | {ours:.0f} | {theirs:.0f} |", flush=True)
    print()
    print("| loop | no tool (/s) | with pybpf (/s, cost) | with bpftrace (/s, cost) |")
    print("|---|---:|---:|---:|")
    print(overhead_row("fork+exec /bin/true vs execsnoop", exec_rate, "execsnoop"), flush=True)
    with tempfile.NamedTemporaryFile() as f:
        print(overhead_row("open+close vs opensnoop", lambda: open_rate(f.name), "opensnoop"))


if __name__ == "__main__":
    main()
