"""A program run many times is translated to Python (interpreter._to_python): it must give
the interpreter's verdict on every packet, for compiled filters and for random programs
that use every instruction (division by zero, shifts past 31, scratch words, ret A/X)."""

from __future__ import annotations

import random

from pybpf.cbpf import FilterProgram, FilterSyntaxError, compile_filter
from pybpf.cbpf.interpreter import _COMPILE_AFTER, _to_python
from pybpf.cbpf.isa import ALUOp, Class, JumpOp, MiscOp, Mode, RetSrc, Size, SockFilter, Src

from .expressions import EXPRESSIONS
from .linktypes import LANGUAGE, frames_for
from .packets import build_packets

PACKETS = build_packets() + frames_for("EN10MB")


def _agree(program: FilterProgram) -> list[str]:
    fast = _to_python(program._code)
    if fast is None:  # too many copies of shared code: the interpreter keeps running it
        return []
    return [name for name, data, wirelen in PACKETS
            if fast(data, wirelen) != program._interpret(data, wirelen, None)]


def test_compiled_filters() -> None:
    untranslated = []
    for expression in EXPRESSIONS + LANGUAGE:
        for optimize in (True, False):
            try:
                program = FilterProgram(compile_filter(expression, optimize=optimize))
            except FilterSyntaxError:
                continue
            assert _agree(program) == [], expression
            if _to_python(program._code) is None:
                untranslated.append(expression)
    assert len(untranslated) < 10, untranslated


def _random_program(rng: random.Random, length: int) -> list[SockFilter]:
    out: list[SockFilter] = []
    for pc in range(length - 2):
        room = length - pc - 2
        kind = rng.randrange(10)
        k = rng.choice([0, 1, 2, 12, 14, 23, 31, 32, 40, 0x800, 0xFFFFFFFF, rng.randrange(80)])
        if kind == 0:
            size = rng.choice([Size.W, Size.H, Size.B])
            out.append(SockFilter(Class.LD | size | rng.choice([Mode.ABS, Mode.IND]), 0, 0,
                                  rng.randrange(70)))
        elif kind == 1:
            out.append(SockFilter(Class.LDX | Size.B | Mode.MSH, 0, 0, rng.randrange(70)))
        elif kind == 2:
            op = rng.choice(list(ALUOp))
            if op == ALUOp.NEG:
                out.append(SockFilter(Class.ALU | op))
            elif rng.random() < 0.5:
                out.append(SockFilter(Class.ALU | op | Src.X))
            else:
                value = k or 3 if op in (ALUOp.DIV, ALUOp.MOD) else k
                out.append(SockFilter(Class.ALU | op | Src.K, 0, 0, value))
        elif kind == 3:
            out.append(SockFilter(rng.choice([Class.ST, Class.STX]), 0, 0, rng.randrange(16)))
        elif kind == 4:
            out.append(SockFilter(Class.LD | Size.W | Mode.MEM, 0, 0, rng.randrange(16)))
        elif kind == 5:
            out.append(SockFilter(Class.MISC | rng.choice([MiscOp.TAX, MiscOp.TXA])))
        elif kind == 6:
            out.append(SockFilter(Class.LD | Size.W | rng.choice([Mode.IMM, Mode.LEN]), 0, 0,
                                  k))
        elif kind == 7:
            out.append(SockFilter(Class.JMP | JumpOp.JA, 0, 0, rng.randrange(room + 1)))
        else:
            op = rng.choice([JumpOp.JEQ, JumpOp.JGT, JumpOp.JGE, JumpOp.JSET])
            out.append(SockFilter(Class.JMP | op | rng.choice([Src.K, Src.X]),
                                  rng.randrange(min(room, 255) + 1),
                                  rng.randrange(min(room, 255) + 1), k))
    out.append(SockFilter(Class.RET | rng.choice([RetSrc.A, RetSrc.X, RetSrc.K]), 0, 0, 7))
    out.append(SockFilter(Class.RET | RetSrc.K, 0, 0, 0))
    return out


def test_random_programs() -> None:
    rng = random.Random(2026)
    for _ in range(300):
        program = FilterProgram(_random_program(rng, rng.randrange(3, 40)))
        assert _agree(program) == [], program.program


def test_run_switches_to_the_translation() -> None:
    program = FilterProgram(compile_filter("tcp port 80"))
    frame = next(data for name, data, _ in PACKETS if name.startswith("tcp4"))
    verdicts = {program.run(frame) for _ in range(_COMPILE_AFTER + 5)}
    assert program._fast is not None and verdicts == {262144}
