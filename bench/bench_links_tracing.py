"""Attach + detach of tracing links: pybpf beside libbpf (C) on the same clang-built object.

Each row times one attach and its detach (link closed), medians of 5 runs of 50:
a tracepoint (tracefs id, perf_event_open, bpf link), a raw tracepoint, and a uprobe on
libc's getpid by symbol (ELF symbol lookup included: libbpf does it too, every time).

Run as root: .venv/bin/python bench/bench_links_tracing.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pybpf import load_collection_spec  # noqa: E402
from pybpf.kernel import Map, Program  # noqa: E402
from pybpf.kernel.links import attach_raw_tracepoint, attach_tracepoint, attach_uprobe  # noqa: E402
from tests.bpfobjs import build_object  # noqa: E402

N = 50
RUNS = 5
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"

C_REFERENCE = r"""
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
    if (!obj || bpf_object__load(obj)) return 1;
    struct bpf_program *tp = bpf_object__find_program_by_name(obj, "lt_exec_tp");
    struct bpf_program *raw = bpf_object__find_program_by_name(obj, "lt_exec_raw");
    struct bpf_program *up = bpf_object__find_program_by_name(obj, "lt_uprobe");
    LIBBPF_OPTS(bpf_uprobe_opts, uopts, .func_name = "getpid");
    for (int run = 0; run < 5; run++) {
        double t0 = now();
        for (int i = 0; i < 50; i++)
            bpf_link__destroy(bpf_program__attach_tracepoint(tp, "syscalls", "sys_enter_execve"));
        double t1 = now();
        for (int i = 0; i < 50; i++)
            bpf_link__destroy(bpf_program__attach_raw_tracepoint(raw, "sched_process_exec"));
        double t2 = now();
        for (int i = 0; i < 50; i++) {
            struct bpf_link *l = bpf_program__attach_uprobe_opts(up, -1, argv[2], 0, &uopts);
            if (!l) return 2;
            bpf_link__destroy(l);
        }
        double t3 = now();
        printf("%f %f %f\n", (t1 - t0) / 50, (t2 - t1) / 50, (t3 - t2) / 50);
    }
    return 0;
}
"""


def _median_us(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(N):
            fn().close()
        times.append((time.perf_counter() - start) / N)
    return statistics.median(times) * 1e6


def pybpf_rows(obj: Path) -> list[float]:
    collection = load_collection_spec(obj)
    with Map.create(collection.maps["counts"]) as counts:
        progs = {name: Program.load(spec, maps={"counts": counts})
                 for name, spec in collection.programs.items()}
        try:
            return [
                _median_us(lambda: attach_tracepoint(progs["lt_exec_tp"], "syscalls",
                                                     "sys_enter_execve")),
                _median_us(lambda: attach_raw_tracepoint(progs["lt_exec_raw"],
                                                         "sched_process_exec")),
                _median_us(lambda: attach_uprobe(progs["lt_uprobe"], LIBC, "getpid")),
            ]
        finally:
            for prog in progs.values():
                prog.close()


def libbpf_rows(obj: Path) -> list[float] | None:
    compiler = shutil.which("gcc")
    if compiler is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp, "ref.c"), Path(tmp, "ref")
        src.write_text(C_REFERENCE)
        built = subprocess.run([compiler, "-O2", "-o", str(exe), str(src), "-lbpf"],
                               capture_output=True, text=True)
        if built.returncode != 0:
            print(f"(libbpf reference not built: {built.stderr.strip()[:200]})")
            return None
        out = subprocess.run([str(exe), str(obj), LIBC], capture_output=True, text=True,
                             env={**os.environ, "LIBBPF_LOG_LEVEL": "warn"})
        if out.returncode != 0:
            print(f"(libbpf reference failed: {out.stderr.strip()[:200]})")
            return None
        runs = [list(map(float, line.split())) for line in out.stdout.splitlines()]
        return [statistics.median(col) * 1e6 for col in zip(*runs)]


def main() -> None:
    obj = build_object("links_exec")
    ours = pybpf_rows(obj)
    ref = libbpf_rows(obj)
    names = ["tracepoint syscalls/sys_enter_execve", "raw_tp sched_process_exec",
             "uprobe libc getpid (by symbol)"]
    print("| attach + detach | pybpf (µs) | libbpf C (µs) | ratio |")
    print("|---|---:|---:|---:|")
    for i, name in enumerate(names):
        theirs = f"{ref[i]:.0f}" if ref else "n/a"
        ratio = f"{ours[i] / ref[i]:.1f}x" if ref else "n/a"
        print(f"| {name} | {ours[i]:.0f} | {theirs} | {ratio} |")


if __name__ == "__main__":
    main()
