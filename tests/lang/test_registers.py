"""Register use: locals share r6-r9 when their spans do not overlap, and a value computed
for a local lands in its register without a copy (the code stays right: each shape runs
on the VM)."""

from __future__ import annotations

import struct as pystruct

import pytest

from pybpf import vm
from pybpf.asm import disassemble
from pybpf.lang import compile_source
from pybpf.spec import ProgramType

_HEADER = ("from pybpf.lang import *\nclass In(struct):\n    a: u64\n    b: u64\n"
           "@bpf.xdp\ndef prog(ctx):\n    data = ctx.data\n"
           "    if data + 16 > ctx.data_end:\n        return 0\n    p = cast(In, data)\n")


def _compile(body: str) -> object:
    return compile_source(_HEADER + "".join(f"    {ln}\n" for ln in body.splitlines()),
                          "regs.py")


def _run(compiled: object, a: int, b: int) -> int:
    prog = vm.load(compiled.instructions(), type=ProgramType.XDP)
    return prog.test_run(pystruct.pack("<QQ", a, b) + bytes(48)).retval


@pytest.mark.parametrize("body, expected", [
    ("x = u32(p.a)\nx = x + 1\nreturn x", 6),
    ("x = u32(p.a)\ny = u32(p.b)\nx = y + x\nreturn x", 7),      # reads x after y
    ("x = u32(p.a)\nx = x + x\nreturn x", 10),
    ("x = u32(p.a)\ny = x\nx = 1\nreturn y * 10 + x", 51),
    ("x = u32(p.a)\nx = -x + 8\nreturn x", 3),
    ("x = u32(p.a)\nx = x if p.b == 2 else 9\nreturn x", 5),
    # five locals, four registers: ctx/data/p die before the loop, which reuses theirs
    (("t = 0\nfor i in range(8):\n    if p.a & (1 << i):\n        t += i\n"
     "u = u32(p.b)\nreturn t * 100 + u"), 2 * 100 + 2),
])
def test_assignments_keep_their_meaning(body: str, expected: int) -> None:
    assert _run(_compile(body), a=5, b=2) == expected


def test_an_update_of_a_register_local_is_one_instruction() -> None:
    text = disassemble(_compile("t = u32(p.a)\nt += 3\nreturn t").instructions())
    assert "+= 3" in text
    line = next(ln for ln in text.splitlines() if "+= 3" in ln)
    reg = line.split("\t")[-1].split()[0]
    assert reg[1:] in ("6", "7", "8", "9")     # added in the local's own register
    assert not any(f"{reg[0]}{reg[1:]} = r0" in ln or f"r{reg[1:]} = r0" in ln
                   for ln in text.splitlines()[:-2])


def test_dead_locals_hand_their_registers_to_the_loop() -> None:
    # ctx, data, p, t, i: five locals, but ctx/data are dead when the loop starts, so
    # nothing goes to the stack
    compiled = _compile("t = 0\nfor i in range(16):\n    if p.a & (1 << i):\n"
                        "        t += i\nreturn t")
    insns = compiled.instructions()
    assert not any(i.dst == 10 or i.src == 10 for i in insns)
    assert sum(i.slots for i in insns) <= 24
