"""ttysnoop: what the test writes to a pseudo-terminal it opens shows; writes to other
files do not."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import ttysnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


@pytest.fixture
def pty():  # noqa: ANN201
    master, slave = os.openpty()
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def test_writes_to_the_pty_show(pty: tuple[int, int], tmp_path) -> None:  # noqa: ANN001
    _master, slave = pty
    device = os.ttyname(slave)

    def act() -> None:
        with open(tmp_path / "other", "w") as f:
            f.write("not this\n")
        os.write(slave, b"hello from pybpf\n")
        os.write(slave, b"second line\n")

    run = run_tool(ttysnoop, [device], action=act, leaves_nothing=True,
                   until=lambda out: "second line" in out)
    assert run.output == "hello from pybpf\nsecond line\n"


def test_pts_number_and_json(pty: tuple[int, int]) -> None:
    _master, slave = pty
    number = os.ttyname(slave).rsplit("/", 1)[1]
    run = run_tool(ttysnoop, ["--json", number], action=lambda: os.write(slave, b"abc"),
                   until=lambda out: "abc" in out)
    assert json.loads(run.lines[0]) == {"count": 3, "data": "abc"}
