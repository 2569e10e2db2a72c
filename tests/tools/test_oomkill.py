"""oomkill and drsnoop see a child that outgrows a 48 MiB memory cgroup (cgroup v1 memory
controller: the unified hierarchy here has no memory controller)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pybpf.tools import drsnoop, oomkill
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel
MEMCG = "/sys/fs/cgroup/memory"
HOG = "b = []\nwhile True: b.append(bytearray(8 << 20))\n"


@pytest.fixture
def memcg():
    if not os.path.exists(f"{MEMCG}/cgroup.procs"):
        pytest.skip("no cgroup v1 memory controller mounted at /sys/fs/cgroup/memory")
    path = f"{MEMCG}/pybpf_test_oom_{os.getpid()}"
    os.mkdir(path)
    with open(f"{path}/memory.limit_in_bytes", "w") as f:
        f.write(str(48 << 20))
    yield path
    os.rmdir(path)


def _hog(cgroup: str) -> dict:
    def enter() -> None:
        with open(f"{cgroup}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
    child = subprocess.Popen([sys.executable, "-c", HOG], preexec_fn=enter)
    return {"pid": child.pid, "status": child.wait(30)}


def test_oom_kill_in_a_memory_limited_cgroup(memcg) -> None:
    box: dict = {}
    run = run_tool(oomkill, [], action=lambda: box.update(_hog(memcg)),
                   until=lambda out: "OOM kill of" in out, timeout_s=5)
    assert box["status"] == -9
    assert run.lines[0] == "Tracing OOM kills... Ctrl-C to stop."
    line = next(ln for ln in run.lines if "OOM kill of" in ln)
    pid = box["pid"]
    assert f'Triggered by PID {pid} ("python' in line
    assert f'OOM kill of PID {pid} ("python' in line
    assert "pages of VM, loadavg: " in line


def test_drsnoop_sees_the_cgroup_reclaim(memcg) -> None:
    box: dict = {}
    run = run_tool(drsnoop, ["-n", "python"], action=lambda: box.update(_hog(memcg)),
                   until=lambda out: len(out.splitlines()) >= 2, timeout_s=5)
    assert run.lines[0].split() == ["COMM", "PID", "LAT(ms)", "PAGES"]
    row = run.lines[1].split()
    assert row[0].startswith("python") and row[1] == str(box["pid"])
    assert float(row[2]) >= 0.0 and int(row[3]) >= 0
