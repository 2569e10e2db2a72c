"""vfsstat: this process's reads, writes, fsyncs, opens and creates are counted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pybpf.tools import vfsstat
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _file_work(where: Path) -> None:
    for i in range(3):
        fd = os.open(where / f"f{i}", os.O_CREAT | os.O_WRONLY, 0o600)
        for _ in range(4):
            os.write(fd, b"x")
        os.fsync(fd)
        os.close(fd)
    for i in range(2):
        fd = os.open(where / f"f{i}", os.O_RDONLY)
        for _ in range(5):
            os.read(fd, 1)
        os.close(fd)


def _sums(lines: list[str]) -> list[int]:
    rows = [ln.split()[1:] for ln in lines[1:]]
    return [sum(int(r[i]) for r in rows) for i in range(5)]


def test_counts_per_second(tmp_path: Path) -> None:
    run = run_tool(vfsstat, ["-p", str(os.getpid())], action=lambda: _file_work(tmp_path),
                   leaves_nothing=True, timeout_s=2.5)
    assert run.lines[0] == "TIME         READ/s  WRITE/s  FSYNC/s   OPEN/s CREATE/s"
    reads, writes, fsyncs, opens, creates = _sums(run.lines)
    # the test harness reads and opens files of its own meanwhile (in this process):
    # those two are at least ours; nothing else here fsyncs or creates
    assert reads >= 10 and writes >= 12 and opens >= 5
    assert (fsyncs, creates) == (3, 3)


def test_json(tmp_path: Path) -> None:
    run = run_tool(vfsstat, ["--json", "-p", str(os.getpid())],
                   action=lambda: _file_work(tmp_path), timeout_s=2.5)
    rows = [json.loads(ln) for ln in run.lines]
    assert sum(r["fsync_per_s"] for r in rows) == 3
    assert sum(r["create_per_s"] for r in rows) == 3
