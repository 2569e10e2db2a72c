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


class _Writer:
    """Python source for one eBPF function."""

    def __init__(self, code: ip.Code, start: int):
        self.code = code
        self.start = start
        self.lines: list[str] = []
        # aligned accesses to the function's own frame, as (offset, size): they read and
        # write typed views of the stack by an index computed once per call
        self.frame_slots: set[tuple[int, int]] = set()

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def generic(self, depth: int, pc: int) -> None:
        """Run the interpreter's handler for slot ``pc`` on a register list."""
        self.emit(depth, "R = [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10]")
        self.emit(depth, f"m.budget_left = left; C[{pc}][0](R, m, {pc}, *C[{pc}][1:])")
        self.emit(depth, "r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 = R[:10]")

    def function(self) -> str:
        self.emit(0, f"def f{self.start}(m, r1, r2, r3, r4, r5, r10):")
        self.emit(1, "ld = m.load; lds = m.load_signed; st = m.store; hs = m.helper_state")
        self.emit(1, "sb = m.stack.buf; so = r10 - m.stack.base")
        self.emit(1, "r0 = r6 = r7 = r8 = r9 = 0")
        self.emit(1, "left = m.budget_left")
        self.emit(1, f"b = {self.start}")
        self.emit(1, "while True:")
        for n, (leader, slots) in enumerate(_blocks(self.code, self.start).items()):
            self.emit(2, f"{'if' if n == 0 else 'elif'} b == {leader}:")
            if self.self_loop(leader, slots):
                continue
            self.emit(3, f"left -= {len(slots)}")
            self.emit(3, f"if left < 0: budget_exceeded({leader})")
            for pc in slots:
                self.insn(3, pc)
            last = slots[-1]
            nexts = _successors(self.code, last)
            if len(nexts) == 1 and self.code[last][0] not in (ip._ja, ip._gotol):
                self.emit(3, f"b = {nexts[0]}")
        self.emit(2, "else:")
        self.emit(3, "raise AssertionError(b)")
        # the views and slot indexes used above, set up once per call (after `so`)
        setup = [f"    v{size} = sb_view(sb, {size!r})"
                 for size in sorted({size for _, size in self.frame_slots})]
        setup += [f"    {_slot_name(off, size)} = (so + {off}) // {size}"
                  for off, size in sorted(self.frame_slots)]
        self.lines[3:3] = setup
        return "\n".join(self.lines)

    def frame_slot(self, off: int, size: int) -> str | None:
        """``v{size}[index]`` for an aligned access to the own frame, else None. Registers
        always hold 0..2**64-1, so an 8-byte store needs no mask."""
        if not _TYPED_VIEWS or off % size:
            return None
        self.frame_slots.add((off, size))
        return f"v{size}[{_slot_name(off, size)}]"

    def self_loop(self, leader: int, slots: list[int]) -> bool:
        """A block ending in a conditional jump back to itself (the body of most loops)
        runs in a Python ``while`` of its own, so each turn skips the block dispatch."""
        last = slots[-1]
        h, d, s, o, i, a = self.code[last]
        if h not in _JUMP_HANDLERS or leader not in (last + 1 + o, last + 1):
            return False
        taken, fallthrough = last + 1 + o, last + 1
        condition = self.condition(h, d, s, i, a)
        self.emit(3, "while True:")
        self.emit(4, f"left -= {len(slots)}")
        self.emit(4, f"if left < 0: budget_exceeded({leader})")
        for pc in slots[:-1]:
            self.insn(4, pc)
        if taken == leader:
            self.emit(4, f"if {condition}: continue")
            self.emit(4, f"b = {fallthrough}")
        else:
            self.emit(4, f"if not ({condition}): continue")
            self.emit(4, f"b = {taken}")
        self.emit(4, "break")
        return True

    def insn(self, depth: int, pc: int) -> None:  # noqa: C901 (one branch per kind)
        h, d, s, o, i, a = self.code[pc]
        def e(text: str) -> None:
            self.emit(depth, text)

        rd, rs = f"r{d}", f"r{s}"
        if h is ip._mov64_k:
            e(f"{rd} = {i}")
        elif h is ip._mov64_x:
            e(f"{rd} = {rs}")
        elif h is ip._add64_k:
            e(f"{rd} = ({rd} + {i}) & {MASK64}")
        elif h is ip._add64_x:
            e(f"{rd} = ({rd} + {rs}) & {MASK64}")
        elif h in (ip._alu64_k, ip._alu64_x, ip._alu32_k, ip._alu32_x):
            self.alu(e, h, d, s, i, a, pc)
        elif h is ip._lddw:
            e(f"{rd} = {i}")
        elif h is ip._ldx and s == 10 and _in_frame(o, a) and self.frame_slot(o, a):
            e(f"{rd} = {self.frame_slot(o, a)}")
        elif h is ip._ldx and s == 10 and _in_frame(o, a):
            e(f"{rd} = U{a}(sb, so + {o})[0]")  # own frame: always in bounds, see _in_frame
        elif h is ip._ldx:
            e(f"{rd} = ld(({rs} + {o}) & {MASK64}, {a}, {pc})")
        elif h is ip._ldxsx:
            e(f"{rd} = lds(({rs} + {o}) & {MASK64}, {a}, {pc})")
        elif h is ip._st and d == 10 and _in_frame(o, a) and self.frame_slot(o, a):
            e(f"{self.frame_slot(o, a)} = {i & ((1 << 8 * a) - 1)}")
        elif h is ip._stx and d == 10 and _in_frame(o, a) and self.frame_slot(o, a):
            value = rs if a == 8 else f"{rs} & {(1 << 8 * a) - 1}"
            e(f"{self.frame_slot(o, a)} = {value}")
        elif h is ip._st and d == 10 and _in_frame(o, a):
            e(f"P{a}(sb, so + {o}, {i & ((1 << 8 * a) - 1)})")
        elif h is ip._stx and d == 10 and _in_frame(o, a):
            e(f"P{a}(sb, so + {o}, {rs} & {(1 << 8 * a) - 1})")
        elif h is ip._st:
            e(f"st(({rd} + {o}) & {MASK64}, {a}, {i}, {pc})")
        elif h is ip._stx:
            e(f"st(({rd} + {o}) & {MASK64}, {a}, {rs}, {pc})")
        elif h is ip._ja:
            e(f"b = {pc + 1 + o}")
        elif h is ip._gotol:
            e(f"b = {pc + 1 + i}")
        elif h in _JUMP_HANDLERS:
            e(f"b = {pc + 1 + o} if {self.condition(h, d, s, i, a)} else {pc + 1}")
        elif h is ip._may_goto:
            e("if m.may_goto_left:")
            e(f"    m.may_goto_left -= 1; b = {pc + 1}")
            e(f"else: b = {pc + 1 + o}")
        elif h is ip._call_tail and self.start != 0:
            # a tail call in a subprogram: the target runs in this frame and its r0 is
            # what this function returns (see the interpreter's _call_tail)
            e("m.budget_left = left")
            e("try:")
            e(f"    r0 = C[{pc}][5](hs, {pc}, r1, r2, r3, r4, r5) & {MASK64}")
            e("except TailCall as tail:")
            e(f"    return m.run_tail_in_frame(tail, r1, r10) & {MASK64}")
            e(f"r1 = r2 = r3 = r4 = r5 = {CLOBBERED}")
        elif h is ip._call_helper or h is ip._call_tail:
            e(f"m.budget_left = left; r0 = C[{pc}][5](hs, {pc}, r1, r2, r3, r4, r5) & {MASK64}")
            e(f"r1 = r2 = r3 = r4 = r5 = {CLOBBERED}")
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
        elif h is ip._ld_packet:
            # legacy LD_ABS/LD_IND inline (classic filters are made of them): a big-endian
            # packet load into r0; out of bounds ends the program with r0 = 0 (see the
            # interpreter's _ld_packet, which this mirrors)
            size, indirect = a
            if indirect:
                e(f"o_ = (r{s} + {i}) & {MASK32}")
                e("if o_ & 0x80000000: o_ -= 0x100000000")
                off = "o_"
            else:
                off = str(alu.to_signed(i & MASK32, 32))
            e("pk = m.packet")
            e(f"if pk is None or {off} < 0 or pk.data + {off} + {size} > len(pk.region.buf):")
            e("    m.budget_left = left; raise Halt")
            e(f"s_ = pk.data + {off}; r0 = from_bytes(pk.region.buf[s_:s_ + {size}], 'big')")
        elif h is ip._exit:
            e("m.budget_left = left")
            e("return r0")
        else:  # rare kinds: the interpreter's handler does it (may raise for bad slots)
            self.generic(depth, pc)

    def alu(self, e: Any, h: Any, d: int, s: int, i: int, fn: Any, pc: int) -> None:
        name = _ALU_NAME.get(id(fn))
        wide = h in (ip._alu64_k, ip._alu64_x)
        mask = MASK64 if wide else MASK32
        bits = 64 if wide else 32
        rd = f"r{d}" if wide else f"(r{d} & {MASK32})"
        x = (f"r{s}" if wide else f"(r{s} & {MASK32})") if h in (ip._alu64_x, ip._alu32_x) \
            else str(i)
        out = f"r{d}"
        simple = {"add": f"({rd} + {x}) & {mask}", "sub": f"({rd} - {x}) & {mask}",
                  "mul": f"({rd} * {x}) & {mask}", "or": f"{rd} | {x}",
                  "and": f"{rd} & {x}", "xor": f"{rd} ^ {x}", "mov": x,
                  "neg": f"-{rd} & {mask}",
                  "lsh": f"({rd} << ({x} & {bits - 1})) & {mask}",
                  "rsh": f"{rd} >> ({x} & {bits - 1})",
                  "div": f"({rd} // {x} if {x} else 0)",
                  "mod": f"({rd} % {x} if {x} else {rd})"}
        if name in simple:
            e(f"{out} = {simple[name]}")
        else:  # sdiv, smod, arsh: the shared pure functions
            table = "OPS64" if wide else "OPS32"
            e(f"{out} = {table}[{name!r}]({rd}, {x})")

    def condition(self, h: Any, d: int, s: int, i: int, test: Any) -> str:
        name = _JUMP_NAME[id(test)]
        wide = h in (ip._jmp64_k, ip._jmp64_x)
        by_reg = h in (ip._jmp64_x, ip._jmp32_x)
        bits = 64 if wide else 32
        a = f"r{d}" if wide else f"(r{d} & {MASK32})"
        b = (f"r{s}" if wide else f"(r{s} & {MASK32})") if by_reg else str(i)
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
    source = "\n\n".join(_Writer(code, start).function() for start in _function_starts(code))
    namespace: dict[str, Any] = {
        "C": code, "OPS64": alu.OPS64, "OPS32": alu.OPS32, "to_signed": alu.to_signed,
        "budget_exceeded": budget_exceeded, "call_too_deep": call_too_deep,
        "TailCall": TailCall, "sb_view": sb_view, "Halt": ip._Halt,
        "from_bytes": int.from_bytes,
    }
    for size, fmt in ((1, "<B"), (2, "<H"), (4, "<I"), (8, "<Q")):
        namespace[f"U{size}"] = struct.Struct(fmt).unpack_from
        namespace[f"P{size}"] = struct.Struct(fmt).pack_into
    exec(compile(source, f"<pybpf vm: {program.name}>", "exec"), namespace)
    return TranslatedProgram(source, namespace)
