"""pybpf guard: what enforcing costs, how fast it starts, how fast a kill lands.

1. **Overhead.** A C workload (compiled here with gcc) runs E fork+exec+exit of
   /bin/true and O opens of a file, one exec per nine opens, as fast as it can, in a
   cgroup of its own. The CPU time it uses (user + system, from the kernel's accounting of
   the child) is measured without a guard and with one enforcing a policy of 8 rules
   (exec kill, open kill, connect deny, ptrace log... none of which the workload breaks),
   plus the CPU time of the guard process itself (its reader, its process tree). The extra
   CPU per event times 10,000 events/s is the overhead at that rate, in % of one core.
2. **Start to enforcing.** ``Guard(policy).start()`` (compile, load, tables, attach, gate)
   in-process, and ``pybpf guard`` from exec to its "rules active" line.
3. **Syscall entry to kill.** A C victim opens a protected file with O_WRONLY|O_TRUNC; a
   separate pybpf.lang program stamps the victim's ``sys_enter_openat`` and its
   ``sched_process_exit`` (the kill has taken effect). The same rule in bpftrace 0.17
   (``signal("KILL")``, which needs ``--unsafe``) is measured the same way.

Medians of several runs. Run as root: .venv/bin/python bench/bench_guard.py
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from pybpf.guard import Guard, parse_policy, programs  # noqa: E402
from pybpf.guard.cgroups import default_root  # noqa: E402
from pybpf.lang import Const, Hash, bpf, cgroup_id, ktime_ns, pid, u32, u64  # noqa: E402

RUNS = 5
EXECS = 1000
OPENS_PER_EXEC = 9
RATE = 10_000
VICTIMS = 20

WORKLOAD_C = r"""
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int execs = atoi(argv[1]), opens = atoi(argv[2]);
    for (int i = 0; i < execs; i++) {
        pid_t child = fork();
        if (child == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
        waitpid(child, 0, 0);
        for (int j = 0; j < opens; j++) close(open(argv[3], O_RDONLY));
    }
    return 0;
}
"""

VICTIM_C = r"""
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int fd = open(argv[1], O_WRONLY | O_TRUNC);
    if (fd >= 0) write(fd, "x", 1);
    return 0;
}
"""

POLICY = """
rules:
  - name: no-nc
    on: exec
    match: {{binary: {nc}}}
    action: kill
  - name: no-tmp-exec
    on: exec
    match: {{binary_prefix: {jail}}}
    action: kill
  - name: protect-shadow
    on: open
    match: {{path: {secret}, flags: [write]}}
    action: kill
  - name: etc-writes
    on: open
    match: {{path_prefix: /etc/ssh/, flags: [write]}}
    action: log
  - name: no-bench-net
    on: connect
    match: {{cidr: 198.19.0.0/16}}
    action: deny
  - name: ptrace
    on: ptrace
    action: log
  - name: setuid-4242
    on: setuid
    match: {{uid: 4242}}
    action: kill
  - name: no-mount
    on: mount
    match: {{comm: notmount}}
    action: log
"""


def _build(src: str, name: str, where: str) -> str:
    c = os.path.join(where, name + ".c")
    Path(c).write_text(src)
    out = os.path.join(where, name)
    subprocess.run(["gcc", "-O2", "-o", out, c], check=True)
    return out


@contextlib.contextmanager
def _cgroup() -> Any:
    path = os.path.join(default_root(), f"pybpf-bench-guard-{os.getpid()}")
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)


def _run_in(cgroup: str, argv: list[str]) -> float:
    """Run argv in cgroup; its CPU seconds (user + system)."""
    def enter() -> None:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write("0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, preexec_fn=enter, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def overhead(tmp: str, workload: str) -> list[str]:
    target = os.path.join(tmp, "readme")
    Path(target).write_text("x")
    jail = os.path.join(tmp, "jail")
    os.makedirs(jail, exist_ok=True)
    Path(tmp, "secret").write_text("x")
    forbidden = os.path.join(tmp, "forbidden")
    Path(forbidden).write_bytes(Path("/usr/bin/true").read_bytes())
    policy = parse_policy(POLICY.format(nc=forbidden, jail=jail,
                                        secret=os.path.join(tmp, "secret")), "bench.yaml")
    argv = [workload, str(EXECS), str(OPENS_PER_EXEC), target]
    events = EXECS * (1 + OPENS_PER_EXEC)
    base, with_guard, guard_cpu, rates = [], [], [], []
    prog_runs: dict[str, list[tuple[int, int]]] = {}
    with _cgroup() as cg, _bpf_stats():
        for _ in range(RUNS):
            base.append(_run_in(cg, argv))
            seen: list[Any] = []
            with Guard(policy, seen.append).start() as g:
                stop = threading.Event()
                # the service polls every 200 ms; records wait in the ring meanwhile

                def reader(guard: Guard = g, done: threading.Event = stop) -> None:
                    while not done.is_set():
                        guard.poll(200)

                t = threading.Thread(target=reader)
                cpu0 = time.process_time()   # the main thread only waits meanwhile
                t.start()
                before = _prog_stats(g)
                start = time.monotonic()
                with_guard.append(_run_in(cg, argv))
                rates.append(events / (time.monotonic() - start))
                after = _prog_stats(g)
                for name, (ns, cnt) in after.items():
                    ns0, cnt0 = before.get(name, (0, 0))
                    runs = prog_runs.setdefault(name, [])
                    runs.append((ns - ns0, cnt - cnt0))
                stop.set()
                t.join()
                guard_cpu.append(time.process_time() - cpu0)
    b, w, gc = (statistics.median(x) for x in (base, with_guard, guard_cpu))
    prog_rows = []
    bpf_total = 0.0
    for name, runs in sorted(prog_runs.items()):
        per_run = statistics.median(ns / cnt for ns, cnt in runs if cnt) if \
            any(cnt for _, cnt in runs) else 0.0
        count = statistics.median(cnt for _, cnt in runs)
        if count:
            prog_rows.append(f"| {name} | {count:,.0f} | {per_run:,.0f} ns |")
            bpf_total += statistics.median(ns for ns, _ in runs)
    # the workload's own CPU time varies by more than the guard adds (a shared machine):
    # the overhead is what the kernel accounts to the guard's programs plus the guard
    # process's CPU time; the workload's with/without times are shown beside it
    extra_per_event = (bpf_total / 1e9 + gc) / events
    rows = [
        "| measure | value |", "| --- | --- |",
        (f"| workload | {EXECS} fork+exec+exit of /bin/true, {EXECS * OPENS_PER_EXEC} opens "
        f"({events} events) |"),
        f"| workload rate with the guard | {statistics.median(rates):,.0f} events/s |",
        f"| workload CPU without guard | {b * 1e3:.1f} ms |",
        f"| workload CPU with guard (BPF programs run in it) | {w * 1e3:.1f} ms |",
        f"| guard process CPU (reader, process tree) | {gc * 1e3:.1f} ms |",
        (f"| BPF programs (kernel bpf_stats, all runs during the workload) | "
        f"{bpf_total / 1e6:.1f} ms |"),
        f"| extra CPU per event | {extra_per_event * 1e6:.2f} us |",
        (f"| **overhead at {RATE:,} events/s** | **{extra_per_event * RATE * 100:.2f}% of one "
        "core** |"),
    ]
    rows += ["", "| program | runs during the workload | median time per run |",
             "| --- | --- | --- |", *prog_rows]
    return rows


def _prog_stats(g: Guard) -> dict[str, tuple[int, int]]:
    out = {}
    for name, prog in g.programs.items():
        info = prog.info()
        out[name] = (info.run_time_ns, info.run_cnt)
    return out


@contextlib.contextmanager
def _bpf_stats() -> Any:
    """kernel.bpf_stats_enabled on for the block (it costs two clock reads per run)."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    old = Path(path).read_text().strip()
    Path(path).write_text("1")
    try:
        yield
    finally:
        Path(path).write_text(old)


def start_time(tmp: str) -> list[str]:
    policy = parse_policy(POLICY.format(nc="/usr/bin/true", jail=tmp,
                                        secret=os.path.join(tmp, "secret")), "bench.yaml")
    inproc, command = [], []
    Path(tmp, "policy.yaml").write_text(POLICY.format(nc="/usr/bin/true", jail=tmp,
                                                      secret=os.path.join(tmp, "secret")))
    compile_s = []
    kinds = frozenset(r.on for r in policy.rules)
    deny = frozenset(r.on for r in policy.rules if r.action == "deny") & {"connect", "bind"}
    for _ in range(RUNS):
        t0 = time.perf_counter()
        g = Guard(policy, lambda ev: None).start()
        inproc.append(time.perf_counter() - t0)
        g.close()
        t0 = time.perf_counter()
        programs.build(kinds, deny)
        compile_s.append(time.perf_counter() - t0)
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "guard",
                                 os.path.join(tmp, "policy.yaml")], env=env,
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "rules active" in line:
                command.append(time.perf_counter() - t0)
                break
        proc.terminate()
        proc.wait()
    return ["| start to enforcing | median | min |", "| --- | --- | --- |",
            (f"| Guard.start() in a running process | {statistics.median(inproc) * 1e3:.0f} ms "
            f"| {min(inproc) * 1e3:.0f} ms |"),
            (f"| of which: compiling the {len(programs.build(kinds, deny).spec.programs)} "
             f"programs (pybpf.lang) | {statistics.median(compile_s) * 1e3:.0f} ms "
             f"| {min(compile_s) * 1e3:.0f} ms |"),
            (f"| `pybpf guard` exec to 'rules active' | {statistics.median(command) * 1e3:.0f} ms"
            f" | {min(command) * 1e3:.0f} ms |")]


# -- the latency probe: victim's sys_enter_openat and its exit ----------------------------

bench_cgroup = Const(u64, 0)
entered = Hash(u32, u64, max_entries=1024)
latency = Hash(u32, u64, max_entries=1024)


@bpf.tracepoint("syscalls/sys_enter_openat")
def latprobe_enter(ctx):
    if cgroup_id() == bench_cgroup:
        entered[pid()] = ktime_ns()
    return 0


@bpf.tracepoint("sched/sched_process_exit")
def latprobe_exit(ctx):
    if cgroup_id() == bench_cgroup:
        t = entered.lookup(pid())
        if t:
            latency[pid()] = ktime_ns() - t[0]
    return 0


def _victims(cg: str, victim: str, secret: str) -> list[float]:
    lat: list[float] = []
    probe = bpf.compile(latprobe_enter, latprobe_exit)
    with probe.load(constants={bench_cgroup: os.stat(cg).st_ino}) as coll:
        coll.attach()
        for _ in range(VICTIMS):
            def enter() -> None:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write("0")
            proc = subprocess.run([victim, secret], preexec_fn=enter, check=False)
            assert proc.returncode == -9, proc.returncode
        for _, ns in coll.maps[latency].items():
            lat.append(ns / 1e3)
    return lat


def kill_latency(tmp: str, victim: str) -> list[str]:
    secret = os.path.join(tmp, "protected")
    Path(secret).write_text("keep")
    rows = ["| enforcer | entry to exit, median | p90 | runs | file after O_TRUNC |",
            "| --- | --- | --- | --- | --- |"]
    with _cgroup() as cg:
        policy = parse_policy(f"rules:\n  - name: p\n    on: open\n    match: {{path: {secret}, "
                              "flags: [write]}\n    action: kill\n", "bench.yaml")
        for gate, name in ((True, "pybpf guard (bpf_send_signal + open gate)"),
                           (False, "pybpf guard, open_gate=False")):
            with Guard(policy, lambda ev: None, open_gate=gate).start() as g:
                lat = _victims(cg, victim, secret)
                g.poll(0)
            rows.append(_lat_row(name, lat, secret))
            Path(secret).write_text("keep")
        script = (f'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "{secret}"/ '
                  '{ signal("KILL"); } BEGIN { printf("ready\\n"); }')
        bt = subprocess.Popen(["bpftrace", "--unsafe", "-e", script], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
        try:
            assert bt.stdout is not None
            bt.stdout.readline()
            lat = _victims(cg, victim, secret)
        finally:
            bt.terminate()
            bt.wait()
        rows.append(_lat_row('bpftrace 0.17 `signal("KILL")` --unsafe', lat, secret))
    return rows


def _lat_row(name: str, lat: list[float], secret: str) -> str:
    lat.sort()
    p90 = lat[int(len(lat) * 0.9) - 1] if lat else 0.0
    after = "unchanged" if Path(secret).read_text() == "keep" else "truncated"
    return (f"| {name} | {statistics.median(lat):.1f} us | {p90:.1f} us | {len(lat)} "
            f"| {after} |")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workload = _build(WORKLOAD_C, "guard_workload", tmp)
        victim = _build(VICTIM_C, "gvictim", tmp)
        print(f"## pybpf guard (medians of {RUNS} runs; {os.cpu_count()} CPUs)\n")
        print("\n".join(overhead(tmp, workload)) + "\n")
        print("\n".join(start_time(tmp)) + "\n")
        print("\n".join(kill_latency(tmp, victim)))


if __name__ == "__main__":
    main()
