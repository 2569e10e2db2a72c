"""pidpersec: the processes the test forks are counted in the per-second lines."""

from __future__ import annotations

import json
import subprocess

import pytest

from pybpf.tools import pidpersec
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

FORKS = 15


def _fork_some() -> None:
    for _ in range(FORKS):
        subprocess.run(["true"], check=True)


def _total(lines: list[str]) -> int:
    return sum(int(ln.rsplit(" ", 1)[1]) for ln in lines if "PIDs/sec" in ln)


def test_forks_are_counted() -> None:
    run = run_tool(pidpersec, [], action=_fork_some, timeout_s=2.5, leaves_nothing=True)
    assert run.lines[0] == "Tracing... Ctrl-C to end."
    assert run.lines[1].endswith(" PIDs/sec: " + run.lines[1].rsplit(" ", 1)[1])
    assert _total(run.lines) >= FORKS


def test_json() -> None:
    run = run_tool(pidpersec, ["--json"], action=_fork_some, timeout_s=2.5)
    assert sum(json.loads(ln)["pids_per_sec"] for ln in run.lines) >= FORKS
