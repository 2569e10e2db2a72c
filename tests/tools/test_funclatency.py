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


@pytest.mark.parametrize("multi", [True, False], ids=["uprobe-multi", "perf-events"])
def test_the_same_histogram_with_either_kind_of_link(monkeypatch, multi: bool) -> None:
    # one uprobe_multi link per direction where the kernel has them, else (forced here)
    # one perf-event uprobe per site
    from pybpf.kernel import features

    if multi:
        assert features.default.supports_uprobe_multi_link(), "this kernel lacks them"
    else:
        monkeypatch.setattr(features.default, "supports_uprobe_multi_link", lambda: False)
    link_types: list[int] = []

    def calls_and_links() -> None:
        from pybpf.kernel import inventory  # noqa: PLC0415

        link_types.extend(int(ln.type) for ln in inventory.links()
                          if ln.prog_id in inventory.snapshot().programs
                          and inventory.program(ln.prog_id).name.startswith("funclatency"))
        _libc_calls()

    run = run_tool(funclatency, ["-p", str(os.getpid()), "c:getppid"],
                   action=calls_and_links, timeout_s=0.3, leaves_nothing=True)
    # entry and return: BPF_LINK_TYPE_UPROBE_MULTI, or BPF_LINK_TYPE_PERF_EVENT
    assert link_types == ([12, 12] if multi else [7, 7])
    assert _total_count(run.lines) == CALLS
