"""The second tier: eBPF translated to Python source and compiled by CPython.

Each eBPF function (the program and every subprogram or callback it reaches) becomes one
Python function whose registers are local variables; its basic blocks are branches of a
``while True`` dispatch on the block's first slot. The translation starts from the
interpreter's predecoded tuples, so both tiers accept exactly the same programs and share
the arithmetic: cheap operations are inlined (with the 32/64-bit masks they need), rare ones
call the interpreter's own handler on a register list. Loads and stores go through the
:class:`~pybpf.vm.memory.Memory` methods, so every access is checked as in the interpreter.

The instruction budget is counted per basic block (a run may overshoot it by less than one
block before :class:`BudgetExceededError`); bpf-to-bpf calls are Python calls with a fresh
512-byte frame, r6-r9 being the caller's locals, untouched; r1-r5 are clobbered after calls
and a subprogram's tail call returns the target's r0, as in the interpreter.
"""

from __future__ import annotations

import re
import struct
import sys
from typing import Any, Literal

from . import alu
from . import interpreter as ip
from .alu import MASK32, MASK64
from .errors import BudgetExceededError, CallDepthError
from .event_helpers import TailCall
from .helpers import CLOBBERED, FUNCTION_HANDLE_BASE

_ALU_NAME = {id(fn): name for name, fn in alu.OPS64.items()}
_ALU_NAME.update({id(fn): name for name, fn in alu.OPS32.items()})
_JUMP_NAME = {id(fn): name for name, fn in alu.JUMP_TESTS.items()}
_JUMP_HANDLERS = (ip._jmp64_k, ip._jmp64_x, ip._jmp32_k, ip._jmp32_x)
_CMP = {"jeq": "==", "jne": "!=", "jgt": ">", "jge": ">=", "jlt": "<", "jle": "<=",
        "jsgt": ">", "jsge": ">=", "jslt": "<", "jsle": "<="}


def _successors(code: ip.Code, pc: int) -> list[int]:
    h, _, _, o, i, _ = code[pc]
    if h in (ip._exit, ip._fell_off, ip._bad_target):
        return []
    if h is ip._ja:
        return [pc + 1 + o]
    if h is ip._gotol:
        return [pc + 1 + i]
    if h in _JUMP_HANDLERS or h is ip._may_goto:
        return [pc + 1, pc + 1 + o]
    if h in (ip._lddw, ip._lddw_map_value):
        return [pc + 2]
    return [pc + 1]


def _function_starts(code: ip.Code) -> list[int]:
    starts = {0}
    for h, _, s, _, i, _ in code:
        if h is ip._call_local:
            starts.add(i)
        elif h is ip._lddw and s == 4:  # PseudoSrc.FUNC: a callback's handle
            starts.add(i - FUNCTION_HANDLE_BASE)
    return sorted(starts)


def _blocks(code: ip.Code, start: int) -> dict[int, list[int]]:
    """Basic blocks of the function at ``start``: first slot -> slots in order."""
    reached: set[int] = set()
    leaders = {start}
    todo = [start]
    while todo:
        pc = todo.pop()
        if pc in reached:
            continue
        reached.add(pc)
        nexts = _successors(code, pc)
        if len(nexts) != 1 or nexts[0] != pc + 1 + (code[pc][0] in (ip._lddw,
                                                                     ip._lddw_map_value)):
            leaders.update(nexts)
        todo.extend(nexts)
    blocks: dict[int, list[int]] = {}
    for leader in sorted(leaders):
        slots = []
        pc = leader
        while True:
            slots.append(pc)
            nexts = _successors(code, pc)
            if len(nexts) != 1 or nexts[0] in leaders:
                break
            pc = nexts[0]
        blocks[leader] = slots
    return blocks


_TERMINATORS = (ip._ja, ip._gotol, ip._may_goto, *_JUMP_HANDLERS)
_CALLS = (ip._call_helper, ip._call_tail, ip._call_local)
_SUBSTITUTING = (ip._mov64_k, ip._mov64_x, ip._add64_k, ip._add64_x, ip._alu64_k,
                 ip._alu64_x, ip._alu32_k, ip._alu32_x, ip._lddw, ip._end)
_COUNTABLE = (ip._mov64_k, ip._mov64_x, ip._add64_k, ip._add64_x, ip._alu64_k, ip._alu64_x,
              ip._alu32_k, ip._alu32_x, ip._lddw, ip._ldx, ip._st, ip._stx, ip._end)
MAX_INLINE_DEPTH = 24  # nested blocks per arm: Python's parser allows about 100 levels
LOW = 0x1000_0000      # the packet region's base (memory.LOW_REGION_BASE)


def _reads(text: str, r: int) -> bool:
    """The Python expression ``text`` reads the local of register r."""
    return re.search(rf"\br{r}\b", text) is not None


def _bits(value: int) -> int:
    return value.bit_length()


class _Function:
    """What the writer needs to know of one eBPF function: blocks, edges, register widths.

    Widths: ``w[r]`` bounds register r below ``2**w[r]`` at a block's entry (a forward
    dataflow over the blocks, joined by max: the lattice is finite, so it ends). They let
    the writer drop the ``& MASK`` an operation cannot need (a 32-bit operand already below
    2**32, a sum that cannot carry out of 64 bits), the main cost of 32-bit filter code.
    """

    def __init__(self, code: ip.Code, start: int):
        self.code = code
        self.start = start
        self.blocks = _blocks(code, start)
        self.succ = {leader: _successors(code, slots[-1])
                     for leader, slots in self.blocks.items()}
        self.preds: dict[int, int] = dict.fromkeys(self.blocks, 0)
        for targets in self.succ.values():
            for target in targets:
                self.preds[target] += 1
        # blocks ending in a conditional jump back to themselves: the writer runs them as a
        # Python loop of their own (see _Writer.self_loop), so that edge is no way in
        self.self_loops = {leader for leader, slots in self.blocks.items()
                           if code[slots[-1]][0] in _JUMP_HANDLERS
                           and slots[-1] + 1 + code[slots[-1]][3] == leader}
        self.has_local_calls = any(code[pc][0] is ip._call_local
                                   for slots in self.blocks.values() for pc in slots)
        self.order = self._topological()
        self.acyclic = self.order is not None
        self.widths = self._widths()
        self.plan = self._plan()
        self.lower = self._lower_bounds()
        # registers that may hold the context pointer (r1 at entry, copies of it) or a
        # packet pointer (loaded from the context, moved, offset), anywhere in the
        # function: loads through them try that region inline before the checked path
        self.ctx_regs = {1}
        self.packet_regs: set[int] = set()
        changed = True
        while changed:
            changed = False
            for slots in self.blocks.values():
                for pc in slots:
                    h, d, s = code[pc][:3]
                    for regs, source in ((self.ctx_regs, self.ctx_regs),
                                         (self.packet_regs, self.packet_regs)):
                        if h is ip._mov64_x and s in source and d not in regs:
                            regs.add(d)
                            changed = True
                    if h is ip._ldx and s in self.ctx_regs and d not in self.packet_regs:
                        self.packet_regs.add(d)
                        changed = True

    def _plan(self) -> dict[int, str]:
        """Per slot of a pure register write: "dead" (never read: not written at all) or
        "inline" (read once, later in its block, and not after it: its expression is
        written into that reader). Registers live at a block's end come from a backward
        dataflow over the blocks; r0 is live at an exit."""
        live_in: dict[int, frozenset[int]] = dict.fromkeys(self.blocks, frozenset())
        changed = True
        while changed:
            changed = False
            for leader in reversed(list(self.blocks)):
                live = self._live_out(leader, live_in)
                for pc in reversed(self.blocks[leader]):
                    reads, writes, pure = _reads_writes(self.code, pc)
                    if not (pure and not writes & live):
                        live = (live - writes) | reads
                if live != live_in[leader]:
                    live_in[leader] = frozenset(live)
                    changed = True
        plan: dict[int, str] = {}
        for leader, slots in self.blocks.items():
            live = self._live_out(leader, live_in)
            kept = []
            for pc in reversed(slots):
                reads, writes, pure = _reads_writes(self.code, pc)
                if pure and not writes & live:
                    plan[pc] = "dead"
                    continue
                kept.append(pc)
                live = (live - writes) | reads
            kept.reverse()
            out = self._live_out(leader, live_in)
            for n, pc in enumerate(kept):
                reads, writes, pure = _reads_writes(self.code, pc)
                if not pure or len(writes) != 1:
                    continue
                (d,) = writes
                uses, escapes = 0, d in out
                for later in kept[n + 1:]:
                    later_reads, later_writes, _ = _reads_writes(self.code, later)
                    uses += d in later_reads
                    if d in later_writes:
                        escapes = False
                        break
                if uses == 1 and not escapes:
                    plan[pc] = "inline"
        return plan

    def _live_out(self, leader: int, live_in: dict[int, frozenset[int]]) -> frozenset[int]:
        out: frozenset[int] = frozenset()
        for target in self.succ[leader]:
            out |= live_in[target]
        return out

    def _topological(self) -> list[int] | None:
        """Blocks in an order where each comes after its predecessors, or None (a loop)."""
        indegree = dict(self.preds)
        ready = [self.start] if indegree[self.start] == 0 else []
        order = []
        while ready:
            leader = ready.pop()
            order.append(leader)
            for target in self.succ[leader]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        return order if len(order) == len(self.blocks) else None

    def longest_path(self) -> int:
        """The most instructions one call can run (an acyclic function)."""
        assert self.order is not None
        most: dict[int, int] = {}
        for leader in reversed(self.order):
            most[leader] = len(self.blocks[leader]) + max(
                (most[t] for t in self.succ[leader]), default=0)
        return most[self.start]

    def _widths(self) -> dict[int, list[int]]:
        """Widths at each block's entry; ``self.entry_widths`` also gets, for each block
        looping on itself, the join over its other ways in (the widths its counted
        ``for`` starts from: see _Writer.self_loop)."""
        entry = [64] * 11
        entry[0] = entry[6] = entry[7] = entry[8] = entry[9] = 0
        widths = {self.start: entry}
        self.entry_widths: dict[int, list[int]] = {}
        if self.start in self.self_loops:
            self.entry_widths[self.start] = list(entry)
        todo = [self.start]
        while todo:
            leader = todo.pop()
            w = list(widths[leader])
            for pc in self.blocks[leader]:
                step(self.code, pc, w)
            for target in self.succ[leader]:
                if target in self.self_loops and target != leader:
                    seen = self.entry_widths.get(target)
                    self.entry_widths[target] = list(w) if seen is None else \
                        [max(a, b) for a, b in zip(seen, w)]
                old = widths.get(target)
                new = w if old is None else [max(a, b) for a, b in zip(old, w)]
                if new != old:
                    widths[target] = list(new)
                    todo.append(target)
        return widths

    def _lower_bounds(self) -> dict[int, list[int]]:
        """``lb[r]``: r is at least this at a block's entry (unsigned), refined on the
        edges of a jump against a constant and widened to those constants, so a
        count-down loop's ``r -= 1`` is known not to wrap."""
        thresholds = {0}
        for slots in self.blocks.values():
            h, _, _, _, i, _ = self.code[slots[-1]]
            if h in (ip._jmp64_k, ip._jmp32_k):
                thresholds.update((i, i + 1))
        ordered = sorted(thresholds)
        bounds = {self.start: [0] * 11}
        todo = [self.start]
        while todo:
            leader = todo.pop()
            lb, w = list(bounds[leader]), list(self.widths[leader])
            slots = self.blocks[leader]
            for pc in slots:
                lb_step(self.code, pc, lb, w)
                step(self.code, pc, w)
            for target, refined in _refine(self.code, slots[-1], lb, w):
                old = bounds.get(target)
                new = refined if old is None else [min(a, b) for a, b in zip(old, refined)]
                if old is not None and new != old:  # widen: down to a constant
                    new = [n if n == o else max(t for t in ordered if t <= n)
                           for n, o in zip(new, old)]
                if new != old:
                    bounds[target] = new
                    todo.append(target)
        return bounds


def lb_step(code: ip.Code, pc: int, lb: list[int], w: list[int]) -> None:
    """Lower bounds after slot ``pc`` (``w``: widths before it)."""
    h, d, s, _, i, a = code[pc]
    name = _ALU_NAME.get(id(a)) if h in (ip._alu64_k, ip._alu32_k, ip._alu32_x) else None
    if h is ip._mov64_k or h is ip._lddw:
        lb[d] = i
    elif h is ip._mov64_x:
        lb[d] = lb[s]
    elif h is ip._alu64_k and name == "sub":
        lb[d] = lb[d] - i if lb[d] >= i else 0
    elif h is ip._alu32_k and name == "sub":
        lb[d] = lb[d] - i if w[d] <= 32 and lb[d] >= i else 0
    elif h is ip._alu32_k and name == "mov":
        lb[d] = i
    elif h is ip._alu32_x and name == "mov":
        lb[d] = lb[s] if w[s] <= 32 else 0
    elif h is ip._add64_k and max(w[d], _bits(i)) < 64:
        lb[d] = lb[d] + i
    else:
        for r in _reads_writes(code, pc)[1]:
            lb[r] = 0


def _refine(code: ip.Code, last: int, lb: list[int], w: list[int]
            ) -> list[tuple[int, list[int]]]:
    """(successor, lower bounds on that edge) for the block ending at ``last``."""
    h, d, _, o, k, test = code[last]
    nexts = _successors(code, last)
    if h not in (ip._jmp64_k, ip._jmp32_k) or (h is ip._jmp32_k and w[d] > 32):
        return [(target, lb) for target in nexts]
    name = _JUMP_NAME[id(test)]
    taken, fall = list(lb), list(lb)
    low = lb[d]
    taken[d] = max(low, {"jne": 1 if k == 0 else 0, "jeq": k, "jgt": k + 1,
                         "jge": k}.get(name, 0))
    fall[d] = max(low, {"jeq": 1 if k == 0 else 0, "jne": k, "jlt": k,
                        "jle": k + 1}.get(name, 0))
    return [(last + 1 + o, taken), (last + 1, fall)]


_ALL = frozenset(range(10))
_ARGS = frozenset(range(1, 6))
_CLOBBERS = frozenset(range(6))


def _reads_writes(code: ip.Code, pc: int) -> tuple[frozenset[int], frozenset[int], bool]:
    """Registers slot ``pc`` reads and writes, and whether it is a pure register write
    (no memory, no fault, no call): one the writer may drop or move."""
    h, d, s, _, _, a = code[pc]
    one, both = frozenset((d,)), frozenset((d, s))
    if h is ip._mov64_k or h is ip._lddw:
        return frozenset(), one, True
    if h is ip._mov64_x:
        return frozenset((s,)), one, True
    if h is ip._add64_k or h is ip._alu64_k or h is ip._alu32_k or h is ip._end:
        mov = h in (ip._alu64_k, ip._alu32_k) and _ALU_NAME.get(id(a)) == "mov"
        return (frozenset() if mov else one), one, True
    if h is ip._add64_x or h is ip._alu64_x or h is ip._alu32_x:
        mov = h is not ip._add64_x and _ALU_NAME.get(id(a)) == "mov"
        return (frozenset((s,)) if mov else both), one, True
    if h in (ip._ldx, ip._ldxsx):
        return frozenset((s,)), one, False
    if h is ip._st:
        return one, frozenset(), False
    if h is ip._stx:
        return both, frozenset(), False
    if h is ip._ld_packet:
        return (frozenset((s,)) if a[1] else frozenset()), frozenset((0,)), False
    if h in (ip._jmp64_k, ip._jmp32_k):
        return one, frozenset(), False
    if h in (ip._jmp64_x, ip._jmp32_x):
        return both, frozenset(), False
    if h in (ip._ja, ip._gotol, ip._may_goto):
        return frozenset(), frozenset(), False
    if h is ip._exit:
        return frozenset((0,)), frozenset(), False
    if h in (ip._call_helper, ip._call_tail, ip._call_local):
        return _ARGS, _CLOBBERS, False
    return _ALL, _ALL, False  # handlers run generically: anything


def step(code: ip.Code, pc: int, w: list[int]) -> None:  # noqa: C901 (one case per kind)
    """Register widths after slot ``pc`` (see _Function): must agree with _Writer."""
    h, d, s, _, i, a = code[pc]
    if h is ip._mov64_k or h is ip._lddw:
        w[d] = _bits(i)
    elif h is ip._mov64_x:
        w[d] = w[s]
    elif h is ip._add64_k:
        w[d] = min(max(w[d], _bits(i)) + 1, 64)
    elif h is ip._add64_x:
        w[d] = min(max(w[d], w[s]) + 1, 64)
    elif h in (ip._alu64_k, ip._alu64_x, ip._alu32_k, ip._alu32_x):
        w[d] = _alu_width(h, _ALU_NAME.get(id(a)), w[d],
                          w[s] if h in (ip._alu64_x, ip._alu32_x) else _bits(i), i)
    elif h is ip._end:
        w[d] = min(w[d], i) if a is alu.truncate else i
    elif h is ip._ldx:
        w[d] = 8 * a
    elif h is ip._ld_packet:
        w[0] = 8 * a[0]
    elif h is ip._ldxsx:
        w[d] = 64
    elif h in (ip._call_helper, ip._call_tail, ip._call_local):
        for r in range(6):
            w[r] = 64
    elif h in (ip._st, ip._stx, ip._exit) or h in _TERMINATORS:
        pass
    else:  # generic handlers may write any register
        for r in range(10):
            w[r] = 64


def _alu_width(h: Any, name: str | None, wd: int, wx: int, i: int) -> int:
    """Width of an ALU result (operand widths wd, wx; i the immediate)."""
    bits = 64 if h in (ip._alu64_k, ip._alu64_x) else 32
    if bits == 32:
        wd, wx = min(wd, 32), min(wx, 32)
    by_imm = h in (ip._alu64_k, ip._alu32_k)
    if name == "add":
        out = max(wd, wx) + 1
    elif name == "mul":
        out = wd + wx
    elif name in ("or", "xor"):
        out = max(wd, wx)
    elif name == "and":
        out = min(wd, wx)
    elif name == "mov":
        out = wx
    elif name == "lsh" and by_imm:
        out = wd + (i & (bits - 1))
    elif name == "rsh":
        out = max(wd - (i & (bits - 1)), 0) if by_imm else wd
    elif name in ("div", "mod"):
        out = wd
    else:
        out = bits
    return min(out, bits)


class _Writer:
    """Python source for one eBPF function.

    Blocks reached from one place only are written inline where they are jumped to, as
    ``if``/``else`` branches; so are tiny exit blocks (``r0 = k; exit``), copied. The
    others (merge points, loop heads) are arms of a ``while True`` dispatch on ``b``; a
    block looping on itself runs in a ``for`` over its remaining instruction allowance. An
    acyclic function without bpf-to-bpf calls checks its budget once, on entry, against its
    longest path (``checked=False``), and calls its checked twin when that may not fit.
    """

    def __init__(self, fn: _Function, *, checked: bool, name: str):
        self.fn = fn
        self.code = fn.code
        self.start = fn.start
        self.checked = checked
        self.name = name
        self.lines: list[str] = []
        # aligned accesses to the function's own frame, as (offset, size): they read and
        # write typed views of the stack by an index computed once per call
        self.frame_slots: set[tuple[int, int]] = set()
        self.arms_wanted: list[int] = []
        self.dispatches = False
        # instructions run since ``left`` was last lowered (unchecked functions lower it
        # only where it is read: exits, calls, the dispatch)
        self.acc = 0
        # register -> expression not yet assigned (plan "inline"): its one reader gets it
        self.pending: dict[int, str] = {}
        self.lb = [0] * 11  # lower bounds of the registers at the slot being written
        self.ahead = 0  # instructions of the current block after the one being written
        # accumulators of the counted loop being written: their locals may leave 0..2**64-1
        # (congruent to the value mod 2**64) until the loop ends (see loose_accumulators)
        self.loose: frozenset[int] = frozenset()
        self.uses_packet = any(self.code[pc][0] is ip._ld_packet or (
            self.code[pc][0] is ip._ldx and self.code[pc][2] in fn.packet_regs)
            for slots in fn.blocks.values() for pc in slots)

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def read(self, r: int) -> str:
        """The text reading register r: its pending expression (used up) or the local."""
        expression = self.pending.pop(r, None)
        return f"r{r}" if expression is None else f"({expression})"

    def materialize(self, depth: int) -> None:
        """Assign every pending expression. Each reads the locals as they are now (a
        local is never written while a pending expression reads it: see assign), but one
        may read the old value of a register another assigns (``r7 - r8`` was taken into
        a new value of r7 pending after r8's): in order when no expression reads a
        register assigned before it, else all at once, as one tuple assignment."""
        pending = list(self.pending.items())
        self.pending.clear()
        self.assign_all(depth, pending)

    def assign_all(self, depth: int, pending: list[tuple[int, str]]) -> None:
        written: set[int] = set()
        for r, text in pending:
            if any(_reads(text, w) for w in written):
                targets = ", ".join(f"r{r}" for r, _ in pending)
                self.emit(depth, f"{targets} = {', '.join(t for _, t in pending)}")
                return
            written.add(r)
        for r, text in pending:
            self.emit(depth, f"r{r} = {text}")

    def assign(self, depth: int, pc: int, d: int, text: str) -> None:
        """``rd = text``, or kept pending for its one reader. A pending value of rd leaves
        the local rd untouched, so expressions pending on the old rd (``r0 ^ r2`` then
        ``r2 >> 7``) stay as they are and fuse on. Writing rd while some read the old one
        writes them and rd together (see materialize): ``text`` may itself read the old
        value of a register whose new value is pending."""
        if self.fn.plan.get(pc) == "inline":
            self.pending[d] = text
            return
        if any(_reads(t, d) for t in self.pending.values()):
            pending = [(r, t) for r, t in self.pending.items() if r != d]
            self.pending.clear()
            self.assign_all(depth, [*pending, (d, text)])
        else:
            self.emit(depth, f"r{d} = {text}")

    def flush(self, depth: int) -> None:
        if self.acc:
            self.emit(depth, f"left -= {self.acc}")
            self.acc = 0

    def spent(self) -> str:
        return f"left - {self.acc}" if self.acc else "left"

    def generic(self, depth: int, pc: int, w: list[int]) -> None:
        """Run the interpreter's handler for slot ``pc`` on a register list."""
        self.flush(depth)
        self.emit(depth, "R = [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10]")
        self.emit(depth, f"m.budget_left = left; C[{pc}][0](R, m, {pc}, *C[{pc}][1:])")
        self.emit(depth, "r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 = R[:10]")
        self.refresh(depth)
        step(self.code, pc, w)

    def refresh(self, depth: int) -> None:
        """After anything that may move the packet's edges: the packet view again."""
        if self.uses_packet:
            self.emit(depth, "pb, pd, pn, plo, phi = pview(m.packet)")

    def function(self) -> str:
        fn = self.fn
        body_start = len(self.lines)
        emitted: set[int] = set()
        self.arms_wanted = [self.start]
        arms = 0
        while self.arms_wanted:
            leader = self.arms_wanted.pop(0)
            if leader in emitted:
                continue
            emitted.add(leader)
            self.emit(2, f"{'if' if arms == 0 else 'elif'} b == {leader}:")
            arms += 1
            self.acc = 0
            self.block(3, leader)
        dispatch = arms > 1 or self.dispatches
        body = self.lines[body_start:]
        if dispatch:
            body = ["    while True:", *body, "        else:",
                    "            raise AssertionError(b)"]
        else:  # one arm and no jumps back to the dispatch: straight-line code
            body = [line[8:] for line in body[1:]]
        text = "\n".join(body)
        head = [f"def {self.name}(m, r1, r2, r3, r4, r5, r10):", "    left = m.budget_left"]
        if not self.checked:
            head.append(f"    if left < {fn.longest_path()}: "
                        f"return f{self.start}_checked(m, r1, r2, r3, r4, r5, r10)")
        for name, setup in (("ld", "ld = m.load"), ("lds", "lds = m.load_signed"),
                            ("st", "st = m.store"), ("hs", "hs = m.helper_state")):
            if re.search(rf"\b{name}\(|\b{name}\b,", text):
                head.append("    " + setup)
        if re.search(r"\b(sb|so|v\d)\b", text) or self.frame_slots:
            head.append("    sb = m.stack.buf; so = r10 - m.stack.base")
        head += [f"    v{size} = sb_view(sb, {size!r})"
                 for size in sorted({size for _, size in self.frame_slots})]
        head += [f"    {_slot_name(off, size)} = (so + {off}) // {size}"
                 for off, size in sorted(self.frame_slots)]
        if re.search(r"\b(pb|pd|pn|plo|phi)\b", text):
            head.append("    pb, pd, pn, plo, phi = pview(m.packet)")
        if re.search(r"\b(cb|cbase|clo|chi)\b", text):
            head.append("    cb, cbase, clo, chi = rview(m.memory, r1)")
        zeroed = [f"r{r}" for r in (0, 6, 7, 8, 9) if re.search(rf"\br{r}\b", text)]
        if zeroed:
            head.append(f"    {' = '.join(zeroed)} = 0")
        if dispatch:
            head.append(f"    b = {self.start}")
        return "\n".join(head) + "\n" + text

    def goto(self, depth: int, target: int) -> None:
        fn = self.fn
        entries = fn.preds[target] - (target in fn.self_loops)
        if target != self.start and depth < MAX_INLINE_DEPTH and (
                entries == 1 or self.tiny_exit(target, 3)):
            self.block(depth, target)
        else:
            self.flush(depth)
            self.emit(depth, f"b = {target}")
            self.dispatches = True
            self.arms_wanted.append(target)

    def tiny_exit(self, leader: int, most: int) -> bool:
        """The block and the blocks it jumps to unconditionally end in an exit within
        ``most`` instructions (a verdict: worth copying rather than dispatching to)."""
        slots = self.fn.blocks[leader]
        h, _, _, o, _, _ = self.code[slots[-1]]
        if len(slots) > most:
            return False
        if h is ip._exit:
            return True
        return h is ip._ja and self.tiny_exit(slots[-1] + 1 + o, most - len(slots))

    def block(self, depth: int, leader: int) -> None:
        slots = self.fn.blocks[leader]
        w = list(self.fn.widths[leader])
        if self.self_loop(depth, leader, slots, w):
            return
        if self.checked:
            self.emit(depth, f"left -= {len(slots)}")
            self.emit(depth, f"if left < 0: budget_exceeded({leader})")
        else:
            self.acc += len(slots)
        last = slots[-1]
        h = self.code[last][0]
        self.lb = list(self.fn.lower.get(leader, [0] * 11))
        for n, pc in enumerate(slots[:-1] if h in _TERMINATORS else slots):
            self.ahead = len(slots) - n - 1
            before = list(w)
            self.insn(depth, pc, w)
            lb_step(self.code, pc, self.lb, before)
        self.terminate(depth, last, w)

    def test(self, depth: int, h: Any, d: int, s: int, i: int, a: Any, w: list[int]) -> str:
        """A jump's condition, with pending expressions it reads written in."""
        if h in (ip._jmp64_x, ip._jmp32_x) and d == s:
            self.materialize(depth)
        condition = self.condition(h, d, s, i, a, w)
        if any(_reads(condition, r) for r in self.pending):
            self.emit(depth, f"c_ = {condition}")  # before the values pending are written
            condition = "c_"
        self.materialize(depth)
        return condition

    def terminate(self, depth: int, last: int, w: list[int]) -> None:
        h, d, s, o, i, a = self.code[last]
        if h not in _JUMP_HANDLERS:
            self.materialize(depth)
        if h is ip._ja:
            self.goto(depth, last + 1 + o)
        elif h is ip._gotol:
            self.goto(depth, last + 1 + i)
        elif h in _JUMP_HANDLERS:
            acc = self.acc
            self.emit(depth, f"if {self.test(depth, h, d, s, i, a, w)}:")
            self.goto(depth + 1, last + 1 + o)
            self.emit(depth, "else:")
            self.acc = acc
            self.goto(depth + 1, last + 1)
        elif h is ip._may_goto:
            acc = self.acc
            self.emit(depth, "if m.may_goto_left:")
            self.emit(depth + 1, "m.may_goto_left -= 1")
            self.goto(depth + 1, last + 1)
            self.emit(depth, "else:")
            self.acc = acc
            self.goto(depth + 1, last + 1 + o)
        else:
            nexts = _successors(self.code, last)
            if nexts:  # the block ends because the next slot starts another
                self.goto(depth, nexts[0])

    def frame_slot(self, off: int, size: int) -> str | None:
        """``v{size}[index]`` for an aligned access to the own frame, else None. Registers
        always hold 0..2**64-1, so an 8-byte store needs no mask."""
        if not _TYPED_VIEWS or off % size:
            return None
        self.frame_slots.add((off, size))
        return f"v{size}[{_slot_name(off, size)}]"

    def self_loop(self, depth: int, leader: int, slots: list[int], w: list[int]) -> bool:
        """A block ending in a conditional jump back to itself (the body of most loops)
        runs in a Python loop of its own, so each turn skips the block dispatch: a ``for``
        over the turns the budget allows, unless a bpf-to-bpf call in it spends budget.

        A counted body ending in ``rX -= 1; if rX != 0: loop`` whose other slots leave rX
        alone runs, when its rX turns fit the budget, as ``for rX in range(rX, 0, -1)``:
        the decrement, the test and the turn count become the ``for``'s own."""
        last = slots[-1]
        h, d, s, o, i, a = self.code[last]
        if h not in _JUMP_HANDLERS or leader not in (last + 1 + o, last + 1):
            return False
        taken, fallthrough = last + 1 + o, last + 1
        n = len(slots)
        # only a body that never reads ``left`` (no calls, no packet loads that may end
        # the run, no handler called generically) counts its turns by the ``for``
        counted = all(self.code[pc][0] in _COUNTABLE for pc in slots[:-1])
        counter = self.count_down(leader, slots) if counted else None
        inner = depth
        if counter is not None:
            entry_w, entry_lb = list(w), list(self.fn.lower.get(leader, [0] * 11))
            x = f"r{counter}"
            self.emit(depth, f"if 0 < {x} <= left // {n}:")
            self.emit(depth + 1, f"left -= {n} * {x}")
            self.emit(depth + 1, f"for {x} in range({x}, 0, -1):")
            # each turn's rX is at least 1 and at most its value on the way in: its width
            # is the one it has coming from outside the loop, not the wrapped ``rX - 1``
            # the join with the loop's own edge assumed
            self.lb = list(entry_lb)
            self.lb[counter] = max(self.lb[counter], 1)
            w[counter] = min(w[counter], self.fn.entry_widths.get(leader, w)[counter])
            written = len(self.lines)
            self.loose = self.loose_accumulators(slots[:-2], {counter})
            for k, pc in enumerate(slots[:-2]):
                self.ahead = len(slots) - k - 1
                before = list(w)
                self.insn(depth + 2, pc, w)
                lb_step(self.code, pc, self.lb, before)
            self.materialize(depth + 2)
            if len(self.lines) == written:
                self.emit(depth + 2, "pass")
            for r in sorted(self.loose):
                self.emit(depth + 1, f"r{r} = r{r} & {MASK64}")
            self.loose = frozenset()
            self.emit(depth + 1, f"{x} = 0")
            self.emit(depth, "else:")
            w[:] = entry_w
            inner = depth + 1
        if counted:
            self.emit(inner, f"for it_ in range(left // {n}):")
            # (the jump's registers are read by its test: exact)
            self.loose = self.loose_accumulators(slots[:-1], {d, s} if h in (
                ip._jmp64_x, ip._jmp32_x) else {d})
        else:
            self.emit(inner, "while True:")
            self.emit(inner + 1, f"left -= {n}")
            self.emit(inner + 1, f"if left < 0: budget_exceeded({leader})")
        self.lb = list(self.fn.lower.get(leader, [0] * 11))
        for k, pc in enumerate(slots[:-1]):
            self.ahead = len(slots) - k - 1
            before = list(w)
            self.insn(inner + 1, pc, w)
            lb_step(self.code, pc, self.lb, before)
        condition = self.test(inner + 1, h, d, s, i, a, w)
        if taken == leader:
            self.emit(inner + 1, f"if not ({condition}): break")
        else:
            self.emit(inner + 1, f"if {condition}: break")
        if counted:
            self.emit(inner, "else:")
            self.emit(inner + 1, f"budget_exceeded({leader})")
            self.emit(inner, f"left -= {n} * it_ + {n}")
            for r in sorted(self.loose):
                self.emit(inner, f"r{r} = r{r} & {MASK64}")
            self.loose = frozenset()
        self.goto(depth, fallthrough if taken == leader else taken)
        return True

    def loose_accumulators(self, body: list[int], exact: set[int]) -> frozenset[int]:
        """Registers but ``exact`` (the counter, the tested registers) that the ``body`` of
        a loop run by a ``for`` reads only to add, subtract, xor, or or and them into
        themselves (``r0 += r2; r0 ^= r3``, 64-bit): their masks move out of the loop, after
        it (its ways out are its test and the budget's exception). Inside, such a local
        holds an int congruent to the register mod 2**64 (maybe negative or past 2**64),
        which is all those operations need for the low 64 bits, and nothing else sees it:
        each turn moves it by less than 2**64 per operation (its operands are other
        registers, exact, or immediates), so it stays a few digits long. Only worth it where
        an add or a subtract would be masked."""
        allowed = {"add", "sub", "xor", "or", "and"}
        loose = set()
        for r in range(10):
            if r in exact:
                continue
            masked = False
            for pc in body:
                h, d, s, _, _, a = self.code[pc]
                if r not in _reads_writes(self.code, pc)[0]:
                    continue
                if h in (ip._add64_k, ip._add64_x):
                    name = "add"
                elif h in (ip._alu64_k, ip._alu64_x):
                    name = _ALU_NAME.get(id(a)) or ""
                else:
                    break
                if d != r or (h in (ip._add64_x, ip._alu64_x) and s == r) or \
                        name not in allowed:
                    break
                masked = masked or name in ("add", "sub")
            else:
                if masked:
                    loose.add(r)
        return frozenset(loose)

    def count_down(self, leader: int, slots: list[int]) -> int | None:
        """The register rX of a self-loop ending in ``rX -= 1`` (64-bit) and a jump back
        while ``rX != 0`` (or ``> 0``), when no other slot of it writes rX; else None."""
        if len(slots) < 2:
            return None
        h, d, _, o, i, test = self.code[slots[-1]]
        if h is not ip._jmp64_k or i != 0 or slots[-1] + 1 + o != leader or \
                _JUMP_NAME[id(test)] not in ("jne", "jgt"):
            return None
        hs, ds, _, _, k, op = self.code[slots[-2]]
        decrement = (hs is ip._alu64_k and _ALU_NAME.get(id(op)) == "sub" and k == 1) or \
            (hs is ip._add64_k and k == MASK64)
        if ds != d or not decrement or self.fn.plan.get(slots[-2]) == "dead":
            return None
        if any(d in _reads_writes(self.code, pc)[1] for pc in slots[:-2]):
            return None
        return d

    def load(self, pc: int, d: int, s: int, o: int, size: int) -> str:
        """``rd = ...`` for a load through a pointer that is not the frame's: the packet
        (or, for context registers, the context) region inline when the address lies in
        it, else the checked ``ld`` (faults and every other region)."""
        address = f"r{s} + {o}" if o else f"r{s}"
        if self.start == 0 and s in self.fn.ctx_regs:
            base, buf, low, high = "cbase", "cb", "clo", "chi"
        elif s in self.fn.packet_regs:
            base, buf, low, high = str(LOW), "pb", "plo", "phi"
        else:
            return f"r{d} = ld(({address}) & {MASK64}, {size}, {pc})"
        read = f"{buf}[t_]" if size == 1 else f"U{size}({buf}, t_)[0]"
        return (f"t_ = {address} - {base}; r{d} = {read} if {low} <= t_ <= {high} - {size} "
                f"else ld(({address}) & {MASK64}, {size}, {pc})")

    def insn(self, depth: int, pc: int, w: list[int]) -> None:  # noqa: C901
        h, d, s, o, i, a = self.code[pc]
        def e(text: str) -> None:
            self.emit(depth, text)

        rd, rs = f"r{d}", f"r{s}"
        plan = self.fn.plan.get(pc)
        if plan == "dead":  # a register write nothing reads
            step(self.code, pc, w)
            return
        if h not in _SUBSTITUTING or (h is ip._end and i == 16) or (
                h in (ip._add64_x, ip._alu64_x, ip._alu32_x) and d == s):
            self.materialize(depth)
        if h in _CALLS:  # a call reads the budget: ``left`` must be up to date
            self.flush(depth)
        if h is ip._mov64_k or h is ip._lddw:
            self.assign(depth, pc, d, str(i))
        elif h is ip._mov64_x:
            self.assign(depth, pc, d, self.read(s))
        elif h is ip._add64_k:
            x = self.read(d)
            self.assign(depth, pc, d, f"{x} + {i}" if max(w[d], _bits(i)) < 64
                        or d in self.loose else f"({x} + {i}) & {MASK64}")
        elif h is ip._add64_x:
            x, y = self.read(d), self.read(s)
            self.assign(depth, pc, d, f"{x} + {y}" if max(w[d], w[s]) < 64
                        or d in self.loose else f"({x} + {y}) & {MASK64}")
        elif h in (ip._alu64_k, ip._alu64_x, ip._alu32_k, ip._alu32_x):
            self.alu(depth, pc, h, d, s, i, a, w)
        elif h is ip._end:
            x = self.read(d)
            if a is alu.truncate:
                self.assign(depth, pc, d, f"{x} & {(1 << i) - 1}" if w[d] > i else x)
            elif i == 16:
                self.assign(depth, pc, d, f"(({x} & 255) << 8) | (({x} >> 8) & 255)")
            else:
                self.assign(depth, pc, d, f"bswap{i}({x})")
        elif h is ip._ldx and s == 10 and _in_frame(o, a) and self.frame_slot(o, a):
            e(f"{rd} = {self.frame_slot(o, a)}")
        elif h is ip._ldx and s == 10 and _in_frame(o, a):
            e(f"{rd} = U{a}(sb, so + {o})[0]")  # own frame: always in bounds, see _in_frame
        elif h is ip._ldx and s != 10:
            e(self.load(pc, d, s, o, a))
        elif h is ip._ldx:
            e(f"{rd} = ld(({rs} + {o}) & {MASK64}, {a}, {pc})")
        elif h is ip._ldxsx:
            e(f"{rd} = lds(({rs} + {o}) & {MASK64}, {a}, {pc})")
        elif h is ip._st and d == 10 and _in_frame(o, a) and self.frame_slot(o, a):
            e(f"{self.frame_slot(o, a)} = {i & ((1 << 8 * a) - 1)}")
        elif h is ip._stx and d == 10 and _in_frame(o, a) and self.frame_slot(o, a):
            value = rs if a == 8 or w[s] <= 8 * a else f"{rs} & {(1 << 8 * a) - 1}"
            e(f"{self.frame_slot(o, a)} = {value}")
        elif h is ip._st and d == 10 and _in_frame(o, a):
            e(f"P{a}(sb, so + {o}, {i & ((1 << 8 * a) - 1)})")
        elif h is ip._stx and d == 10 and _in_frame(o, a):
            e(f"P{a}(sb, so + {o}, {rs} & {(1 << 8 * a) - 1})")
        elif h is ip._st:
            e(f"st(({rd} + {o}) & {MASK64}, {a}, {i}, {pc})")
        elif h is ip._stx:
            e(f"st(({rd} + {o}) & {MASK64}, {a}, {rs}, {pc})")
        elif h is ip._call_tail and self.start != 0:
            # a tail call in a subprogram: the target runs in this frame and its r0 is
            # what this function returns (see the interpreter's _call_tail)
            e("m.budget_left = left")
            e("try:")
            e(f"    r0 = C[{pc}][5](hs, {pc}, r1, r2, r3, r4, r5) & {MASK64}")
            e("except TailCall as tail:")
            e(f"    return m.run_tail_in_frame(tail, r1, r10) & {MASK64}")
            e(f"r1 = r2 = r3 = r4 = r5 = {CLOBBERED}")
            self.refresh(depth)
        elif h is ip._call_helper or h is ip._call_tail:
            e(f"m.budget_left = left; r0 = C[{pc}][5](hs, {pc}, r1, r2, r3, r4, r5) & {MASK64}")
            e(f"r1 = r2 = r3 = r4 = r5 = {CLOBBERED}")
            self.refresh(depth)
        elif h is ip._call_local:
            e("stack = m.stack")
            e(f"if stack.low < {ip.STACK_BYTES_PER_FRAME}: call_too_deep({pc})")
            e(f"stack.low -= {ip.STACK_BYTES_PER_FRAME}; m.budget_left = left")
            e("try:")
            e(f"    r0 = f{i}(m, r1, r2, r3, r4, r5, r10 - {ip.STACK_BYTES_PER_FRAME})")
            e("finally:")
            e(f"    stack.low += {ip.STACK_BYTES_PER_FRAME}")
            e("left = m.budget_left")
            e(f"r1 = r2 = r3 = r4 = r5 = {CLOBBERED}")
            self.refresh(depth)
        elif h is ip._ld_packet:
            self.ld_packet(e, s, i, a, w)
        elif h is ip._exit:
            e(f"m.budget_left = {self.spent()}")
            e("return r0")
        else:  # rare kinds: the interpreter's handler does it (may raise for bad slots)
            self.generic(depth, pc, w)
            return
        step(self.code, pc, w)

    def ld_packet(self, e: Any, s: int, i: int, a: Any, w: list[int]) -> None:
        """Legacy LD_ABS/LD_IND (classic filters are made of them): a big-endian packet
        load into r0; out of bounds ends the program with r0 = 0 (the interpreter's
        _ld_packet). ``pn`` is the bytes from data to the end, below 2**31, so an offset
        that is negative as s32 is out of bounds as well."""
        size, indirect = a
        # the count includes this instruction but not the rest of its block
        spent = f"left - {self.acc - self.ahead}" if self.acc != self.ahead else "left"
        if self.acc < self.ahead:
            spent = f"left + {self.ahead - self.acc}"
        halt = f"m.budget_left = {spent}; raise Halt"
        if indirect:
            offset = f"r{s} + {i}" if i else f"r{s}"
            if max(w[s], _bits(i)) >= 32:
                offset = f"({offset}) & {MASK32}"
            e(f"o_ = {offset}")
            e(f"if o_ > pn - {size}: {halt}")
            at = "pd + o_"
        else:
            off = alu.to_signed(i & MASK32, 32)
            if off < 0:
                e(halt)
                return
            e(f"if pn < {off + size}: {halt}")
            at = f"pd + {off}" if off else "pd"
        e(f"r0 = pb[{at}]" if size == 1 else f"r0 = BE{size}(pb, {at})[0]")

    def alu(self, depth: int, pc: int, h: Any, d: int, s: int, i: int, fn: Any,
            w: list[int]) -> None:
        name = _ALU_NAME.get(id(fn))
        wide = h in (ip._alu64_k, ip._alu64_x)
        mask = MASK64 if wide else MASK32
        bits = 64 if wide else 32
        by_reg = h in (ip._alu64_x, ip._alu32_x)
        if (by_reg and name in ("div", "mod")) or (not by_reg and name == "mod" and not i):
            self.materialize(depth)  # these read an operand twice
        rd = "" if name == "mov" else self.read(d)
        if not wide and w[d] > 32:
            rd = f"({rd} & {MASK32})"
        if by_reg:
            x = self.read(s)
            if not wide and w[s] > 32:
                x = f"({x} & {MASK32})"
            wx = min(w[s], bits)
        else:
            x, wx = str(i), _bits(i)
        wd = min(w[d], bits)
        fits = _alu_width(h, name, wd, wx, i) < bits or (
            name in ("add", "mul", "lsh") and
            {"add": max(wd, wx) + 1, "mul": wd + wx,
             "lsh": wd + (i & (bits - 1))}[name] <= bits and (name != "lsh" or not by_reg))
        if name in ("add", "sub") and wide and d in self.loose:
            text = f"{rd} {'+' if name == 'add' else '-'} {x}"  # masked after the loop
        elif name == "add":
            text = f"{rd} + {x}" if fits else f"({rd} + {x}) & {mask}"
        elif name == "mul" and wide and not by_reg and i >> 63 and self.lb[d] >= 1 and \
                wd + _bits((1 << 64) - i) <= 64:
            # by a negative immediate -n: 2**64 - rd * n, exact as 1 <= rd * n < 2**64;
            # narrower operands than rd * (2**64 - n) and no mask
            text = f"{1 << 64} - {rd} * {(1 << 64) - i}"
        elif name == "mul":
            text = f"{rd} * {x}" if fits else f"({rd} * {x}) & {mask}"
        elif name == "lsh" and not by_reg:
            k = i & (bits - 1)
            text = f"{rd} << {k}" if fits else f"({rd} << {k}) & {mask}"
        elif name == "sub" and not by_reg and self.lb[d] >= i and (wide or w[d] <= 32):
            text = f"{rd} - {i}"  # cannot wrap: rd is at least i
        elif name == "rsh" and not by_reg:
            text = f"{rd} >> {i & (bits - 1)}"
        elif name == "div" and not by_reg:
            text = f"{rd} // {i}" if i else "0"
        elif name == "mod" and not by_reg:
            text = f"{rd} % {i}" if i else rd
        else:
            text = {"sub": f"({rd} - {x}) & {mask}", "or": f"{rd} | {x}",
                    "and": f"{rd} & {x}", "xor": f"{rd} ^ {x}", "mov": x,
                    "neg": f"-{rd} & {mask}",
                    "lsh": f"({rd} << ({x} & {bits - 1})) & {mask}",
                    "rsh": f"{rd} >> ({x} & {bits - 1})",
                    "div": f"({rd} // {x} if {x} else 0)",
                    "mod": f"({rd} % {x} if {x} else {rd})"}.get(name or "", "")
        if not text:  # sdiv, smod, arsh: the shared pure functions
            table = "OPS64" if wide else "OPS32"
            text = f"{table}[{name!r}]({rd}, {x})"
        self.assign(depth, pc, d, text)

    def condition(self, h: Any, d: int, s: int, i: int, test: Any, w: list[int]) -> str:
        name = _JUMP_NAME[id(test)]
        wide = h in (ip._jmp64_k, ip._jmp64_x)
        by_reg = h in (ip._jmp64_x, ip._jmp32_x)
        bits = 64 if wide else 32
        a = self.read(d)
        if not wide and w[d] > 32:
            a = f"({a} & {MASK32})"
        b = str(i)
        if by_reg:
            b = self.read(s)
            if not wide and w[s] > 32:
                b = f"({b} & {MASK32})"
        if name == "jset":
            return f"{a} & {b}"
        if name.startswith("js"):
            a = f"to_signed({a}, {bits})"
            b = f"to_signed({b}, {bits})" if by_reg else str(alu.to_signed(i, bits))
        return f"{a} {_CMP[name]} {b}"


# Typed views index the stack in the host's byte order: only where that is eBPF's own
# (little-endian, as struct's "<" formats above assume everywhere else).
_TYPED_VIEWS = sys.byteorder == "little"
_VIEW_FORMATS: dict[int, Literal["B", "H", "I", "Q"]] = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _slot_name(off: int, size: int) -> str:
    return f"k{size}_{'m' if off < 0 else 'p'}{abs(off)}"


def sb_view(buf: bytearray, size: int) -> memoryview:
    """The stack seen as an array of ``size``-byte unsigned ints. The stack frame base
    (``so``) is a multiple of 8, so an access at an offset aligned to its size is one
    element."""
    return memoryview(buf).cast(_VIEW_FORMATS[size])


def _in_frame(off: int, size: int) -> bool:
    """r10 + off .. + size lies inside the function's own 512-byte frame. r10 never changes
    within a function and that frame is always inside the stack region, so such an access
    needs no run-time check (the interpreter's check would always pass)."""
    return off >= -ip.STACK_BYTES_PER_FRAME and off + size <= 0


def pview(packet: Any) -> tuple[Any, int, int, int, int]:
    """The packet as generated code reads it: (buffer, data offset, bytes from data to the
    end, lowest and end offsets of the region); an empty view without a packet."""
    if packet is None:
        return b"", 0, 0, 1, 0
    buf = packet.region.buf
    return buf, packet.data, len(buf) - packet.data, packet.region.low, len(buf)


def rview(memory: Any, address: int) -> tuple[Any, int, int, int]:
    """The region holding ``address`` (the context) as (buffer, base, low, end offset)."""
    region = memory._regions.get(address >> 32)
    if region is None:
        return b"", 0, 1, 0
    return region.buf, region.base, region.low, len(region.buf)


def budget_exceeded(slot: int) -> None:
    raise BudgetExceededError("stopped after the run's instruction budget; raise it or look "
                              "for a loop that never ends", insn=slot)


def call_too_deep(slot: int) -> None:
    raise CallDepthError(f"bpf-to-bpf call would need frame {ip.MAX_FRAMES + 1}, more than "
                         f"the {ip.MAX_FRAMES} allowed", insn=slot)


class TranslatedProgram:
    """The compiled functions of one program, and its Python source (``source``)."""

    def __init__(self, source: str, namespace: dict[str, Any]):
        self.source = source
        self._namespace = namespace
        self._entry = namespace["f0"]

    @property
    def entry(self) -> Any:
        """The program's function: ``(machine, r1, r2, r3, r4, r5, r10) -> r0``; it
        raises the interpreter's halt for LD_ABS/LD_IND past the end (r0 = 0) and
        TailCall for a tail call, and needs ``machine.budget_left`` set."""
        return self._entry

    def run(self, regs: list[int], machine: ip.Machine, budget: int) -> int:
        """Run from slot 0 with ``regs``; r0 goes to ``regs[0]``; returns insns run."""
        machine.budget_left = budget
        try:
            regs[0] = self._entry(machine, regs[1], regs[2], regs[3], regs[4], regs[5],
                                  regs[10])
        except ip._Halt:  # LD_ABS/LD_IND out of bounds ends the program with r0 = 0
            regs[0] = 0
        except TailCall as tail:
            tail.insns = budget - machine.budget_left
            raise
        return budget - machine.budget_left

    def caller(self, machine: ip.Machine, budget: int) -> Any:
        namespace = self._namespace

        def call(slot: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
            stack = machine.stack
            if stack.low < ip.STACK_BYTES_PER_FRAME:
                call_too_deep(slot)
            r10 = stack.base + stack.low
            stack.low -= ip.STACK_BYTES_PER_FRAME
            try:
                r0: int = namespace[f"f{slot}"](machine, a1, a2, a3, a4, a5, r10)
                return r0
            finally:
                stack.low += ip.STACK_BYTES_PER_FRAME
        return call


def translate(program: Any) -> TranslatedProgram:
    """Python source for every function of ``program`` (a VMProgram), compiled."""
    code: ip.Code = program._code
    functions = []
    for start in _function_starts(code):
        fn = _Function(code, start)
        if fn.acyclic and not fn.has_local_calls:
            functions.append(_Writer(fn, checked=True, name=f"f{start}_checked").function())
            functions.append(_Writer(fn, checked=False, name=f"f{start}").function())
        else:
            functions.append(_Writer(fn, checked=True, name=f"f{start}").function())
    source = "\n\n".join(functions)
    namespace: dict[str, Any] = {
        "C": code, "OPS64": alu.OPS64, "OPS32": alu.OPS32, "to_signed": alu.to_signed,
        "budget_exceeded": budget_exceeded, "call_too_deep": call_too_deep,
        "TailCall": TailCall, "sb_view": sb_view, "Halt": ip._Halt,
        "pview": pview, "rview": rview,
        "bswap32": lambda v: alu.byte_swap(v, 32), "bswap64": lambda v: alu.byte_swap(v, 64),
    }
    for size, fmt in ((2, ">H"), (4, ">I")):
        namespace[f"BE{size}"] = struct.Struct(fmt).unpack_from
    for size, fmt in ((1, "<B"), (2, "<H"), (4, "<I"), (8, "<Q")):
        namespace[f"U{size}"] = struct.Struct(fmt).unpack_from
        namespace[f"P{size}"] = struct.Struct(fmt).pack_into
    exec(compile(source, f"<pybpf vm: {program.name}>", "exec"), namespace)
    return TranslatedProgram(source, namespace)
