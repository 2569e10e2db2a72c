"""The shape of a program before any state is tracked: slots, functions, reachable code.

Mirrors the kernel's first pass (check_subprogs, check_cfg): every jump lands on an
instruction of its own function, each function ends in ``exit`` or a jump, and no
instruction is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc
from .reject import Reject


@dataclass
class Program:
    code: dict[int, Instruction]      # slot -> instruction (second lddw slots absent)
    order: list[int]                  # instruction slots in order
    end: int                          # slot count
    subprogs: list[int]               # start slots, sorted (0 first)
    prune_points: set[int]

    def subprog_of(self, slot: int) -> int:
        start = 0
        for s in self.subprogs:
            if s <= slot:
                start = s
        return start

    def subprog_end(self, start: int) -> int:
        later = [s for s in self.subprogs if s > start]
        return later[0] if later else self.end


class CfgReject(Reject):
    def __init__(self, slot: int, problem: str, hint: str = ""):
        super().__init__(problem, hint=hint)
        self.slot = slot


def build(insns: list[Instruction]) -> Program:
    listing = Instructions(insns)
    code = listing.by_slot()
    order = list(code)
    end = listing.slot_count
    if not order:
        raise CfgReject(0, "the program is empty", "a program needs at least an exit")
    subprogs = {0}
    for s in order:
        insn = code[s]
        if insn.is_pseudo_call or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC):
            target = s + 1 + (insn.imm if insn.is_pseudo_call else _s32(insn.imm))
            if target not in code:
                raise CfgReject(s, f"call to a function at slot {target}, which is not the "
                                   f"start of an instruction", "link the program (asm.link) "
                                   "so calls reach their callee")
            subprogs.add(target)
    starts = sorted(subprogs)
    prog = Program(code, order, end, starts, set())
    for start in starts:
        stop = prog.subprog_end(start)
        last = max(s for s in order if start <= s < stop)
        tail = code[last]
        if not (tail.is_exit or (tail.is_jump and not tail.is_conditional_jump)):
            raise CfgReject(last, "last instruction of the function is not an exit or jump: "
                                  "execution would fall off its end",
                            "end every function with `exit` (return)")
    for s in order:
        insn = code[s]
        if insn.is_jump:
            target = insn.jump_target(s)
            if target not in code or prog.subprog_of(target) != prog.subprog_of(s):
                raise CfgReject(s, f"jump out of range from insn {s} to {target}",
                                "jumps must land on an instruction of the same function")
            prog.prune_points.add(target)
            if insn.is_conditional_jump:
                prog.prune_points.add(s + 1)
        elif insn.is_call:
            prog.prune_points.add(s + 1)
    _check_reachable(prog)
    return prog


def _s32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x


def _check_reachable(prog: Program) -> None:
    seen: set[int] = set()
    todo = [0]
    while todo:
        s = todo.pop()
        if s in seen or s not in prog.code:
            continue
        seen.add(s)
        insn = prog.code[s]
        if insn.is_exit:
            continue
        if insn.is_jump:
            todo.append(insn.jump_target(s))
            if not insn.is_conditional_jump:
                continue
        if insn.is_pseudo_call:
            todo.append(insn.jump_target(s))
        if insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC:
            todo.append(s + 1 + _s32(insn.imm))
        todo.append(s + insn.slots)
    for s in prog.order:
        if s not in seen:
            raise CfgReject(s, f"unreachable insn {s}",
                            "remove dead code (no path from the entry reaches it)")
