"""fileslower: a read that waits 80 ms on a FIFO shows with -a (any file type) and not
without it (regular files only); fast reads never show."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from pybpf.tools import fileslower
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _slow_fifo_read(where: Path, tids: list[int]) -> None:
    fifo = where / "pybpf-fifo"
    os.mkfifo(fifo)
    (where / "quick").write_bytes(b"q" * 100)

    def writer() -> None:
        with open(fifo, "wb") as f:
            time.sleep(0.08)
            f.write(b"late data")

    t = threading.Thread(target=writer)
    t.start()
    tids.append(threading.get_native_id())
    fd = os.open(fifo, os.O_RDONLY)
    try:
        os.read(fd, 64)
    finally:
        os.close(fd)
    t.join()
    with open(where / "quick", "rb") as f:
        f.read()


def test_slow_fifo_read_with_all_files(tmp_path: Path) -> None:
    tids: list[int] = []
    run = run_tool(fileslower, ["-a", "-p", str(os.getpid()), "40"],
                   action=lambda: _slow_fifo_read(tmp_path, tids), leaves_nothing=True,
                   until=lambda out: "pybpf-fifo" in out)
    assert run.lines[:2] == ["Tracing sync read/writes slower than 40 ms",
                             "TIME(s)  COMM           TID    D BYTES   LAT(ms) FILENAME"]
    row = next(ln.split() for ln in run.lines if ln.endswith("pybpf-fifo"))
    assert row[2:5] == [str(tids[0]), "R", "9"] and float(row[5]) >= 40
    # the 100-byte read shows only if the scheduler held it up past 40 ms (a loaded
    # machine can): whatever shows is above the threshold
    assert all(float(ln.split()[5]) >= 40 for ln in run.lines[2:] if ln.endswith(" quick"))


def test_regular_files_only_by_default(tmp_path: Path) -> None:
    run = run_tool(fileslower, ["--json", "-p", str(os.getpid()), "40"],
                   action=lambda: _slow_fifo_read(tmp_path, []), timeout_s=0.3)
    assert not [json.loads(ln) for ln in run.lines if "pybpf-fifo" in ln]
