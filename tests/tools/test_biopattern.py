"""biopattern: sequential and strided O_DIRECT reads show as %SEQ and %RND of the disk."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import biopattern
from tests.tools.block_helpers import direct_io, loop_device  # noqa: F401 - a fixture
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "TIME     DISK     %RND  %SEQ    COUNT     KBYTES"


def test_sequential_reads(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biopattern, ["-d", name],
                   action=lambda: direct_io(loop_device, 20, writes=False), timeout_s=0.3,
                   leaves_nothing=True)
    assert BCC_HEADER in run.lines
    row = next(ln.split() for ln in run.lines if f" {name} " in ln)
    assert row[2:4] == ["0", "100"] and int(row[4]) == 19 and int(row[5]) == 80


def test_strided_reads_are_random(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biopattern, ["-d", name, "--json"],
                   action=lambda: direct_io(loop_device, 10, stride=65536, writes=False),
                   timeout_s=0.3)
    rows = [json.loads(ln) for ln in run.lines]
    assert rows[0]["disk"] == name and rows[0]["random_pct"] == 100 and rows[0]["count"] == 9
