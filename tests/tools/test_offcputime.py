"""offcputime sees a process sleeping in a loop: its blocked time by stack."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from pybpf.kernel import inventory
from pybpf.tools import offcputime
from tests.tools.conftest import run_tool
from tests.tools.tcp_helpers import own_objects

pytestmark = pytest.mark.kernel
HERE = Path(__file__).parent


def test_sleeping_process_blocked_in_nanosleep(tmp_path) -> None:
    exe = tmp_path / "nap_loop"
    subprocess.run(["gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(exe),
                    str(HERE / "nap_loop.c")], check=True)
    child = subprocess.Popen([str(exe)])
    box = {}
    started = time.monotonic()
    try:
        run = run_tool(offcputime, ["-f", "-p", str(child.pid), "1"],
                       action=lambda: box.setdefault("live", own_objects("offcputime_swit")),
                       timeout_s=4)
    finally:
        traced_us = (time.monotonic() - started) * 1e6
        child.kill()
        child.wait()
    lines = [ln for ln in run.lines if ln]
    stack, usecs = max((ln.rsplit(" ", 1) for ln in lines), key=lambda p: int(p[1]))
    frames = stack.split(";")
    assert frames[0] == "nap_loop"
    assert "pybpf_nap_loop" in frames
    assert "do_nanosleep" in frames and frames[-1] in ("__schedule", "schedule")
    # asleep ~all of the 1 s; never more than the tool ran (which a loaded machine stretches)
    assert 700_000 <= int(usecs) <= traced_us
    assert box["live"].programs and not inventory.still_loaded(box["live"])
