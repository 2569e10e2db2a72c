"""dirtop: reads and writes of files below two directories the test makes are summed per
directory, whatever the depth below it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pybpf.tools import dirtop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _io(a: Path, b: Path) -> None:
    deep = a / "x" / "y"
    deep.mkdir(parents=True)
    fd = os.open(deep / "f", os.O_CREAT | os.O_WRONLY, 0o600)
    for _ in range(6):
        os.write(fd, b"w" * 2048)
    os.close(fd)
    (b / "g").write_bytes(b"r" * 8192)
    fd = os.open(b / "g", os.O_RDONLY)
    for _ in range(4):
        os.read(fd, 2048)
    os.close(fd)


def test_per_directory(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    run = run_tool(dirtop, ["-C", "-d", f"{a},{b}", "-p", str(os.getpid()), "30"],
                   action=lambda: _io(a, b), timeout_s=0.3, leaves_nothing=True)
    assert "READS  WRITES R_Kb     W_Kb     PATH" in run.lines
    rows = {ln.split()[-1]: ln.split()[:4] for ln in run.lines if ln.endswith(("/a", "/b"))}
    assert rows[str(a)] == ["0", "6", "0", "12"]
    # b: the write_bytes() of g (one write of 8 KiB) and the four 2 KiB reads
    assert rows[str(b)] == ["4", "1", "8", "8"]


def test_wildcards_json(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    run = run_tool(dirtop, ["--json", "-d", f"{tmp_path}/*", "-p", str(os.getpid()), "30"],
                   action=lambda: _io(tmp_path / "a", tmp_path / "b"), timeout_s=0.3)
    rows = {json.loads(ln)["path"]: json.loads(ln) for ln in run.lines}
    assert rows[str(tmp_path / "a")]["wbytes"] == 6 * 2048
    assert rows[str(tmp_path / "b")]["rbytes"] == 8192
