"""funclatency: libc calls this process makes land in the histogram, per function too."""

from __future__ import annotations

import ctypes
import json
import os

import pytest

from pybpf.errors import InvalidInputError
from pybpf.tools import funclatency
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

CALLS = 25


def _libc_calls() -> None:
    libc = ctypes.CDLL("libc.so.6")
    for _ in range(CALLS):
        libc.getpid()
        libc.getppid()


def _total_count(lines: list[str]) -> int:
    return sum(int(ln.split(":")[1].split()[0]) for ln in lines if "->" in ln)


def test_histogram_counts_the_calls() -> None:
    run = run_tool(funclatency, ["-p", str(os.getpid()), "c:getppid"], action=_libc_calls,
                   timeout_s=0.3, leaves_nothing=True)
    assert run.lines[0] == 'Tracing 1 functions for "c:getppid"... Hit Ctrl-C to end.'
    assert "     nsecs               : count     distribution" in run.lines
    assert _total_count(run.lines) == CALLS
    summary = next(ln for ln in run.lines if ln.startswith("avg = "))
    assert summary.endswith(f"count: {CALLS}")


def test_per_function_json_in_microseconds() -> None:
    run = run_tool(funclatency, ["-F", "-u", "--json", "-p", str(os.getpid()),
                                 "-r", "c:^getp?pid$"], action=_libc_calls, timeout_s=0.3)
    records = {json.loads(ln)["function"]: json.loads(ln) for ln in run.lines}
    assert set(records) == {"getpid", "getppid"}
    assert all(sum(b["count"] for b in r["buckets"]) == CALLS and r["unit"] == "usecs"
               for r in records.values())


def test_kernel_functions_are_refused() -> None:
    opts = funclatency.parse_args(["vfs_read"])
    with pytest.raises(InvalidInputError, match="no kprobes"):
        funclatency.run(opts, None, None)  # type: ignore[arg-type]
