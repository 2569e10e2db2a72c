"""runqlat and cpudist: a child that sleeps and spins shows in its own histogram."""

import subprocess
import sys

import pytest

from pybpf.tools import cpudist, runqlat

from .conftest import run_tool

pytestmark = pytest.mark.kernel

# spins ~3 ms, sleeps ~2 ms, again and again. It runs SCHED_FIFO: on a loaded machine the
# fair scheduler would otherwise cut each spin into slices of ~1.5 ms (and delay the
# wakeups), so the on-CPU histogram would show the load instead of the spin length.
WORKER = ("import os, time\n"
          "os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))\n"
          "print('ready', flush=True)\n"
          "while True:\n t = time.perf_counter()\n"
          " while time.perf_counter() - t < 0.003: pass\n time.sleep(0.002)\n")


@pytest.fixture
def worker():
    proc = subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with proc:     # closes the pipes
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n", \
                proc.stderr.read() if proc.stderr else ""
            yield proc
        finally:
            proc.kill()


def _hist_rows(lines, section):
    """{(low, high): count} of the histogram under ``section``."""
    rows, inside = {}, False
    for ln in lines:
        if " = " in ln:
            inside = ln == section
        elif inside and "->" in ln:
            rng, count = ln.split(":")[0], ln.split(":")[1].split()[0]
            low, high = (int(x) for x in rng.split("->"))
            rows[(low, high)] = int(count)
    return rows


def test_runqlat_per_process_has_the_worker(worker):
    run = run_tool(runqlat, ["-P", "-p", str(worker.pid)], timeout_s=0.5,
                   leaves_nothing=True)
    assert run.lines[0] == "Tracing run queue latency... Hit Ctrl-C to end."
    rows = _hist_rows(run.lines, f"pid = {worker.pid}")
    assert sum(rows.values()) >= 20    # ~100 wakeups in 0.5 s
    assert all(s.startswith(f"pid = {worker.pid}") for s in run.lines if " = " in s)


def test_cpudist_on_cpu_mode_is_the_spin_length(worker):
    run = run_tool(cpudist, ["-P", "-p", str(worker.pid)], timeout_s=0.5)
    assert run.lines[0] == "Tracing on-CPU time... Hit Ctrl-C to end."
    assert "     usecs               : count     distribution" in run.lines
    rows = _hist_rows(run.lines, f"pid = {worker.pid}")
    # the 3 ms spins: the 2048 -> 4095 us row is the mode
    assert max(rows, key=rows.get) == (2048, 4095)


def test_cpudist_off_cpu_mode_is_the_sleep_length(worker):
    run = run_tool(cpudist, ["-O", "-L", "-p", str(worker.pid)], timeout_s=0.5)
    assert run.lines[0] == "Tracing off-CPU time... Hit Ctrl-C to end."
    rows = _hist_rows(run.lines, f"tid = {worker.pid}")
    # each 2 ms sleep is off-CPU for 2 ms or more (more on a busy machine, where waiting
    # for a CPU adds to it): dozens of them in 0.5 s
    assert sum(n for (low, _), n in rows.items() if low >= 1024) >= 10, run.lines
