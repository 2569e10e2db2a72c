"""opensnoop: files the test opens show with pid, fd or errno, flags and path, in BCC's
columns; in-kernel pid and flag filters; -d ends the trace by itself."""

from __future__ import annotations

import io
import json
import os

import pytest

from pybpf.tools import opensnoop
from pybpf.tools.common import Stop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's opensnoop header: %-6s PID, %-16s COMM, %4s FD, %3s ERR; -e adds %-9s FLAGS
BCC_HEADER = "PID    COMM               FD ERR PATH"
BCC_HEADER_TUE = "TIME(s)       UID   PID    COMM               FD ERR FLAGS    PATH"


def _open_files(tmp_path) -> dict[str, int]:
    path = tmp_path / "pybpf-opensnoop-created"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    with pytest.raises(FileNotFoundError):
        os.open(tmp_path / "pybpf-opensnoop-missing", os.O_RDONLY)
    return {"fd": fd}


def test_opens_show_with_fd_errno_flags_and_path(tmp_path) -> None:
    seen: dict[str, int] = {}
    result = run_tool(opensnoop, ["-T", "-U", "-e", "-p", str(os.getpid())],
                      action=lambda: seen.update(_open_files(tmp_path)),
                      until=lambda out: "pybpf-opensnoop-missing" in out)
    assert result.lines[0] == BCC_HEADER_TUE
    created = next(ln for ln in result.lines if ln.endswith("pybpf-opensnoop-created"))
    fields = created.split()
    assert fields[1:3] == [str(os.getuid()), str(os.getpid())]
    float(fields[0])
    assert int(fields[-4]) == seen["fd"] and fields[-3] == "0"
    assert int(fields[-2], 8) & (os.O_WRONLY | os.O_CREAT) == os.O_WRONLY | os.O_CREAT
    missing = next(ln for ln in result.lines if ln.endswith("pybpf-opensnoop-missing"))
    assert missing.split()[-4:-2] == ["-1", "2"]       # ENOENT
    # -p: only this process
    assert all(ln.split()[2] == str(os.getpid()) for ln in result.lines[1:])


def test_failed_only_and_flag_filter_and_header(tmp_path) -> None:
    result = run_tool(opensnoop, ["-x", "-p", str(os.getpid())],
                      action=lambda: _open_files(tmp_path),
                      until=lambda out: "pybpf-opensnoop-missing" in out)
    assert result.lines[0] == BCC_HEADER
    assert "pybpf-opensnoop-created" not in result.output
    result = run_tool(opensnoop, ["-f", "O_WRONLY", "--json", "-p", str(os.getpid())],
                      action=lambda: _open_files(tmp_path),
                      until=lambda out: "pybpf-opensnoop-created" in out)
    records = [json.loads(ln) for ln in result.lines]
    assert any(r["path"].endswith("pybpf-opensnoop-created") for r in records)
    assert all(r["flags"] & os.O_WRONLY for r in records)


def test_duration_ends_the_trace_by_itself() -> None:
    out = io.StringIO()
    stop = Stop()   # never set: only -d can end this run
    assert opensnoop.run(opensnoop.parse_args(["-d", "1", "-p", "1"]), out, stop) == 0
    assert out.getvalue().splitlines()[0] == BCC_HEADER


def test_unknown_flag_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit):
        opensnoop.parse_args(["-f", "O_BOGUS"])
    assert "unknown open flag" in capsys.readouterr().err
