"""biotop: this process's O_DIRECT reads and writes on a loop device are its top rows."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import biotop
from tests.tools.block_helpers import direct_io, loop_device  # noqa: F401 - a fixture
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "PID     COMM             D MAJ MIN DISK       I/O  Kbytes  AVGms"


def test_rows_per_direction(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biotop, ["-C", "-p", str(os.getpid()), "30"],
                   action=lambda: direct_io(loop_device, 15, size=8192), timeout_s=0.3,
                   leaves_nothing=True)
    assert BCC_HEADER in run.lines
    rows = [ln.split() for ln in run.lines if f" {name} " in ln]
    by_kind = {r[2]: r for r in rows}
    assert by_kind["W"][0] == str(os.getpid()) and by_kind["W"][6:8] == ["15", "120"]
    assert by_kind["R"][6:8] == ["15", "120"]
    assert by_kind["R"][3] == "7"      # loop devices' major


def test_json(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biotop, ["--json", "-p", str(os.getpid()), "30"],
                   action=lambda: direct_io(loop_device, 4, writes=False), timeout_s=0.3)
    rows = [json.loads(ln) for ln in run.lines if name in ln]
    assert rows[0]["io"] == 4 and rows[0]["rw"] == "R" and rows[0]["kbytes"] == 16
