"""Time from Ctrl-C to exit of the uprobe tools: what detaching their probes costs.

A perf-event uprobe's close waits for an RCU grace period under a kernel mutex, one probe
after the other, so a tool on many functions took seconds to end; attached as one
uprobe_multi link per program (Linux 6.6) they detach together. ``pybpf trace`` runs both
ways: its uprobe_multi links, and perf events as where the kernel lacks them. Spawns ``python -m pybpf
TOOL ARGS`` (the pybpf on PYTHONPATH: run it once per tree to compare), waits for its
ready line, lets it trace ``--settle`` s, sends SIGINT and times until the process is
gone. Medians of ``--runs`` runs.

Run as root: .venv/bin/python bench/bench_tool_exit.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

# `pybpf trace` with its uprobes as perf events even where uprobe_multi links exist (the
# fallback), to compare both on one tree
_PERF_UPROBES = ["-c", ("import runpy, pybpf.trace.uprobes as u; u.uses_multi = lambda: False; "
                        "runpy.run_module('pybpf', run_name='__main__', alter_sys=True)")]
_MEM = "uprobe:libc:mem* { @[probe] = count(); }"

CASES = [  # (tool, arguments, the line it prints once attached)
    ("funclatency", ["c:mem*"], "Tracing"),
    ("funccount", ["c:str*"], "Tracing"),
    ("stackcount", ["c:mem*"], "Tracing"),
    ("trace", ["-e", _MEM], "Attaching"),
    ("trace", ["-e", _MEM, "(perf events)"], "Attaching"),
]


def exit_time_s(tool: str, args: list[str], ready: str, settle_s: float) -> float:
    start_as = ["-m", "pybpf"]
    if args[-1] == "(perf events)":
        start_as, args = _PERF_UPROBES, args[:-1]
    proc = subprocess.Popen([sys.executable, *start_as, tool, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(ready):
                break
        else:
            raise RuntimeError(f"{tool} ended before it was ready")
        time.sleep(settle_s)
        start = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        proc.stdout.read()      # its report, then EOF when it exits
        proc.wait()
        return time.perf_counter() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=0.3)
    parser.add_argument("--only", help="the cases of this tool only (trace, funccount...)")
    args = parser.parse_args()
    rows = []
    for tool, targs, ready in CASES:
        if args.only and tool != args.only:
            continue
        times = [exit_time_s(tool, targs, ready, args.settle) for _ in range(args.runs)]
        rows.append((f"{tool} {' '.join(targs)}", statistics.median(times), max(times)))
    print(f"load average {os.getloadavg()[0]:.1f}, pybpf from "
          f"{os.path.dirname(__import__('pybpf').__file__)}")
    print("| Ctrl-C to exit | median (ms) | worst (ms) |")
    print("|---|---:|---:|")
    for name, median, worst in rows:
        print(f"| {name} | {median * 1e3:.0f} | {worst * 1e3:.0f} |")


if __name__ == "__main__":
    main()
