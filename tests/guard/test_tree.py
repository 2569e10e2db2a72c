"""The process tree names an event's ancestry, existing processes included."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from tests.guard.conftest import run_in

pytestmark = pytest.mark.kernel


def test_ancestry_of_a_killed_grandchild(guard, cgroup, workdir):
    forbidden = workdir / "forbidden"
    shutil.copy("/usr/bin/true", forbidden)
    guard.start(f"""
        rules:
          - name: no-forbidden
            on: exec
            match:
              binary: {forbidden}
            action: kill
    """)
    outer_pid = workdir / "outer.pid"
    # our python -> sh (outer) -> sh (inner) which execs the forbidden binary
    script = (f"echo $$ > {outer_pid}; /bin/sh -c 'echo started; exec {forbidden}'; "
              "exit 0")
    assert run_in(cgroup, ["/bin/sh", "-c", script]).returncode == 0
    events = guard.collect(lambda ev: len(ev) >= 1)
    ev = events[0]
    outer = int(outer_pid.read_text())
    assert ev["ppid"] == outer and ev["binary"] == str(forbidden)
    chain = ev["ancestry"]
    assert chain[0]["pid"] == outer and chain[0]["comm"] == "sh"
    assert chain[0]["binary"] in ("/bin/sh", "/usr/bin/sh", "/usr/bin/dash", "/bin/dash")
    # this test process existed before the guard: known from /proc
    assert chain[1]["pid"] == os.getpid()
    assert os.path.realpath(chain[1]["binary"]) == os.path.realpath(sys.executable)
    assert [a["pid"] for a in chain][-1] in (1, chain[-1]["pid"])
