"""stackcount: the stacks of this process's libc calls and syscalls, counted."""

from __future__ import annotations

import ctypes
import json
import os

import pytest

from pybpf.tools import stackcount
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

CALLS = 9


def _calls() -> None:
    libc = ctypes.CDLL("libc.so.6")
    for _ in range(CALLS):
        libc.getppid()


def test_user_stacks_of_a_libc_function() -> None:
    me = os.getpid()
    run = run_tool(stackcount, ["-U", "-P", "-p", str(me), "c:getppid"], action=_calls,
                   timeout_s=0.3, leaves_nothing=True)
    assert run.lines[0] == 'Tracing 1 functions for "c:getppid"... Hit Ctrl-C to end.'
    assert run.lines[-1] == "Detaching..."
    # the probed function is the leaf frame of its stack; the counts add up
    at = run.lines.index("  getppid")
    body = run.lines[at:]
    owner = next(ln for ln in body if ln.startswith("    ") and f"[{me}]" in ln)
    assert owner.strip().endswith(f"[{me}]")
    total = sum(int(ln.strip()) for ln in run.lines if ln.startswith("    ")
                and ln.strip().isdigit())
    assert total == CALLS


def test_kernel_stacks_of_a_tracepoint_json() -> None:
    run = run_tool(stackcount, ["-K", "--json", "-p", str(os.getpid()),
                                "t:syscalls:sys_enter_getppid"], action=_calls, timeout_s=0.3)
    records = [json.loads(ln) for ln in run.lines]
    assert sum(r["count"] for r in records) == CALLS
    assert all(r["kernel_stack"] for r in records)
    assert any("do_syscall_64" in f for r in records for f in r["kernel_stack"])
