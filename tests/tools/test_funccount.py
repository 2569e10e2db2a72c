"""funccount over tracepoints: each exec of a child counted once per tracepoint."""

import subprocess

import pytest

from pybpf.errors import InvalidInputError
from pybpf.tools import funccount

from .conftest import run_tool

pytestmark = pytest.mark.kernel


def _five_children() -> None:
    for _ in range(5):
        subprocess.run(["true"], check=True)


def test_counts_each_matching_tracepoint():
    run = run_tool(funccount, ["-r", "t:sched:^sched_process_(exec|fork)$"],
                   action=_five_children, timeout_s=0.3, leaves_nothing=True)
    # BCC: 'Tracing N functions for "PATTERN"... Hit Ctrl-C to end.', then "FUNC  COUNT"
    assert run.lines[0] == ('Tracing 2 functions for "t:sched:^sched_process_(exec|fork)$"'
                            '... Hit Ctrl-C to end.')
    assert f"{'FUNC':<36} {'COUNT':>8}" in run.lines
    counts = {ln.split()[0]: int(ln.split()[1]) for ln in run.lines
              if ln.startswith("sched:")}
    assert counts["sched:sched_process_exec"] >= 5
    assert counts["sched:sched_process_fork"] >= 5
    assert run.lines[-1] == "Detaching..."


def test_kprobe_patterns_are_refused_with_a_hint():
    with pytest.raises(InvalidInputError, match="only tracepoints"):
        funccount.match_tracepoints("vfs_*")
    with pytest.raises(InvalidInputError, match="matches no tracepoint"):
        funccount.match_tracepoints("t:sched:no_such_event_*")


def _libc_calls() -> None:
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    for _ in range(7):
        libc.getppid()
    for _ in range(3):
        libc.getpgrp()


def test_counts_user_functions():
    import os
    run = run_tool(funccount, ["-p", str(os.getpid()), "c:getp[pg]*"], action=_libc_calls,
                   timeout_s=0.3, leaves_nothing=True)
    assert run.lines[0].startswith("Tracing ") and '"c:getp[pg]*"' in run.lines[0]
    counts = {ln.split()[0]: int(ln.split()[1]) for ln in run.lines
              if ln.startswith("getp")}
    assert counts == {"getppid": 7, "getpgrp": 3}


def test_kernel_functions_are_refused():
    opts = funccount.parse_args(["vfs_read"])
    with pytest.raises(InvalidInputError, match="no kprobes"):
        funccount.run(opts, None, None)
