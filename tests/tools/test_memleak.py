"""memleak: a child's libc allocations still held show under their stack, the freed
ones do not; in kernel mode, the pipes this test holds open show under their stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pybpf.tools import memleak
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# waits for a line, then: 5 malloc + 5 calloc + 5 aligned_alloc + 5 posix_memalign +
# 5 realloc (of a 10-byte block) of 1000 bytes each, and frees 5 of the mallocs
CHILD = r"""
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
for f in (libc.malloc, libc.calloc, libc.aligned_alloc, libc.realloc):
    f.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
sys.stdin.readline()
kept = [libc.malloc(1000) for _ in range(10)]
for p in kept[5:]:
    libc.free(p)
kept += [libc.calloc(10, 100) for _ in range(5)]
kept += [libc.aligned_alloc(64, 1000) for _ in range(5)]
for _ in range(5):
    p = ctypes.c_void_p()
    libc.posix_memalign(ctypes.byref(p), 64, 1000)
    kept.append(p.value)
kept += [libc.realloc(libc.malloc(10), 1000) for _ in range(5)]
print("done", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def allocator():  # noqa: ANN201
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f:
                f.close()


def _go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "done\n"


def test_outstanding_user_allocations(allocator: subprocess.Popen[str]) -> None:
    run = run_tool(memleak, ["-p", str(allocator.pid), "-o", "0", "-z", "1000", "-Z", "1000",
                             "1"], action=lambda: _go(allocator), leaves_nothing=True,
                   timeout_s=10.0, until=lambda out: out.count("Top ") >= 2)
    assert run.lines[0] == f"Attaching to pid {allocator.pid}, Ctrl+C to quit."
    # the last report: every allocation of 1000 bytes still held, by stack (the five
    # calls leave by different return paths of libffi, so stacks may differ)
    last = max(i for i, ln in enumerate(run.lines) if "stacks with outstanding" in ln)
    rows = [ln.split() for ln in run.lines[last + 1:] if ln.startswith("\t") and
            not ln.startswith("\t\t")]
    assert sum(int(r[0]) for r in rows) == 25000
    assert sum(int(r[3]) for r in rows) == 25
    assert run.lines[last + 2].startswith("\t\t")       # its stack follows


def test_kernel_allocations_of_held_pipes() -> None:
    pipes: list[tuple[int, int]] = []

    def act() -> None:
        pipes.extend(os.pipe() for _ in range(64))

    try:
        run = run_tool(memleak, ["--json", "-o", "0", "-T", "400", "1"], action=act,
                       timeout_s=10.0, until=lambda out: "alloc_pipe_info" in out)
    finally:
        for r, w in pipes:
            os.close(r)
            os.close(w)
    stacks = [json.loads(ln) for ln in run.lines]
    mine = [s for s in stacks if any("alloc_pipe_info" in f for f in s["stack"])]
    assert mine and sum(s["allocations"] for s in mine) >= 64
