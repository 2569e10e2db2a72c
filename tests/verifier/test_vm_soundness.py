"""Soundness against the VM: generated programs that our verifier accepts never trip the
VM's memory checks, whatever packet they run on.

Programs are XDP programs built from random pieces (scalar arithmetic, stack stores and
loads, packet reads after random bounds checks, map lookups with or without a NULL check,
forward branches, and joins of two paths holding different stack offsets, which pruning
must keep apart); a fixed seed keeps the run repeatable.
"""

from __future__ import annotations

import random

from pybpf import asm, vm
from pybpf.asm import R0, R1, R2, R3, R6, R7, R8, R10
from pybpf.errors import VerifierError
from pybpf.spec import MapSpec, MapType, ProgramType
from pybpf.verifier import Options, verify

ARRAY = MapSpec("arr", MapType.ARRAY, 4, 16, 4)
ALU_OPS = (asm.add, asm.sub, asm.mul, asm.and_, asm.or_, asm.xor, asm.lsh, asm.rsh,
           asm.div, asm.mod)


def _join(rng: random.Random, label: str) -> list:
    """Two paths (by packet length) give r3 different values, join, maybe pass it through
    a stack spill, then move a stack pointer by it: one path may be out of bounds, and the
    other must not prune it."""
    base = rng.choice((8, 64, 256, 512))
    spill = [asm.stx(8, R10, R3, -16), asm.mov(R3, 0), asm.ldx(8, R3, R10, -16)] \
        if rng.random() < 0.5 else []
    return [asm.mov_reg(R2, R8), asm.sub(R2, R7), asm.mov(R3, rng.randrange(0, 520)),
            asm.jgt(R2, rng.randrange(14, 100), label), asm.mov(R3, rng.randrange(0, 520)),
            asm.label(label), *spill, asm.mov_reg(R1, R10), asm.add(R1, -base),
            asm.add(R1, R3), asm.st(1, R1, 0, 0)]


def _piece(rng: random.Random, n: int) -> list:
    kind = rng.randrange(7)
    label = f"skip{n}"
    if kind == 6:
        return _join(rng, label)
    if kind == 0:  # scalar arithmetic
        dst = rng.choice((R0, R2, R3))
        return [asm.mov(dst, rng.randrange(-50, 200)),
                rng.choice(ALU_OPS)(dst, rng.randrange(1, 40))]
    if kind == 1:  # stack store then load
        size = rng.choice((1, 2, 4, 8))
        off = -size * rng.randrange(1, 520 // size + 2)
        return [asm.st(size, R10, rng.randrange(256), off),
                asm.ldx(size, R0, R10, off + rng.choice((0, 0, 0, size, -size)))]
    if kind == 2:  # packet read after a check
        check = rng.randrange(0, 80)
        off = rng.randrange(-4, 90)
        size = rng.choice((1, 2, 4, 8))
        return [asm.mov_reg(R1, R7), asm.add(R1, check), asm.jgt(R1, R8, label),
                asm.ldx(size, R0, R7, off), asm.label(label)]
    if kind == 3:  # map lookup, maybe checked, then an access
        off = rng.randrange(-2, 20)
        size = rng.choice((1, 2, 4, 8))
        check = rng.random() < 0.8
        body = [asm.mov(R2, rng.randrange(0, 6)),
                asm.stx(4, R10, R2, -4), asm.mov_reg(R2, R10), asm.add(R2, -4),
                asm.ld_map_fd(R1, "arr"), asm.call(1)]
        if check:
            body.append(asm.jeq(R0, 0, label))
        return [*body, asm.st(size, R0, 7, off), asm.label(label)]
    if kind == 4:  # variable stack index
        mask = rng.choice((7, 15, 63, 255, 1023))
        return [asm.ldx(4, R2, R6, 16), asm.and_(R2, mask), asm.mov_reg(R3, R10),
                asm.add(R3, -rng.choice((8, 64, 256, 512))), asm.add(R3, R2),
                asm.st(1, R3, 1, 0)]
    return [asm.ldx(4, R2, R6, 12), asm.jgt(R2, rng.randrange(10), label),
            asm.mov(R0, 1), asm.label(label)]


def generate(rng: random.Random) -> list:
    prog = [asm.mov_reg(R6, R1), asm.ldx(4, R7, R1, 0), asm.ldx(4, R8, R1, 4)]
    for n in range(rng.randrange(1, 6)):
        prog += _piece(rng, n)
    return [*prog, asm.mov(R0, 2), asm.exit()]


def test_verified_programs_never_fault_in_the_vm() -> None:
    rng = random.Random(20261126)
    accepted = rejected = runs = 0
    for _ in range(400):
        insns = generate(rng)
        try:
            verify(insns, maps={"arr": ARRAY}, prog_type=ProgramType.XDP,
                   options=Options())
        except VerifierError:
            rejected += 1
            continue
        accepted += 1
        prog = vm.load(asm.link(insns), maps={"arr": vm.create_map(ARRAY)},
                       type=ProgramType.XDP)
        for _ in range(3):
            packet = bytes(rng.randrange(256) for _ in range(rng.randrange(14, 100)))
            prog.test_run(packet)  # a MemoryAccessError here fails the test
            runs += 1
    assert accepted >= 60 and rejected >= 60, (accepted, rejected)
    assert runs == accepted * 3
