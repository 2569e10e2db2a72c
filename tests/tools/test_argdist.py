"""argdist: counts and histograms of the arguments and return values of libc calls this
process makes, and of a tracepoint's field."""

from __future__ import annotations

import ctypes
import json
import os

import pytest

from pybpf.errors import InvalidInputError, NotSupportedError
from pybpf.kernel.features import Features
from pybpf.tools import argdist
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _calls() -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.usleep.argtypes = [ctypes.c_uint]
    for us in (1, 2, 2, 3, 3, 3, 100, 200):
        libc.usleep(us)
    for _ in range(4):
        libc.getppid()


def test_counts_and_histogram() -> None:
    me = str(os.getpid())
    run = run_tool(argdist, ["-p", me, "-i", "30",
                             "-C", "p:c:usleep(unsigned usec):u32:usec:usec < 50#usec",
                             "-H", "p:c:usleep(unsigned usec):u32:usec",
                             "-C", "r:c:getppid():int:$retval"],
                   action=_calls, leaves_nothing=True, timeout_s=0.3)
    text = run.lines
    at = text.index("p:c:usleep(unsigned usec):u32:usec:usec < 50#usec")
    assert text[at + 1] == "\tCOUNT      EVENT"
    assert text[at + 2:at + 5] == ["\t1          usec = 1", "\t2          usec = 2",
                                   "\t3          usec = 3"]
    hist = text.index("p:c:usleep(unsigned usec):u32:usec")
    assert text[hist + 1] == "     usec                : count     distribution"
    ret = text.index("r:c:getppid():int:$retval")
    assert text[ret + 2] == f"\t4          $retval = {os.getppid()}"


def test_tracepoint_field_json() -> None:
    run = run_tool(argdist, ["--json", "-i", "30", "-p", str(os.getpid()),
                             "-C", "t:syscalls:sys_enter_getppid:int:1"],
                   action=_calls, timeout_s=0.3)
    assert any(json.loads(ln)["counts"] == {"1": 4} for ln in run.lines)


def test_kernel_functions_are_kprobes(capsys: pytest.CaptureFixture[str]) -> None:
    spec = "p::vfs_read(void *file, char *buf, size_t count):size_t:count"
    source = argdist.program_source([argdist.parse_probe(spec, histogram=True)])
    assert '@bpf.kprobe("vfs_read")' in source
    try:
        Features().have_kprobes()
    except NotSupportedError:
        assert argdist.main(["-H", spec]) == 1
        assert "needs kprobes on vfs_read and this kernel has none" in capsys.readouterr().err


def test_bad_specifiers() -> None:
    with pytest.raises(InvalidInputError, match="at return"):
        argdist.program_source([argdist.parse_probe("r:c:read(int fd):int:fd",
                                                    histogram=False)])
