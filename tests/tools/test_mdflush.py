"""mdflush: an fsync of a loop device sends it a flush (shown with -a); md devices only
by default, so the loop device's flush is left out."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import mdflush
from tests.tools.block_helpers import loop_device  # noqa: F401 - a fixture
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _flush(dev: str) -> None:
    fd = os.open(dev, os.O_WRONLY)
    try:
        os.write(fd, b"x" * 4096)
        os.fsync(fd)
    finally:
        os.close(fd)


def test_flush_of_any_disk_shows(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(mdflush, ["-a"], action=lambda: _flush(loop_device), leaves_nothing=True,
                   until=lambda out: f" {name}" in out)
    assert run.lines[:2] == ["Tracing md flush requests... Hit Ctrl-C to end.",
                             "TIME     PID    COMM             DEVICE"]
    row = next(ln.split() for ln in run.lines if ln.endswith(f" {name}"))
    assert row[1] == str(os.getpid())


def test_md_only_by_default(loop_device: str) -> None:  # noqa: F811
    run = run_tool(mdflush, ["--json"], action=lambda: _flush(loop_device), timeout_s=0.3)
    assert not [ln for ln in run.lines if json.loads(ln)["device"] ==
                os.path.basename(loop_device)]
