"""pybpf.trace.listing against ``bpftrace -l``/``-lv`` for a set of patterns: tracepoints
from tracefs (with their arguments), uprobe symbols of binaries (with debug files), USDT
probes, iterators. Where bpftrace 0.17 prints nonsense (software and hardware events, raw
tracepoints), the test pins down both what it prints and what we print instead."""

from __future__ import annotations

import os
import subprocess

import pytest

from pybpf.errors import InvalidInputError
from pybpf.trace.listing import HARDWARE_EVENTS, SOFTWARE_EVENTS, list_probes, match
from tests.trace.bpftrace_oracle import BPFTRACE

# Debian's CPython is built with USDT probes (python:function__entry...)
PYTHON = os.path.realpath("/usr/bin/python3")
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"


def bpftrace_list(pattern: str, verbose: bool = False) -> list[str]:
    run = subprocess.run([BPFTRACE, "-lv" if verbose else "-l", pattern], capture_output=True,
                         text=True, timeout=120)
    return run.stdout.splitlines()


def ours(pattern: str, verbose: bool = False) -> list[str]:
    return [line for item in list_probes(pattern, verbose=verbose) for line in item.lines()]


SAME = [
    "tracepoint:sched:*",
    "tracepoint:*",
    "t:sched:sched_sw*",
    "tracepoint:*:sched_switch",
    "trace*:sched:sched_switch",
    "tracepoint:*sched:*switch",
    "tracepoint:sched*",
    "tracepoint:syscalls:sys_enter_openat",
    "tracepoint:nosuchcategory:*",
    "iter:*",
    "uprobe:/bin/bash:read*",
    "uprobe:/bin/bash:*",
    f"uprobe:{LIBC}:*",
    "uprobe:/usr/bin/python3*:Py_Init*",
    "uprobe:/bin/true:*",
    # libraries by name (ld.so.cache's file, not the -dev symlink), uretprobes
    "uprobe:libc:*",
    "uretprobe:libc:mall*",
    "uprobe:libcrypto:RSA_*",
    "uretprobe:libpthread:*",
    "uprobe:bash:readline*",
    # C++ names matched again demangled: "Py_*main" finds no C++; "*:main" finds
    # toplev::main(int, char**) and v8 members named main_*
    "uprobe:/usr/bin/*:main",
]


@pytest.mark.kernel
@pytest.mark.parametrize("pattern", SAME)
def test_list_as_bpftrace(pattern: str) -> None:
    want = bpftrace_list(pattern)
    assert ours(pattern) == want
    if "nosuch" not in pattern and "/bin/true" not in pattern:
        assert want, "a pattern that lists nothing compares nothing"


@pytest.mark.kernel
@pytest.mark.parametrize("pattern", ["tracepoint:syscalls:sys_enter_open*", "tracepoint:*",
                                     "iter:task*", "tracepoint:sched:sched_switch"])
def test_list_verbose_as_bpftrace(pattern: str) -> None:
    want = bpftrace_list(pattern, verbose=True)
    assert ours(pattern, verbose=True) == want
    assert any(line.startswith("    ") for line in want)


@pytest.mark.kernel
@pytest.mark.parametrize("pattern", ["usdt:{}:*", "usdt:{}:function*", "U:{}:python:*",
                                     "usdt:{}:*:gc__*"])
def test_list_usdt_as_bpftrace(pattern: str) -> None:
    pattern = pattern.format(PYTHON)
    want = bpftrace_list(pattern)
    assert want
    assert ours(pattern) == want


@pytest.mark.kernel
def test_list_everything_as_bpftrace_but_perf_events() -> None:
    """A bare -l: bpftrace 0.17 prints ``software:*:`` and ``hardware:*:`` for the perf
    events (its pattern, not the events); we print the events."""
    run = subprocess.run([BPFTRACE, "-l"], capture_output=True, text=True, timeout=120)
    want = run.stdout.splitlines()
    assert "software:*:" in want and "hardware:*:" in want
    want = [w for w in want if w not in ("software:*:", "hardware:*:")]
    perf = [f"software:{e}:" for e in SOFTWARE_EVENTS] + [f"hardware:{e}:" for e in
                                                          HARDWARE_EVENTS]
    assert ours("") == sorted(want + perf)


@pytest.mark.kernel
@pytest.mark.parametrize("pattern", ["*sched_switch", "sched_sw*", "*"])
def test_list_untyped_as_bpftrace(pattern: str) -> None:
    """A pattern without a probe type: bpftrace 0.17 echoes it for the perf events."""
    want = [w for w in bpftrace_list(pattern)
            if w not in (f"software:{pattern}:", f"hardware:{pattern}:")]
    perf = [f"{kind}:{e}:" for kind, table in (("software", SOFTWARE_EVENTS),
                                               ("hardware", HARDWARE_EVENTS))
            for e in table if match(pattern, e)]
    assert ours(pattern) == sorted(want + perf)


@pytest.mark.kernel
def test_perf_events_and_raw_tracepoints() -> None:
    assert bpftrace_list("software:*") == ["software:*:"]     # 0.17's own listing
    assert ours("software:*") == sorted(f"software:{e}:" for e in SOFTWARE_EVENTS)
    assert ours("s:cpu*") == ["software:cpu-clock:", "software:cpu-migrations:"]
    assert ours("hardware:*cycles") == ["hardware:bus-cycles:", "hardware:cpu-cycles:",
                                        "hardware:ref-cycles:"]
    assert bpftrace_list("rawtracepoint:*") == []               # 0.17 cannot list them
    assert ours("rawtracepoint:sched_sw*") == ["rawtracepoint:sched_swap_numa",
                                               "rawtracepoint:sched_switch"]


def test_wildcards() -> None:
    assert match("sys_enter_*", "sys_enter_openat")
    assert match("*open*", "sys_enter_openat")
    assert not match("open*", "sys_enter_openat")
    assert match("a*b*c", "axxbyyc") and not match("a*b*c", "axxbyycd")
    assert match("sched_[a]", "sched_[a]") and not match("sched_?", "sched_x")


def test_refusals() -> None:
    with pytest.raises(InvalidInputError, match="requires 2 arguments"):
        list_probes("tracepoint:sched")
    with pytest.raises(InvalidInputError, match="2 or 3 arguments"):
        list_probes("usdt:/bin/bash")
    with pytest.raises(InvalidInputError, match="Invalid probe type"):
        list_probes("nosuchtype:x:y")
