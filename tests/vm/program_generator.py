"""Random straight-line ALU/JMP programs the kernel's verifier accepts, for differential
tests (VM against BPF_PROG_TEST_RUN).

Every register r0-r9 is set first (the verifier refuses reads of uninitialised registers);
divisions and modulos by an immediate avoid 0 and shifts by an immediate stay below the
width (the verifier refuses those), while divisions, modulos and shifts by a *register* may
hit 0 or large amounts: that is where eBPF differs from C. Jumps only go forward. The
program ends by folding r0-r9 into r0 and then r0's high half into its low half, because
the kernel reports only the low 32 bits of r0.
"""

from __future__ import annotations

import random

from pybpf import asm
from pybpf.asm import Instruction, Register

_REGS = [Register(i) for i in range(10)]
_BINARY = ["add", "sub", "mul", "div", "sdiv", "mod", "smod", "or_", "and_", "lsh", "rsh",
           "arsh", "xor", "mov"]
_JUMPS = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"]
_INTERESTING = [0, 1, -1, 2, 31, 32, 63, 64, 0x7FFF_FFFF, -0x8000_0000, 0xFFFF, 0x80]


def _imm(rng: random.Random) -> int:
    return rng.choice(_INTERESTING) if rng.random() < 0.4 else rng.randint(-(1 << 31),
                                                                          (1 << 31) - 1)


def _value64(rng: random.Random) -> int:
    if rng.random() < 0.3:
        return rng.choice([0, 1, -1, 1 << 63, (1 << 63) - 1, 1 << 32, 0xFFFF_FFFF])
    return rng.randint(-(1 << 63), (1 << 63) - 1)


def _alu(rng: random.Random) -> Instruction:
    wide = rng.random() < 0.5
    kind = rng.random()
    dst = rng.choice(_REGS)
    if kind < 0.06:
        return asm.neg(dst) if wide else asm.neg32(dst)
    if kind < 0.12:
        bits = rng.choice([16, 32, 64])
        return rng.choice([asm.to_le, asm.to_be, asm.bswap])(dst, bits)
    if kind < 0.18:
        src = rng.choice(_REGS)
        return asm.movsx(dst, src, rng.choice([8, 16, 32])) if wide else asm.movsx32(
            dst, src, rng.choice([8, 16]))
    name = rng.choice(_BINARY)
    build = getattr(asm, name if wide else name.rstrip("_") + "32")
    if rng.random() < 0.5:
        return build(dst, rng.choice(_REGS))
    imm = _imm(rng)
    width = 64 if wide else 32
    if name in ("div", "sdiv", "mod", "smod") and imm == 0:
        imm = 3
    if name in ("lsh", "rsh", "arsh"):
        imm = rng.randrange(width)
    return build(dst, imm)


def random_program(rng: random.Random, length: int = 24) -> list[Instruction]:
    """A program of about ``length`` body instructions; see the module docstring."""
    body: list[object] = [asm.lddw(r, _value64(rng)) for r in _REGS]
    n = length
    items: list[object] = []
    for i in range(n):
        if rng.random() < 0.2 and i < n - 1:
            name = rng.choice(_JUMPS) + ("32" if rng.random() < 0.5 else "")
            operand: object = rng.choice(_REGS) if rng.random() < 0.5 else _imm(rng)
            skip = rng.randint(0, min(3, n - 1 - i))
            items.append(("jump", getattr(asm, name), rng.choice(_REGS), operand, skip))
        else:
            items.append(_alu(rng))
    # turn "skip k items" into labels: a label before item i + 1 + k
    labels: dict[int, list[str]] = {}
    for i, item in enumerate(items):
        if isinstance(item, tuple):
            labels.setdefault(i + 1 + item[4], []).append(f"L{i}")
    for i, item in enumerate(items + [None]):
        for name in labels.get(i, []):
            body.append(asm.label(name))
        if item is None:
            break
        if isinstance(item, tuple):
            _, build, dst, operand, _skip = item
            body.append(build(dst, operand, f"L{i}"))
        else:
            body.append(item)
    body += fold_registers()
    return asm.link(body)


def random_counted_loop(rng: random.Random, turns: int, *, up: bool = False
                        ) -> list[Instruction]:
    """Registers set as in :func:`random_program`, then a loop of ``turns`` turns counted
    down by r6 (``up``: counted up to ``turns``) whose body mostly adds, subtracts, xors,
    ors and ands other registers or immediates into r0 and r3 (accumulators, which wrap past
    0 and 2**64), among a few other ALU operations on the remaining registers; r6 is never
    written in the body. The accumulators' high bits are folded in too."""
    body: list[object] = [asm.lddw(r, _value64(rng)) for r in _REGS]
    body += [asm.mov(asm.R6, 0 if up else turns), asm.label("loop")]
    others = [r for r in _REGS if r not in (asm.R0, asm.R3, asm.R6)]
    for _ in range(rng.randint(1, 10)):
        if rng.random() < 0.7:
            build = getattr(asm, rng.choice(["add", "sub", "xor", "or_", "and_"]))
            operand: object = rng.choice(others) if rng.random() < 0.6 else _imm(rng)
            body.append(build(rng.choice([asm.R0, asm.R3]), operand))
        else:
            insn = _alu(rng)
            while insn.dst == asm.R6:
                insn = _alu(rng)
            body.append(insn)
    # the accumulators' high bits into r9 by right shifts, which the fold's multiplies
    # would not see if they wrapped
    step = [asm.add(asm.R6, 1), asm.jlt(asm.R6, turns, "loop")] if up else \
        [asm.sub(asm.R6, 1), asm.jne(asm.R6, 0, "loop")]
    body += [*step, asm.mov(asm.R9, asm.R0),
             asm.rsh(asm.R9, 32), asm.mov(asm.R8, asm.R3), asm.rsh(asm.R8, 29),
             asm.xor(asm.R9, asm.R8), *fold_registers()]
    return asm.link(body)


def fold_registers() -> list[object]:
    """r0 = a mix of r0..r9, then r0 ^= r0 >> 32, then exit."""
    out: list[object] = []
    for r in _REGS[1:]:
        out += [asm.mul(asm.R0, 0x9E37_79B1), asm.xor(asm.R0, r)]
    out += [asm.mov(asm.R1, asm.R0), asm.rsh(asm.R1, 32), asm.xor(asm.R0, asm.R1), asm.exit()]
    return out
