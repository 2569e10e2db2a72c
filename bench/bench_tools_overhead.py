"""What a running tool costs the system, at a fixed event rate: CPU time, not throughput.

Issue 7's goal is "at most 5% overhead at 10k events/s". Throughput of a flat-out loop
mixes the tool's cost with how the scheduler shares two cores, so this benchmark paces a
small C event generator at a fixed rate (default 10,000 events/s, in bursts every 10 ms)
and adds up CPU time:

* the generator's own user+system time (``wait4`` rusage of the child; its exec'd
  children are counted too), which also holds the in-kernel BPF programs' run time,
  since they run in the generator's system calls;
* the tool's process: the CPU time of all its threads over the same window, read from
  ``/proc/PID/task/*/schedstat`` (nanoseconds; ``/proc/PID/stat`` counts 10 ms ticks,
  too coarse for a 2 s window);
* for information, the tool's BPF programs' ``run_time_ns``/``run_cnt`` from
  ``bpf_prog_info``, with BPF_ENABLE_STATS on during one extra run (stats cost two clock
  reads per program run, so they are off during the measured runs).

overhead = (generator CPU with the tool - generator CPU alone + tool process CPU)
           / generator CPU alone

i.e. the extra CPU per event relative to what the event itself costs; "CPU of one core"
is the same extra CPU at the paced rate as a share of one core (the other way to read
"5% at 10k events/s": a cheap event like open+close costs ~0.8 us, so 5% of it would be
40 ns, less than one BPF program run). The same tool
runs as pybpf's and as bpftrace's equivalent one-liner, output written to a file (not a
pipe a Python thread drains, which would hide the cost of writing it). A last table
gives the unpaced loop's throughput with and without each tool. Medians of 5 runs.

Everything else on the machine (other processes) also makes events the tools see;
``prog runs/ev`` (BPF program runs per generated event; an open is two: entry and exit)
shows how much.

Run as root: .venv/bin/python bench/bench_tools_overhead.py [--quick] [--only TOOL]
(``--startup``: time to ready of each tool, with and without cached bytecode; bpftrace's
ready times are in bench_tools_snoop.py and bench_tools_hist.py)
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import process_cpu_ns, runqueue_wait_ns  # noqa: E402

RUNS = 5
PYTHON = sys.executable

GENERATOR_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* gen MODE RATE SECONDS [PATH]: make RATE events/s (0: as fast as possible) for SECONDS,
   print how many were made. MODE open: open()+close() of PATH; getppid: one getppid();
   exec: fork, exec /bin/true, wait. Paced runs burst every 10 ms and sleep to an
   absolute deadline, so the rate holds whatever one event costs. */
static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void one(const char *mode, const char *path) {
    if (mode[0] == 'o') {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) close(fd);
    } else if (mode[0] == 'g') {
        getppid();
    } else {
        pid_t child = fork();
        if (child == 0) { execl("/bin/true", "true", "--version-not", (char *)0); _exit(127); }
        if (child > 0) waitpid(child, 0, 0);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *mode = argv[1], *path = argc > 4 ? argv[4] : "/etc/hostname";
    long rate = atol(argv[2]);
    double seconds = atof(argv[3]);
    long burst = rate ? (rate / 100 > 0 ? rate / 100 : 1) : 64;
    long long period = rate ? 1000000000LL * burst / rate : 0;
    struct timespec now, next;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long end = ns(now) + (long long)(seconds * 1e9), due = ns(now);
    long made = 0;
    for (;;) {
        for (long i = 0; i < burst; i++) one(mode, path);
        made += burst;
        if (period) {
            due += period;
            if (due >= end) break;
            next.tv_sec = due / 1000000000LL; next.tv_nsec = due % 1000000000LL;
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, 0);
        } else {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (ns(now) >= end) break;
        }
    }
    printf("%ld\n", made);
    return 0;
}
"""


@dataclass(frozen=True)
class Workload:
    label: str
    mode: str          # the generator's MODE
    rate: int          # events/s when paced
    tool: str          # pybpf tool name
    tool_args: tuple[str, ...]
    ready: str         # a line prefix the tool prints once attached
    bpftrace: str      # the equivalent bpftrace program


WORKLOADS = (
    Workload("open+close", "open", 10_000, "opensnoop", (), "PID",
             'tracepoint:syscalls:sys_enter_open,tracepoint:syscalls:sys_enter_openat '
             '{ @f[tid] = args->filename; } tracepoint:syscalls:sys_exit_open,'
             'tracepoint:syscalls:sys_exit_openat /@f[tid]/ { printf("%d %s %d\\n", pid, '
             'str(@f[tid]), args->ret); delete(@f[tid]); }'),
    Workload("getppid", "getppid", 10_000, "syscount", (), "Tracing",
             "tracepoint:raw_syscalls:sys_exit { @[args->id] = count(); }"),
    # fork+exec costs ~0.5 ms of CPU: 10k/s cannot be paced on two cores
    Workload("fork+exec /bin/true", "exec", 200, "execsnoop", (), "PCOMM",
             'tracepoint:syscalls:sys_enter_execve { printf("%d %s\\n", pid, '
             'str(args->filename)); } tracepoint:syscalls:sys_exit_execve '
             '{ printf("%d %d\\n", pid, args->ret); }'),
)


# -- measuring ----------------------------------------------------------------------------------

def build_generator(workdir: Path) -> Path:
    source = workdir / "gen.c"
    source.write_text(GENERATOR_C)
    binary = workdir / "gen"
    compiler = shutil.which("cc") or shutil.which("clang") or "cc"
    subprocess.run([compiler, "-O2", "-o", str(binary), str(source)], check=True)
    return binary


@dataclass
class GeneratorRun:
    events: int
    cpu_ns: int        # user + system of the generator and its children
    wall_s: float


def run_generator(gen: Path, mode: str, rate: int, seconds: float, path: str) -> GeneratorRun:
    start = time.perf_counter()
    proc = subprocess.Popen([str(gen), mode, str(rate), str(seconds), path],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()  # type: ignore[union-attr]
    proc.stdout.close()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"generator {mode} failed: {proc.returncode}")
    # wait4's rusage includes the generator's waited-for children (the exec'd /bin/true)
    cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
    return GeneratorRun(int(out), cpu_ns, wall)


class Tracer:
    """A tool process writing to a file; started and waited for until attached."""

    def __init__(self, argv: list[str], ready_prefix: str, workdir: Path):
        from pybpf.kernel import inventory
        before = set(inventory.program_ids())
        self.log = workdir / f"out-{os.getpid()}-{time.monotonic_ns()}.txt"
        self.out = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ)
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while not self._ready(ready_prefix):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{argv[:4]} never became ready: "
                                   f"{self.log.read_text()[-500:]}")
            time.sleep(0.01)
        # bpftrace prints "Attaching N probes..." before it has loaded every program
        time.sleep(0.5)
        self.prog_ids = sorted(set(inventory.program_ids()) - before)

    def _ready(self, prefix: str) -> bool:
        with open(self.log) as f:
            return any(line.startswith(prefix) for line in f)

    def cpu_ns(self) -> int:
        return process_cpu_ns(self.proc.pid)

    def bpf_stats(self) -> tuple[int, int]:
        """(run_time_ns, run_cnt) summed over the tool's programs."""
        from pybpf.kernel import inventory
        time_ns = count = 0
        for prog_id in self.prog_ids:
            try:
                rec = inventory.program(prog_id)
            except Exception:  # noqa: BLE001 - a program can go away with its tool
                continue
            time_ns += rec.run_time_ns
            count += rec.run_cnt
        return time_ns, count

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.log.unlink(missing_ok=True)


def pybpf_argv(w: Workload) -> list[str]:
    return [PYTHON, "-m", "pybpf", w.tool, *w.tool_args]


def bpftrace_argv(w: Workload) -> list[str]:
    return ["bpftrace", "-e", w.bpftrace]


@dataclass
class Measured:
    gen_ns_per_event: float
    tool_ns_per_event: float
    extra_ns_per_event: float
    overhead_pct: float
    bpf_ns_per_event: float = float("nan")
    seen_per_event: float = float("nan")


def measure(gen: Path, w: Workload, seconds: float, path: str, base_ns_per_event: float,
            tracer: Tracer) -> Measured:
    """Median over RUNS paced generator runs with ``tracer`` attached, then one run with
    BPF stats on for the programs' own run time."""
    gen_costs, tool_costs = [], []
    for _ in range(RUNS):
        before = tracer.cpu_ns()
        run = run_generator(gen, w.mode, w.rate, seconds, path)
        time.sleep(0.05)  # let the tool drain the last burst
        tool_costs.append((tracer.cpu_ns() - before) / run.events)
        gen_costs.append(run.cpu_ns / run.events)
    gen_ns = statistics.median(gen_costs)
    tool_ns = statistics.median(tool_costs)
    extra = gen_ns - base_ns_per_event + tool_ns
    result = Measured(gen_ns, tool_ns, extra, extra / base_ns_per_event * 100)
    from pybpf.kernel import sys as bpfsys
    with bpfsys.enable_stats():
        t0, c0 = tracer.bpf_stats()
        run = run_generator(gen, w.mode, w.rate, seconds, path)
        t1, c1 = tracer.bpf_stats()
    result.bpf_ns_per_event = (t1 - t0) / run.events
    result.seen_per_event = (c1 - c0) / run.events
    return result


def unpaced_rate(gen: Path, w: Workload, path: str, seconds: float) -> float:
    rates = []
    for _ in range(RUNS):
        run = run_generator(gen, w.mode, 0, seconds, path)
        rates.append(run.events / run.wall_s)
    return statistics.median(rates)


# -- start-up ---------------------------------------------------------------------------------

# tool -> (arguments, the line prefix it prints once attached)
STARTUP_TOOLS = {
    "execsnoop": ((), "PCOMM"), "opensnoop": ((), "PID"), "exitsnoop": ((), "PCOMM"),
    "killsnoop": ((), "TIME"), "statsnoop": ((), "PID"), "syncsnoop": ((), "TIME"),
    "mountsnoop": ((), "COMM"), "syscount": ((), "Tracing"),
    "funccount": (("t:sched:sched_process_*",), "Tracing"), "biolatency": ((), "Tracing"),
    "runqlat": ((), "Tracing"), "cpudist": ((), "Tracing"), "hardirqs": ((), "Tracing"),
    "softirqs": ((), "Tracing"),
    "tcplife": ((), "PID"), "tcpstates": ((), "SKADDR"), "tcpconnect": ((), "PID"),
    "tcpaccept": ((), "PID"), "oomkill": ((), "Tracing"), "capable": ((), "TIME"),
    "drsnoop": ((), "COMM"), "profile": ((), "Sampling"), "offcputime": ((), "Tracing"),
}


def time_to_ready_s(argv: list[str], prefix: str,
                    env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the tool, wall seconds less the time its main thread
    waited for a CPU) from spawning to its ready line. The CPU time hardly depends on what
    else the machine runs; the wall time does, the third much less."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            break
    elapsed = time.perf_counter() - start
    cpu_s = process_cpu_ns(proc.pid) / 1e9
    alone_s = elapsed - runqueue_wait_ns(proc.pid) / 1e9
    # ours unwinds on SIGINT; bpftrace would print its maps first, so it is killed
    proc.send_signal(signal.SIGKILL if argv[0] == "bpftrace" else signal.SIGINT)
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return elapsed, cpu_s, alone_s


def startup_table(workdir: Path, only: set[str] | None = None) -> None:
    """Median time to ready per tool: source compiled on every import (this environment
    sets PYTHONDONTWRITEBYTECODE=1 and the tree has no .pyc), and with bytecode cached
    (PYTHONPYCACHEPREFIX, warmed once) as a pip-installed pybpf runs."""
    fresh = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    fresh.pop("PYTHONPYCACHEPREFIX", None)
    cached = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPYCACHEPREFIX=str(workdir / "pyc"))
    cached.pop("PYTHONDONTWRITEBYTECODE", None)
    # the same bpftrace one-liners as the snoop and histogram start-up benchmarks
    from bench_tools_hist import TOOLS as HIST_ONE_LINERS
    from bench_tools_snoop import BPFTRACE as SNOOP_ONE_LINERS
    one_liners = dict(SNOOP_ONE_LINERS)
    one_liners.update({name: script for name, (_, script) in HIST_ONE_LINERS.items()})
    from bench_tools_net_prof import TOOLS as NET_PROF_ONE_LINERS
    one_liners.update({name: script for name, (_, script) in NET_PROF_ONE_LINERS.items()})
    have_bpftrace = shutil.which("bpftrace") is not None
    print("| tool | .pyc cached: wall (ms) | CPU (ms) | no .pyc: wall (ms) | CPU (ms) | "
          "bpftrace one-liner: wall (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for tool, (args, prefix) in STARTUP_TOOLS.items():
        if only and tool not in only:
            continue
        argv = [PYTHON, "-m", "pybpf", tool, *args]
        time_to_ready_s(argv, prefix, cached)  # warm the cache
        cols = []
        for env in (cached, fresh):
            runs = [time_to_ready_s(argv, prefix, env) for _ in range(RUNS)]
            cols += [statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)]
        theirs = "n/a"
        if have_bpftrace and tool in one_liners:
            theirs = "{:.0f}".format(1000 * statistics.median(
                time_to_ready_s(["bpftrace", "-e", one_liners[tool]], "Attaching", cached)[0]
                for _ in range(RUNS)))
        print(f"| {tool} | " + " | ".join(f"{c * 1000:.0f}" for c in cols) + f" | {theirs} |",
              flush=True)
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s runs instead of 2 s")
    parser.add_argument("--only", help="one tool (opensnoop, syscount, execsnoop); with "
                        "--startup, a comma-separated list of tools")
    parser.add_argument("--startup", action="store_true",
                        help="only the start-up table (time to ready, with and without .pyc)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    seconds = 1.0 if args.quick else 2.0
    have_bpftrace = shutil.which("bpftrace") is not None
    workloads = [w for w in WORKLOADS if not args.only or w.tool == args.only]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.startup:
            startup_table(workdir, set(args.only.split(",")) if args.only else None)
            return 0
        gen = build_generator(workdir)
        target = workdir / "target"
        target.write_text("x")
        path = str(target)
        paced_rows, unpaced_rows = [], []
        for w in workloads:
            starters = [("pybpf " + w.tool, pybpf_argv(w), w.ready)]
            if have_bpftrace:
                starters.append(("bpftrace", bpftrace_argv(w), "Attaching"))
            for who, argv, ready in starters:
                # the baseline right before each tool: what else runs on the machine drifts
                alone = [run_generator(gen, w.mode, w.rate, seconds, path)
                         for _ in range(RUNS)]
                base = statistics.median(r.cpu_ns / r.events for r in alone)
                base_rate = unpaced_rate(gen, w, path, seconds / 2)
                tracer = Tracer(argv, ready, workdir)
                try:
                    m = measure(gen, w, seconds, path, base, tracer)
                    rate = unpaced_rate(gen, w, path, seconds / 2)
                finally:
                    tracer.stop()
                paced_rows.append(
                    f"| {w.label} @ {w.rate:,}/s | {who} | {base:,.0f} | "
                    f"{m.gen_ns_per_event:,.0f} | {m.tool_ns_per_event:,.0f} | "
                    f"{m.bpf_ns_per_event:,.0f} | {m.seen_per_event:.2f} | "
                    f"{m.extra_ns_per_event:,.0f} | {m.overhead_pct:+.1f}% | "
                    f"{m.extra_ns_per_event * w.rate / 1e7:.1f}% |")
                unpaced_rows.append(f"| {w.label} | {who} | {base_rate:,.0f} | {rate:,.0f} | "
                                    f"{(1 - rate / base_rate) * 100:+.1f}% |")
                print(paced_rows[-1], file=sys.stderr, flush=True)
    print("CPU per generated event (ns), paced; overhead = extra CPU / generator's own CPU")
    print()
    print("| workload | tool | gen alone | gen with tool | tool process | of which BPF "
          "(in gen) | prog runs/ev | extra | overhead | CPU of one core |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(paced_rows))
    print()
    print("| unpaced loop | tool | alone (/s) | with tool (/s) | throughput cost |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(unpaced_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
