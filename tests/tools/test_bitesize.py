"""bitesize: 16 KiB O_DIRECT reads land in the 16 -> 31 Kbytes row under this process."""

from __future__ import annotations

import json

import pytest

from pybpf.tools import bitesize
from tests.tools.block_helpers import direct_io, loop_device  # noqa: F401 - a fixture
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _my_rows(lines: list[str], name: str) -> list[str]:
    at = lines.index(f"Process Name = {name}")
    rows = []
    for ln in lines[at + 2:]:
        if "->" not in ln:
            break
        rows.append(ln)
    return rows


def test_sizes_per_process(loop_device: str) -> None:  # noqa: F811
    with open("/proc/self/comm") as f:
        me = f.read().strip()
    run = run_tool(bitesize, [], action=lambda: direct_io(loop_device, 12, size=16384),
                   timeout_s=0.3, leaves_nothing=True)
    assert run.lines[0] == "Tracing block I/O... Hit Ctrl-C to end."
    rows = _my_rows(run.lines, me)
    counts = {ln.split(":")[0].strip(): int(ln.split(":")[1].split()[0]) for ln in rows}
    assert counts["16 -> 31"] >= 24      # 12 writes and 12 reads of 16 KiB


def test_json(loop_device: str) -> None:  # noqa: F811
    with open("/proc/self/comm") as f:
        me = f.read().strip()
    run = run_tool(bitesize, ["--json"], action=lambda: direct_io(loop_device, 5, size=4096),
                   timeout_s=0.3)
    mine = [json.loads(ln) for ln in run.lines if f'"comm":"{me}"' in ln]
    # keyed by process name: other "python" processes' I/O may add to it
    four_k = [b for b in mine[0]["buckets"] if (b["low"], b["high"]) == (4, 7)]
    assert four_k and four_k[0]["count"] >= 10
