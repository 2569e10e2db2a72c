"""The program's own functions: compiled once as BPF-to-BPF subprograms (a call in the
program, a BTF FUNC under the Python name), one per map they are given, structs by
reference, pointers back; ``@bpf.inline`` inlines; ``@bpf.global_function`` is verified
by the kernel on its own. Each runs in the VM and in the kernel."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybpf.errors import CompileError
from pybpf.lang import Hash, bpf, compile_source, struct, u32, u64
from tests.lang.backends import BACKENDS, load, run

counts = Hash(u32, u64, max_entries=64)
other = Hash(u32, u64, max_entries=64)


class Pair(struct):
    a: u32
    b: u64


def bump(m, k):
    m[k] += 1


def fill(p, a):
    p.a = a
    p.b = p.a + 1


def find(m, k):
    return m.lookup(k)          # a pointer to the value, or 0


def make(a) -> Pair:
    p = Pair()                  # a struct result: such a function is inlined
    p.a = a
    return p


def packet_size(ctx):
    return ctx.data_end - ctx.data


@bpf.inline
def twice(x):
    return x * 2


@bpf.global_function
def scale(x: u32, y: u64) -> u64:
    if x > 100:
        return 0
    return x * y


@bpf.xdp
def calls(ctx):
    bump(counts, 1)
    bump(counts, 1)             # the same subprogram
    bump(other, 2)              # another map: another subprogram
    p = Pair()
    fill(p, 5)                  # by reference: the callee writes the caller's struct
    counts[4] = 40
    v = find(counts, 4)
    r = 0
    if v:
        r = v[0]
    q = make(3)
    return r + p.a * 100 + p.b * 1000 + scale(q.a, 2) + packet_size(ctx) + twice(7)


def _calls(insns) -> list[str]:
    return [i.reference for i in insns if i.is_pseudo_call]


def test_functions_are_subprograms_named_after_python_functions() -> None:
    compiled = bpf.compile(calls)
    prog = compiled.programs["calls"]
    names = [sub.name for _, sub in prog.functions]
    assert names == ["bump", "bump__2", "fill", "find", "scale", "packet_size"]
    assert [sub.is_global for _, sub in prog.functions] == [False] * 4 + [True, False]
    assert _calls(prog.spec.instructions) == [
        "calls.fn.bump", "calls.fn.bump", "calls.fn.bump__2", "calls.fn.fill",
        "calls.fn.find", "calls.fn.scale", "calls.fn.packet_size"]
    info = prog.spec.func_info
    assert [f.type.name for f in info] == ["calls", *names]
    assert [f.insn_off for f in info[1:]] == [slot for slot, _ in prog.functions]
    starts = {r.insn_off for r in prog.spec.line_info}
    assert all(slot in starts for slot, _ in prog.functions)   # the kernel requires it


@pytest.mark.parametrize("backend", BACKENDS)
def test_subprograms_run_with_maps_structs_and_pointers(backend: str) -> None:
    with load(bpf.compile(calls), backend) as coll:
        assert run(coll, "calls") == 40 + 500 + 6000 + 6 + 64 + 14
        assert dict(coll.maps[counts].items()) == {1: 2, 4: 40}
        assert dict(coll.maps[other].items()) == {2: 1}


def test_recursion_is_an_error_naming_the_function() -> None:
    source = '''
from pybpf.lang import bpf
def down(n):
    if n == 0:
        return 0
    return down(n - 1)
@bpf.xdp
def prog(ctx):
    return down(3)
'''
    with pytest.raises(CompileError, match=r"<bpf>:6:12: down: recursion is not supported"):
        compile_source(source)


def test_a_global_function_takes_integers_only() -> None:
    source = '''
from pybpf.lang import bpf, struct, u32
class S(struct):
    x: u32
@bpf.global_function
def g(s):
    return s.x
@bpf.xdp
def prog(ctx):
    s = S()
    return g(s)
'''
    with pytest.raises(CompileError, match="a global function takes at most 5 integers"):
        compile_source(source)


@pytest.mark.kernel
def test_bpftool_loads_an_object_with_subprograms(tmp_path: Path) -> None:
    path = tmp_path / "calls.bpf.o"
    path.write_bytes(bpf.compile(calls).to_object())
    pin = Path(f"/sys/fs/bpf/pybpf_test_functions_{os.getpid()}")
    try:
        done = subprocess.run(["bpftool", "prog", "loadall", str(path), str(pin)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert os.listdir(pin) == ["calls"]
    finally:
        shutil.rmtree(pin, ignore_errors=True)
