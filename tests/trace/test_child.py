"""-c's command: held before exec until released, then run in the very process whose pid
cpid gives; never run when pybpf ends without releasing it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pybpf.trace.child import CommandNotFound, HeldCommand


def test_a_released_command_runs_as_the_pid_it_was_given(tmp_path: Path) -> None:
    out = tmp_path / "pid"
    command = HeldCommand(f"/bin/sh -c 'echo $$ > {out}'")
    time.sleep(0.2)
    assert command.poll() is None and not out.exists()      # held
    command.release()
    assert command.wait() == 0
    assert out.read_text() == f"{command.pid}\n"


def test_a_command_never_released_never_runs(tmp_path: Path) -> None:
    out = tmp_path / "ran"
    command = HeldCommand(f"/bin/sh -c 'touch {out}'")
    assert command.wait() == 127 and not out.exists()


def test_a_program_not_on_path_is_bpftraces_error() -> None:
    with pytest.raises(CommandNotFound, match="^Failed to fork child: path 'no-such-pbt' "
                                              "does not exist or is not executable$"):
        HeldCommand("no-such-pbt --flag")
