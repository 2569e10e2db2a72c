"""syncsnoop: sync() and fsync() calls the test makes show in BCC's format."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import syncsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's syncsnoop: "TIME(s)" in 18 columns, then CALL
BCC_HEADER = "TIME(s)            CALL"


def test_sync_and_fsync_show_with_monotonic_seconds(tmp_path) -> None:
    def act() -> None:
        with open(tmp_path / "f", "w") as f:
            f.write("x")
            f.flush()
            os.fsync(f.fileno())
            os.fdatasync(f.fileno())
        os.sync()

    result = run_tool(syncsnoop, [], action=act, until=lambda out: "sync()\n" in out
                      and "fdatasync()" in out)
    assert result.lines[0] == BCC_HEADER
    calls = [ln.split()[1] for ln in result.lines[1:]]
    assert {"fsync()", "fdatasync()", "sync()"} <= set(calls)
    line = next(ln for ln in result.lines if ln.endswith(" sync()"))
    seconds = float(line.split()[0])
    assert abs(seconds - __import__("time").monotonic()) < 30


def test_json_names_the_caller(tmp_path) -> None:
    result = run_tool(syncsnoop, ["--json"], action=os.sync,
                      until=lambda out: '"sync"' in out)
    mine = [json.loads(ln) for ln in result.lines]
    assert any(r["call"] == "sync" and r["pid"] == os.getpid() for r in mine)
