"""biolatpcts: a loop device's O_DIRECT reads and writes get latency percentiles; the
operations it did not do show as '-'."""

from __future__ import annotations

import json
import os

import pytest

from pybpf.tools import biolatpcts
from tests.tools.block_helpers import direct_io, loop_device  # noqa: F401 - a fixture
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def test_percentiles_per_operation(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biolatpcts, ["-d", name, "-i", "1", "-p", "50,100"],
                   action=lambda: direct_io(loop_device, 30), leaves_nothing=True,
                   timeout_s=2.5, until=lambda out: "us" in out or "ms" in out)
    rows = [ln.split() for ln in run.lines if ln.split()[:1] in (["read"], ["write"],
                                                                 ["discard"])]
    by_op = {r[0]: r[1:] for r in rows if r[1:] != ["-", "-"]}
    assert set(by_op) == {"read", "write"}
    for p50, p100 in by_op.values():
        assert p50.endswith(("us", "ms")) and p100.endswith(("us", "ms"))
    assert ["discard", "-", "-"] in rows


def test_json(loop_device: str) -> None:  # noqa: F811
    name = os.path.basename(loop_device)
    run = run_tool(biolatpcts, ["--json", "-d", name, "-i", "1"],
                   action=lambda: direct_io(loop_device, 10, writes=False), timeout_s=2.5,
                   until=lambda out: '"50":' in out and '"read":{"1":' in out
                   and '"read":{"1":null' not in out)
    reports = [json.loads(ln) for ln in run.lines]
    read = next(r["read"] for r in reports if r["read"]["50"] is not None)
    assert read["1"] <= read["50"] <= read["100"]


def test_buckets_and_percentiles() -> None:
    for us in (0, 9, 10, 999, 1000, 99_999, 100_000, 12_345_678):
        assert us <= biolatpcts.bucket_upper_us(biolatpcts.bucket_of(us)) or us > 9_999_999
    counts = [0] * biolatpcts.BUCKETS
    counts[biolatpcts.bucket_of(55)] = 90
    counts[biolatpcts.bucket_of(5000)] = 10
    assert biolatpcts.percentiles(counts, [50, 90, 91, 100]) == [59, 59, 5999, 5999]
    assert biolatpcts.format_us(59) == "59us" and biolatpcts.format_us(5999) == "5ms"
