"""filegone: files this process deletes and renames show; a failed delete does not."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pybpf.tools import filegone
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _churn(where: Path) -> None:
    (where / "doomed").write_text("x")
    (where / "old-name").write_text("y")
    (where / "dir").mkdir()
    os.unlink(where / "doomed")
    os.rename(where / "old-name", where / "new-name")
    os.rmdir(where / "dir")
    with pytest.raises(FileNotFoundError):
        os.unlink(where / "never-there")


def test_deletes_and_renames(tmp_path: Path) -> None:
    run = run_tool(filegone, ["-p", str(os.getpid())], action=lambda: _churn(tmp_path),
                   leaves_nothing=True, until=lambda out: "/dir" in out)
    assert run.lines[0] == "TIME     PID     COMM             ACTION FILE"
    rows = [ln.split(None, 4) for ln in run.lines[1:]]
    got = [(r[3], r[4]) for r in rows]
    assert got == [("DELETE", f"{tmp_path}/doomed"),
                   ("RENAME", f"{tmp_path}/old-name > {tmp_path}/new-name"),
                   ("DELETE", f"{tmp_path}/dir")]


def test_json(tmp_path: Path) -> None:
    run = run_tool(filegone, ["--json", "-p", str(os.getpid())],
                   action=lambda: _churn(tmp_path), until=lambda out: "/dir" in out)
    events = [json.loads(ln) for ln in run.lines]
    assert events[1] == {"pid": os.getpid(), "comm": events[1]["comm"], "action": "RENAME",
                         "file": f"{tmp_path}/old-name", "new": f"{tmp_path}/new-name"}
