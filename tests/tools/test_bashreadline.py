"""bashreadline: a command typed into an interactive bash (on a pty) shows with its pid."""

from __future__ import annotations

import os
import pty
import shutil
import time

import pytest

from pybpf.tools import bashreadline
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's bashreadline: %-9s TIME, %-6s PID, COMMAND
BCC_HEADER = "TIME      PID    COMMAND"


def _type_into_bash(command: str) -> int:
    """Run ``bash -i`` on a pseudo-terminal (readline is used only on a terminal), type
    ``command`` and exit; returns bash's pid."""
    child, master = pty.fork()
    if child == 0:
        os.execvpe("/bin/bash", ["bash", "--norc", "--noprofile", "-i"],
                   {"PATH": "/usr/bin:/bin", "TERM": "dumb", "PS1": "$ "})
    try:
        time.sleep(0.3)
        os.write(master, command.encode() + b"\n")
        time.sleep(0.3)
        os.write(master, b"exit\n")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if not os.read(master, 4096):
                    break
            except OSError:
                break
    finally:
        os.close(master)
        os.waitpid(child, 0)
    return child


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs /bin/bash")
def test_typed_command_shows_with_bash_pid() -> None:
    pids: list[int] = []
    result = run_tool(bashreadline, [], leaves_nothing=True,
                      action=lambda: pids.append(_type_into_bash("echo pybpf-bashreadline")),
                      until=lambda out: "pybpf-bashreadline" in out)
    assert result.lines[0] == BCC_HEADER
    line = next(ln for ln in result.lines if ln.endswith("echo pybpf-bashreadline"))
    assert line.split()[1] == str(pids[0])
    assert line[8:10] == "  " and line[2] == ":"   # HH:MM:SS padded to 9, then a space


def test_missing_library_is_a_clear_error() -> None:
    from pybpf.errors import BPFError
    with pytest.raises(BPFError, match="pybpf-no-such-lib"):
        run_tool(bashreadline, ["-s", "/nonexistent/pybpf-no-such-lib.so"])
