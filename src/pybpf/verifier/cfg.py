"""The shape of a program before any state is tracked: slots, functions, reachable code.

Mirrors the kernel's first pass (check_subprogs, check_cfg): every jump lands on an
instruction of its own function, each function ends in ``exit`` or a jump, and no
instruction is unreachable.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cache

from ..asm.instruction import Instruction
from ..asm.opcodes import (
    CLASS_MASK,
    LDDW_OPCODE,
    MODE_MASK,
    OP_MASK,
    Class,
    JumpOp,
    Mode,
    PseudoSrc,
)
from ..helpers import helpers
from .reject import Reject


@cache
def _moves_packet() -> frozenset[int]:
    """Helpers after which a function's caller must forget its packet pointers: the helper
    table's changes_pkt_data (the kernel's bpf_helper_changes_pkt_data), tail_call included:
    a function that may tail-call is treated as changing the packet."""
    return frozenset(i for i, h in helpers().items() if h.changes_pkt_data)


@dataclass
class Program:
    code: dict[int, Instruction]      # slot -> instruction (second lddw slots absent)
    order: list[int]                  # instruction slots in order
    end: int                          # slot count
    subprogs: list[int]               # start slots, sorted (0 first)
    prune_points: set[int]
    # (slot, callee start) of the bpf-to-bpf calls and callback loads, in slot order
    calls: list[tuple[int, int]] = field(default_factory=list)

    def subprog_of(self, slot: int) -> int:
        start = 0
        for s in self.subprogs:
            if s <= slot:
                start = s
        return start

    def subprog_end(self, start: int) -> int:
        later = [s for s in self.subprogs if s > start]
        return later[0] if later else self.end

    def call_chains(self) -> list[tuple[int, ...]]:
        """Every chain of function starts from the main function along the calls (and
        callback references) of the code, stopping one past the frame limit."""
        out = []
        todo: list[tuple[int, ...]] = [(0,)]
        while todo:
            chain = todo.pop()
            out.append(chain)
            if len(chain) > 8:
                continue
            start = chain[-1]
            stop = self.subprog_end(start)
            for s, callee in self.calls:
                if start <= s < stop:
                    todo.append(chain + (callee,))
        return out

    def has_tail_call(self, start: int) -> bool:
        stop = self.subprog_end(start)
        return any(self.code[s].is_call and not self.code[s].is_pseudo_call
                   and self.code[s].src == 0 and self.code[s].imm == 12
                   for s in self.order if start <= s < stop)

    def changes_packet(self, start: int, _seen: frozenset[int] = frozenset()) -> bool:
        """May a call of the function at ``start`` move the packet (a helper that changes
        packet data, or a tail call, in it or in a function it calls)?"""
        stop = self.subprog_end(start)
        for s in self.order:
            if not start <= s < stop:
                continue
            insn = self.code[s]
            if not insn.is_call:
                continue
            if insn.is_pseudo_call:
                callee = insn.jump_target(s)
                if callee not in _seen and self.changes_packet(callee, _seen | {start}):
                    return True
            elif insn.src == 0 and insn.imm in _moves_packet():
                return True
        return False


class CfgReject(Reject):
    def __init__(self, slot: int, problem: str, hint: str = ""):
        super().__init__(problem, hint=hint)
        self.slot = slot


def build(insns: list[Instruction]) -> Program:
    # one pass finds the slots, the functions' starts, the jumps and the prune points; the
    # checks then refuse in the kernel's order (calls, function ends, jumps)
    code: dict[int, Instruction] = {}
    calls: list[tuple[int, int]] = []       # (slot, callee) of calls and callback loads
    branches: list[tuple[int, int]] = []    # (slot, target) of jumps
    # prune points, where the kernel compares states (check_cfg's mark_prune_point): every
    # conditional jump itself (one comparison before both ways), jump targets, the
    # instruction after a call, and a called function's first instruction
    points: set[int] = set()
    slot = 0
    for insn in insns:
        code[slot] = insn
        op = insn.opcode
        if op == LDDW_OPCODE:
            if insn.src == _FUNC_SRC:
                target = slot + 1 + _s32(insn.imm)
                calls.append((slot, target))
                points.add(target)     # a callback's entry
            slot += 2
            continue
        cls = op & CLASS_MASK
        if cls in (_CLASS_JMP, _CLASS_JMP32):
            kind = op & OP_MASK
            if op == _CALL:
                points.add(slot + 1)
                if insn.src == _PSEUDO_CALL_SRC:
                    target = slot + 1 + insn.imm
                    calls.append((slot, target))
                    points.add(slot)
                    points.add(target)
            elif kind != _OP_EXIT and kind != _OP_CALL:
                target = slot + 1 + (insn.imm if op == _GOTOL else insn.off)
                branches.append((slot, target))
                points.add(target)
                if kind != _OP_JA:    # conditional jumps and may_goto
                    points.add(slot)
        slot += 1
    if not code:
        raise CfgReject(0, "the program is empty", "a program needs at least an exit")
    order = list(code)
    subprogs = {0}
    for s, target in calls:
        if target not in code:
            raise CfgReject(s, f"call to a function at slot {target}, which is not the "
                               f"start of an instruction", "link the program (asm.link) "
                               "so calls reach their callee")
        subprogs.add(target)
    starts = sorted(subprogs)
    prog = Program(code, order, slot, starts, points, calls)
    for start in starts:
        stop = prog.subprog_end(start)
        last = order[bisect_left(order, stop) - 1]
        tail = code[last]
        if not (tail.is_exit or (tail.is_jump and not tail.is_conditional_jump)):
            raise CfgReject(last, "last instruction of the function is not an exit or jump: "
                                  "execution would fall off its end",
                            "end every function with `exit` (return)")
    one_function = len(starts) == 1
    for s, target in branches:
        if target not in code or (not one_function
                                  and prog.subprog_of(target) != prog.subprog_of(s)):
            raise CfgReject(s, f"jump out of range from insn {s} to {target}",
                            "jumps must land on an instruction of the same function")
    _check_reachable(prog)
    return prog


# raw opcode facts for the passes over every instruction (a large program has a million;
# Instruction's properties cost a call each)
_CLASS_JMP, _CLASS_JMP32, _CLASS_LD = int(Class.JMP), int(Class.JMP32), int(Class.LD)
_OP_CALL, _OP_EXIT, _OP_JA = int(JumpOp.CALL), int(JumpOp.EXIT), int(JumpOp.JA)
_CALL = _CLASS_JMP | _OP_CALL
_EXIT = _CLASS_JMP | _OP_EXIT
_GOTOL = _CLASS_JMP32 | _OP_JA
_PSEUDO_CALL_SRC = 1
_FUNC_SRC = int(PseudoSrc.FUNC)


def _s32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x


def _check_reachable(prog: Program) -> None:
    code = prog.code
    seen: set[int] = set()
    todo = [0]
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        insn = code.get(s)
        if insn is None:
            continue
        seen.add(s)
        op = insn.opcode
        if op == _EXIT:
            continue
        if op == LDDW_OPCODE:
            if insn.src == _FUNC_SRC:
                todo.append(s + 1 + _s32(insn.imm))
            todo.append(s + 2)
            continue
        if op == _CALL:
            if insn.src == _PSEUDO_CALL_SRC:
                todo.append(s + 1 + insn.imm)
        elif op & CLASS_MASK in (_CLASS_JMP, _CLASS_JMP32):
            kind = op & OP_MASK
            if kind != _OP_CALL and kind != _OP_EXIT:   # (a jump, as in build)
                todo.append(s + 1 + (insn.imm if op == _GOTOL else insn.off))
                if kind == _OP_JA:
                    continue
        todo.append(s + 1)
    if len(seen) == len(prog.order):
        return
    for s in prog.order:
        if s not in seen:
            raise CfgReject(s, f"unreachable insn {s}",
                            "remove dead code (no path from the entry reaches it)")


def _is_legacy_load(insn: Instruction) -> bool:
    return (insn.opcode & CLASS_MASK == Class.LD and insn.opcode != LDDW_OPCODE
            and insn.opcode & MODE_MASK in (Mode.ABS, Mode.IND))


def check_abnormal_exits(prog: Program, returns_int: dict[int, bool] | None) -> None:
    """Legacy packet loads and tail calls may end the program from inside a function.

    Without BTF func_info (``returns_int`` None) the kernel refuses both in any function
    but the main one; with it, only in functions whose prototype returns an integer
    (the kernel's check_abnormal_return / check_btf_func)."""
    starts = prog.subprogs
    if len(starts) < 2:
        return
    order = prog.order
    func = 1    # the index in ``starts`` of the function of slot s
    for s in order[bisect_left(order, starts[1]):]:
        while func + 1 < len(starts) and starts[func + 1] <= s:
            func += 1
        insn = prog.code[s]
        op = insn.opcode
        tail = op == _CALL and insn.src == 0 and insn.imm == 12
        legacy = not tail and op & CLASS_MASK == _CLASS_LD and _is_legacy_load(insn)
        if not (legacy or tail):
            continue
        what = "LD_ABS" if legacy else "tail_call"
        if returns_int is None:
            raise CfgReject(s, f"{what} is not allowed in subprogs without BTF",
                            "load the program with BTF func_info (as clang -g gives) or "
                            "move it into the main function")
        if not returns_int.get(starts[func], True):
            raise CfgReject(s, f"{what} is only allowed in functions that return 'int'.",
                            "make the function return an integer type")


def check_unprivileged(prog: Program) -> None:
    """What a loader without CAP_BPF may not load at all: calls of other functions (bpf or
    kernel) and loops (a back-edge in the control flow graph)."""
    for s in prog.order:
        insn = prog.code[s]
        if insn.is_pseudo_call or insn.is_kfunc_call or (
                insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC):
            raise CfgReject(s, "loading/calling other bpf or kernel functions are allowed for "
                               "CAP_BPF and CAP_SYS_ADMIN",
                            "inline the function (static __always_inline) or load with CAP_BPF")
    back = _back_edge(prog)
    if back is not None:
        raise CfgReject(back[0], f"back-edge from insn {back[0]} to {back[1]}: unprivileged "
                                 f"programs may not loop",
                        "unroll the loop (#pragma unroll) or load with CAP_BPF")


def _back_edge(prog: Program) -> tuple[int, int] | None:
    """An edge to an instruction still on the depth-first path (a loop), if any."""
    state: dict[int, int] = {}     # 1: on the path, 2: done
    stack: list[tuple[int, list[int]]] = []

    def successors(s: int) -> list[int]:
        insn = prog.code[s]
        if insn.is_exit:
            return []
        if insn.is_jump:
            target = insn.jump_target(s)
            return [target] if not insn.is_conditional_jump else [s + insn.slots, target]
        return [s + insn.slots] if s + insn.slots in prog.code else []

    state[0] = 1
    stack.append((0, successors(0)))
    while stack:
        s, succ = stack[-1]
        if not succ:
            state[s] = 2
            stack.pop()
            continue
        t = succ.pop()
        if state.get(t) == 1:
            return s, t
        if t not in state:
            state[t] = 1
            stack.append((t, successors(t)))
    return None
