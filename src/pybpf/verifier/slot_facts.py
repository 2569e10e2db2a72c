"""What the walk's fast paths know of each slot before the walk starts, found in one pass.

Each fact depends on an instruction's opcode and registers only, so it is worked out once
per (opcode, dst, src) and remembered for every program after: a small program's walk is
short, and four passes over its code, each testing every instruction afresh, cost as much
as walking a tenth of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..asm.instruction import Instruction
from ..asm.opcodes import (
    CLASS_MASK,
    LDDW_OPCODE,
    MODE_MASK,
    OP_MASK,
    SOURCE_MASK,
    ALUOp,
    Class,
    JumpOp,
    Mode,
)
from .scalar_ops import SWAPPED

# the kinds of the walk's fast paths (Checker._step), by slot
FP_LOAD, FP_STORE_REG, FP_STORE_IMM, COND_JUMP = range(4)

# an encoding's facts, as bits: its effect is static (see slot_facts), it is a may_goto,
# a conditional jump on existing registers, or a plain access at r10 (kind in bits 4-5)
_STATIC, _MAY_GOTO, _COND, _FP = 1, 2, 4, 8
_FP_SHIFT = 4

_ALU, _ALU64, _LDX, _ST, _STX, _JMP, _JMP32 = (int(c) for c in (
    Class.ALU, Class.ALU64, Class.LDX, Class.ST, Class.STX, Class.JMP, Class.JMP32))
_MEM, _MEMSX = int(Mode.MEM), int(Mode.MEMSX)
_JA, _JCOND = int(JumpOp.JA), int(JumpOp.JCOND)
_STATIC_ALU_OPS = (int(ALUOp.MOV), int(ALUOp.END), int(ALUOp.NEG))

_FACTS: dict[int, int] = {}


def _facts(opcode: int, dst: int, src: int) -> int:
    cls = opcode & CLASS_MASK
    mode = opcode & MODE_MASK
    op = opcode & OP_MASK
    facts = 0
    # effects (.effects.before) that depend on the instruction and the frame depth only:
    # ALU with a constant, moves, swaps and negations, lddw, gotos, loads and stores at r10
    # (the frame's own stack, at a constant offset)
    if cls in (_ALU, _ALU64):
        if not opcode & SOURCE_MASK or op in _STATIC_ALU_OPS:
            facts |= _STATIC
    elif opcode == LDDW_OPCODE:
        facts |= _STATIC
    elif cls == _LDX:
        if src == 10 and mode in (_MEM, _MEMSX):
            facts |= _STATIC   # a load from the frame pointer: the same stack bytes always
    elif cls in (_ST, _STX):
        if dst == 10 and mode == _MEM:
            facts |= _STATIC
    elif cls in (_JMP, _JMP32):
        if op in (_JA, _JCOND):
            facts |= _STATIC
        if opcode == _JMP | _JCOND:
            facts |= _MAY_GOTO
        if op in SWAPPED and dst <= 10 and (not opcode & SOURCE_MASK or src <= 10):
            facts |= _COND
    # plain loads into r0-r9 and stores at r10 + off: whatever runs them, the base is the
    # frame's own stack pointer (r10 cannot be written)
    if mode == _MEM:
        kind = None
        if cls == _LDX and src == 10 and dst < 10:
            kind = FP_LOAD
        elif cls == _STX and dst == 10:
            kind = FP_STORE_REG
        elif cls == _ST and dst == 10:
            kind = FP_STORE_IMM
        if kind is not None:
            facts |= _FP | kind << _FP_SHIFT
    return facts


def slot_facts(code: Mapping[int, Instruction], *, fp_fast: bool, jump_fast: bool
               ) -> tuple[set[int], frozenset[int], dict[int, int]]:
    """(may_goto slots, slots whose effect depends on the instruction and the frame depth
    only, slot -> fast path kind). ``fp_fast``: loads and stores at r10 take their fast
    path (not under strict alignment); ``jump_fast``: conditional jumps take theirs (not
    under the unprivileged rules, which check every comparison the long way)."""
    may_gotos: set[int] = set()
    static: list[int] = []
    fast: dict[int, int] = {}
    known = _FACTS
    for pc, insn in code.items():
        opcode, dst, src = insn.opcode, insn.dst, insn.src
        if dst < 16 and src < 16:   # (4-bit fields; anything else is not remembered)
            key = (opcode << 8) | (dst << 4) | src
            facts = known.get(key)
            if facts is None:
                facts = known[key] = _facts(opcode, dst, src)
        else:
            facts = _facts(opcode, dst, src)
        if not facts:
            continue
        if facts & _STATIC:
            static.append(pc)
        if facts & _MAY_GOTO:
            may_gotos.add(pc)
        if facts & _COND and jump_fast:
            fast[pc] = COND_JUMP
        elif facts & _FP and fp_fast:
            fast[pc] = facts >> _FP_SHIFT
    return may_gotos, frozenset(static), fast


__all__: list[str] = []
