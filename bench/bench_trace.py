"""``pybpf trace`` beside bpftrace 0.17 on the same scripts: time until ready, resident
memory, and the size of the generated programs.

Runnable alone, as root: ``.venv/bin/python bench/bench_trace.py [--runs N]``. Prints one
markdown table, medians of N runs (default 5) per script and tool, pybpf twice: with its
compile cache warm (the script ran before) and cold (never compiled: the cache emptied
before each run):

* *Attaching*: seconds from the process start to its ``Attaching N probes...`` line
  (bpftrace prints it before attaching, pybpf after);
* *ready*: seconds to the first line BEGIN prints, which both run once every probe is
  attached: the fair start-up time;
* *CPU*: CPU seconds the process used until ready (all threads, schedstat): what the
  start-up costs whatever else the machine runs, where wall times grow with the load;
* *RSS*: resident memory (VmRSS, MiB) at that moment;
* *insns*: instruction slots of all the script's programs (lddw counts 2): pybpf's from
  ``pybpf.trace.compile``, bpftrace's from its ``--emit-elf`` object read by pybpf.elf.

Each run is a fresh process (``python -m pybpf trace``, ``bpftrace``), interrupted with
SIGINT once ready; process start-up is counted on both sides, as a user would see it.
pybpf runs with its bytecode cached (PYTHONPYCACHEPREFIX), as a pip-installed pybpf does;
its compile cache is a temporary directory of the bench's own (PYBPF_CACHE_DIR), so the
user's cache is neither read nor changed. One warm-up run of each tool and script comes
first.
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import process_cpu_ns  # noqa: E402

READY = 'BEGIN { printf("ready\\n"); } '
SCRIPTS = {
    "count by comm": ('tracepoint:syscalls:sys_enter_openat /comm == "cat"/ '
                      "{ @[comm] = count(); }"),
    "printf + str": ('tracepoint:syscalls:sys_enter_openat '
                     '{ printf("%s %s\\n", comm, str(args->filename)); }'),
    "hist of reads": ("tracepoint:syscalls:sys_exit_read /args->ret > 0/ "
                      "{ @bytes = hist(args->ret); @sum[comm] = sum(args->ret); }"),
    "wildcard + probe": "tracepoint:syscalls:sys_enter_open* { @[probe, pid] = count(); }",
    "profile kstack": "profile:hz:99 { @[kstack] = count(); }",
    "lhist, avg, if": ("tracepoint:sched:sched_switch { $p = args->prev_pid; "
                       "if ($p > 100) { @l = lhist($p % 1000, 0, 1000, 100); } "
                       "else { @a[cpu] = avg($p); } }"),
}


def _start(argv: list[str], env: dict[str, str] | None = None
           ) -> tuple[float | None, float, float, float]:
    """(Attaching, ready, CPU s, RSS MiB) of one run of ``argv``."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    assert proc.stdout is not None
    attach = None
    buf = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            if time.monotonic() - t0 > 60:
                raise TimeoutError(f"{argv[0]} not ready in 60 s: {buf[-300:]!r}")
            if not sel.select(timeout=1.0):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"{argv[0]} ended before ready: {buf[-300:]!r}")
            buf += chunk
            if attach is None and b"Attaching" in buf:
                attach = time.monotonic() - t0
            if b"ready\n" in buf:
                ready = time.monotonic() - t0
                cpu = process_cpu_ns(proc.pid) / 1e9
                break
        with open(f"/proc/{proc.pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)   # bpftrace 0.17 may hang at Ctrl-C
            proc.wait()
    finally:
        sel.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    return attach, ready, cpu, rss / 1024


def _slots(programs: dict) -> int:  # type: ignore[type-arg]
    return sum(i.slots for p in programs.values() for i in p.instructions)


def _bpftrace_slots(bpftrace: str, script: str) -> int:
    from pybpf.elf import load_collection_spec

    with tempfile.TemporaryDirectory() as d:
        obj = os.path.join(d, "out.o")
        subprocess.run([bpftrace, "--emit-elf", obj, "-e", script], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return _slots(load_collection_spec(obj).programs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs, the first 3 scripts")
    args = parser.parse_args()
    if args.quick:
        args.runs = 3
    bpftrace = shutil.which("bpftrace")
    if bpftrace is None:
        print("bpftrace is not installed (scripts/setup.sh installs it)", file=sys.stderr)
        return 1
    from pybpf.trace import compile

    env_python = [sys.executable, "-m", "pybpf", "trace", "-e"]
    os.environ["PYTHONPATH"] = str(ROOT / "src")
    tmp = tempfile.TemporaryDirectory()
    cache_dir = f"{tmp.name}/cache"
    env = dict(os.environ, PYTHONPYCACHEPREFIX=f"{tmp.name}/pyc", PYBPF_CACHE_DIR=cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    scripts = list(SCRIPTS.items())[:3] if args.quick else list(SCRIPTS.items())
    print("| script | tool | Attaching (s) | ready (s) | CPU to ready (s) | RSS (MiB) | insns |")
    print("|---|---|---:|---:|---:|---:|---:|")
    ratios: dict[str, list[float]] = {"ready": [], "cpu": [], "rss": [], "insns": [],
                                      "cold ready": [], "cold cpu": []}
    for name, body in scripts:
        script = READY + body
        rows = {}
        for tool, argv, cold in (("bpftrace", [bpftrace, "-e"], False),
                                 ("pybpf", env_python, False), ("pybpf cold", env_python, True)):
            _start([*argv, script], env)      # warm-up: bytecode, caches
            runs = []
            for _ in range(args.runs):
                if cold:
                    shutil.rmtree(cache_dir, ignore_errors=True)
                runs.append(_start([*argv, script], env))
            attach = statistics.median(r[0] or 0.0 for r in runs)
            ready = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            rss = statistics.median(r[3] for r in runs)
            insns = _bpftrace_slots(bpftrace, script) if tool == "bpftrace" else \
                _slots(compile(script).spec.programs)
            rows[tool] = (attach, ready, cpu, rss, insns)
            print(f"| {name} | {tool} | {attach:.3f} | {ready:.3f} | {cpu:.3f} | {rss:.1f} | "
                  f"{insns} |", flush=True)
        (_, br, bc, bm, bi), (_, pr, pc, pm, pi) = rows["bpftrace"], rows["pybpf"]
        ratios["ready"].append(pr / br)
        ratios["cpu"].append(pc / bc)
        ratios["rss"].append(pm / bm)
        ratios["insns"].append(pi / bi)
        ratios["cold ready"].append(rows["pybpf cold"][1] / br)
        ratios["cold cpu"].append(rows["pybpf cold"][2] / bc)
    print()
    med = {k: statistics.median(v) for k, v in ratios.items()}
    print(f"pybpf / bpftrace, median over scripts: ready {med['ready']:.2f}x (cold "
          f"{med['cold ready']:.2f}x), CPU to ready {med['cpu']:.2f}x (cold "
          f"{med['cold cpu']:.2f}x), RSS {med['rss']:.2f}x, instructions {med['insns']:.2f}x")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
