"""Byte strings compared as C strings (up to the NUL), prefixes, and print() with any
number of values and f-strings of any length; in the VM and in the kernel."""

from __future__ import annotations

import os

import pytest

from pybpf.lang import Array, bpf, bytes16, comm, struct, u8, u32
from tests.lang.backends import BACKENDS, load, printed, run


class Rec(struct):
    pad: u8              # the name starts at an odd offset: no aligned word to lean on
    name: bytes16


recs = Array(Rec, max_entries=1)
names = Array(bytes16, max_entries=1)


@bpf.xdp
def strings(ctx):
    r = 0
    c = comm()
    names[0] = c
    if c == b"python":
        r |= 1
    if comm() != b"pytho":          # a prefix is not equal: the NUL must follow
        r |= 2
    if c.startswith(b"pyt"):
        r |= 4
    if not c.startswith(b"xyz"):
        r |= 8
    both = c == b"python" and c.startswith(b"python")
    r |= both << 4
    rec = recs.lookup(0)
    if rec:
        rec.name = b"/tmp/abcdefghij"
        if rec.name.startswith(b"/tmp/abcdefg"):
            r |= 32
        if rec.name == b"/tmp/abcdefghij":
            r |= 64
        if rec.name == b"/tmp/abcdefghijk" or rec.name == b"/tmp/abcdefghijkl_too_long":
            r |= 128
    return r


@pytest.mark.parametrize("backend", BACKENDS)
def test_string_equality_and_prefixes_follow_c_strings(backend: str) -> None:
    with load(bpf.compile(strings), backend) as coll:
        got = run(coll, "strings")
        name = coll.maps[names][0]
    is_python = name == b"python"
    expected = 2 | 8 | 32 | 64 | (1 | 4 | 16 if is_python else 0) | (
        4 if name.startswith(b"pyt") else 0)
    assert got == expected, (name, got)


MARK = f"m{os.getpid()}"


@bpf.xdp
def printing(ctx):
    x = 5
    y: u32 = 7
    print(f"{MARK} nine {x}")                      # formats of 9, 22 and 23 bytes once
    print(f"{MARK} twenty-two chars {x}")          # failed: misaligned stack access
    print(MARK, x, y, -3, comm(), 99, x + y)       # seven values: bpf_trace_vprintk
    print(f"{MARK} %d {y}")                        # a % in an f-string is text
    print("%s fmt %d %u", MARK, x, y)              # a printf format
    return 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_shows_any_number_of_values(backend: str) -> None:
    with load(bpf.compile(printing), backend) as coll:
        assert run(coll, "printing") == 0
        lines = printed(coll, backend, MARK)[-5:]
        name = "python" if backend == "kernel" else lines[2].split()[4]
    assert lines == [f"{MARK} nine 5", f"{MARK} twenty-two chars 5",
                     f"{MARK} 5 7 -3 {name} 99 12", f"{MARK} %d 7", f"{MARK} fmt 5 7"]
