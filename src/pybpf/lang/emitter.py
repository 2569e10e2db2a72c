"""The instruction stream of one function being compiled: instructions, labels, stack
frame, temporary registers, and the source location each instruction carries.

Registers: r6-r9 hold the hottest locals (callee-saved, so they survive helper calls);
r0-r5 are temporaries. A helper call clobbers r0-r5, so :meth:`Emitter.call` saves the live
temporaries that are not its arguments to the stack and brings them back afterwards, each
into the register it had: a temporary keeps one register for its whole life, so the paths
of a branch (one through a call, one around it) meet with the value in the same place.
Each temporary register has one 8-byte aligned spill slot, reused by every call (the
kernel tracks a pointer spilled to an aligned 8-byte slot, so a ring buffer record or map
value comes back with its type).
"""

from __future__ import annotations

from typing import Any

from ..asm.builder import Label
from ..asm.instruction import Instruction
from ..asm.opcodes import LDDW_OPCODE, ALUOp, CallSrc, Class, JumpOp, Mode, PseudoSrc, Size, Source
from .errors import CompileError, SourceLocation
from .operands import Imm, Mem, PyObj, Reg
from .types import IntType, Type, u64

__all__ = ["Emitter", "STACK_LIMIT", "TEMP_REGS", "LOCAL_REGS"]

STACK_LIMIT = 512          # bytes of stack a BPF program (frame) may use
TEMP_REGS = (0, 1, 2, 3, 4, 5)
LOCAL_REGS = (6, 7, 8, 9)
FP = 10
_INT32 = range(-(1 << 31), 1 << 31)


def fits_imm(value: int) -> bool:
    return value in _INT32


class Emitter:
    """Collects instructions for one program; see the module docstring."""

    def __init__(self, name: str):
        self.name = name
        self.items: list[Instruction | Label] = []
        self.loc: SourceLocation | None = None
        self.stack_used = 0
        self.free: list[int] = list(TEMP_REGS)
        self.live: list[Reg] = []
        self._labels = 0
        self.core_accesses: list[tuple[int, Any, str]] = []
        self.core_insns: list[tuple[Instruction, Any, str]] = []
        self._insn_count = 0
        self._spill_slots: dict[int, int] = {}

    # -- errors and labels ----------------------------------------------------------------

    def error(self, message: str) -> CompileError:
        loc = self.loc
        return CompileError(message, file=loc.file if loc else None,
                            line=loc.line if loc else None,
                            column=loc.column if loc else None)

    def new_label(self, hint: str) -> str:
        self._labels += 1
        return f"{self.name}.{hint}{self._labels}"

    def label(self, name: str) -> None:
        self.items.append(Label(name))

    def emit(self, insn: Instruction, *, core: tuple[Any, str] | None = None) -> None:
        insn = insn.with_(source=self.loc)
        if core is not None:
            self.core_accesses.append((self._insn_count, core[0], core[1]))
            # the instruction object itself too: dropping unreachable code shifts indexes
            self.core_insns.append((insn, core[0], core[1]))
        self.items.append(insn)
        self._insn_count += 1

    def drop_since(self, mark: int) -> None:
        """Forget the items emitted since ``len(items)`` was ``mark`` (a trial that did
        not pan out)."""
        dropped = self.items[mark:]
        del self.items[mark:]
        gone = {id(i) for i in dropped}
        self._insn_count -= sum(1 for i in dropped if isinstance(i, Instruction))
        self.core_insns = [c for c in self.core_insns if id(c[0]) not in gone]

    # -- stack ------------------------------------------------------------------------------

    def alloc_stack(self, size: int, align: int = 8) -> int:
        """A new stack slot of ``size`` bytes: its (negative) offset from r10."""
        align = max(1, min(align, 8))
        self.stack_used = (self.stack_used + size + align - 1) // align * align
        if self.stack_used > STACK_LIMIT:
            raise self.error(f"this function needs more than {STACK_LIMIT} bytes of stack "
                             "(the BPF limit): use fewer or smaller local structs/strings, "
                             "or a per-CPU array map as scratch space")
        return -self.stack_used

    # -- temporaries ------------------------------------------------------------------------

    def temp(self, type: Type, prefer: int | None = None) -> Reg:
        if not self.free:
            raise self.error("expression too complex: out of temporary registers; split it "
                             "into several statements")
        reg = prefer if prefer is not None and prefer in self.free else self.free[0]
        self.free.remove(reg)
        r = Reg(type, reg, owned=True)
        self.live.append(r)
        return r

    def release(self, op: Any) -> None:
        """Give back the temporaries ``op`` holds (a Reg, or a Mem's base)."""
        if isinstance(op, Reg) and op.owned:
            if op in self.live:
                self.live.remove(op)
                self.free.append(op.reg)
                self.free.sort()
        elif isinstance(op, Mem) and op.base_reg is not None:
            self.release(op.base_reg)

    # -- instruction shapes ----------------------------------------------------------------

    def alu(self, op: ALUOp, dst: int, src: int | None = None, imm: int = 0, *,
            is64: bool = True, off: int = 0, core: tuple[Any, str] | None = None) -> None:
        cls = Class.ALU64 if is64 else Class.ALU
        if src is not None:
            self.emit(Instruction(cls | op | Source.X, dst, src, off, 0), core=core)
        else:
            if imm >= 1 << 31:
                imm -= 1 << 32
            self.emit(Instruction(cls | op | Source.K, dst, 0, off, imm), core=core)

    def mov_imm(self, dst: int, value: int) -> None:
        if fits_imm(value):
            self.alu(ALUOp.MOV, dst, imm=value)
        elif 0 <= value < 1 << 32:
            self.alu(ALUOp.MOV, dst, imm=value, is64=False)  # zero-extends: one slot
        else:
            value &= (1 << 64) - 1
            if value >= 1 << 63:
                value -= 1 << 64
            self.emit(Instruction(LDDW_OPCODE, dst, PseudoSrc.IMM64, 0, value))

    def mov(self, dst: int, src: int) -> None:
        if dst != src:
            self.alu(ALUOp.MOV, dst, src)

    def jump(self, op: JumpOp, dst: int, target: str, *, src: int | None = None,
             imm: int = 0, is64: bool = True) -> None:
        cls = Class.JMP if is64 else Class.JMP32
        if src is not None:
            self.emit(Instruction(cls | op | Source.X, dst, src, 0, 0, reference=target))
        else:
            if imm >= 1 << 31:
                imm -= 1 << 32
            self.emit(Instruction(cls | op | Source.K, dst, 0, 0, imm, reference=target))

    def ja(self, target: str) -> None:
        self.emit(Instruction(Class.JMP | JumpOp.JA, reference=target))

    def ldx(self, size: int, dst: int, base: int, off: int, *, signed: bool = False,
            core: tuple[Any, str] | None = None) -> None:
        mode = Mode.MEMSX if signed and size < 8 else Mode.MEM
        self.emit(Instruction(Class.LDX | mode | Size.from_nbytes(size), dst, base, off, 0),
                  core=core)

    def stx(self, size: int, base: int, off: int, src: int) -> None:
        self.emit(Instruction(Class.STX | Mode.MEM | Size.from_nbytes(size), base, src, off, 0))

    def st(self, size: int, base: int, off: int, imm: int) -> None:
        self.emit(Instruction(Class.ST | Mode.MEM | Size.from_nbytes(size), base, 0, off, imm))

    def atomic_add(self, size: int, base: int, off: int, src: int) -> None:
        self.emit(Instruction(Class.STX | Mode.ATOMIC | Size.from_nbytes(size), base, src, off,
                              0))

    def ld_map(self, dst: int, name: str) -> None:
        self.emit(Instruction(LDDW_OPCODE, dst, PseudoSrc.MAP_FD, 0, 0, reference=name))

    def ld_map_value(self, dst: int, name: str, off: int) -> None:
        self.emit(Instruction(LDDW_OPCODE, dst, PseudoSrc.MAP_VALUE, 0, off << 32,
                              reference=name))

    def ld_function(self, dst: int, label: str) -> None:
        """``dst`` = the address of the subprogram at ``label`` (a callback)."""
        self.emit(Instruction(LDDW_OPCODE, dst, PseudoSrc.FUNC, 0, 0, reference=label))

    def exit(self) -> None:
        self.emit(Instruction(Class.JMP | JumpOp.EXIT))

    # -- helper calls ----------------------------------------------------------------------

    def call(self, helper_id: int, args: list[Any], result_type: Type | None,
             materialize: Any, *, function: str | None = None, kfunc: str | None = None
             ) -> Reg | None:
        """Call helper ``helper_id`` with ``args`` in r1..r5; returns r0 as a temporary.

        ``args`` are Reg temporaries (moved into place), or anything ``materialize(op,
        reg)`` can load straight into an argument register (constants, maps, stack
        addresses, locals in r6-r9). Live temporaries that are not arguments are saved on
        the stack across the call and restored into the same registers (so the result
        is in r0 unless a restored temporary owns r0). Raises CompileError when no
        register is left for the result. With ``function`` (a label) it is a BPF-to-BPF
        call of the subprogram there, with ``kfunc`` a call of that kernel function; they
        clobber the same registers.
        """
        if len(args) > 5:
            raise self.error("a helper takes at most 5 arguments")
        arg_regs = [a for a in args if isinstance(a, Reg) and a.owned]
        mem_bases = {a.base_reg.reg for a in args if isinstance(a, Mem) and a.base_reg}
        saved: list[tuple[Reg, int]] = []
        for r in list(self.live):
            if r in arg_regs or r.reg in mem_bases:
                continue
            slot = self._spill_slot(r.reg)
            self.stx(8, FP, slot, r.reg)
            saved.append((r, slot))
            self.live.remove(r)
            self.free.append(r.reg)
        # move temporaries into their argument registers (a parallel move)
        moves = {i + 1: a.reg for i, a in enumerate(args) if isinstance(a, Reg) and a.owned}
        self._parallel_move(moves, keep=mem_bases)
        for i, a in enumerate(args):
            if isinstance(a, Reg) and a.owned:
                continue
            materialize(a, i + 1)
        if function is not None:
            self.emit(Instruction(Class.JMP | JumpOp.CALL, 0, CallSrc.PSEUDO_CALL, 0, 0,
                                  reference=function))
        elif kfunc is not None:    # the loader puts the kernel BTF id of kfunc in imm
            self.emit(Instruction(Class.JMP | JumpOp.CALL, 0, CallSrc.KFUNC, 0, 0,
                                  reference=kfunc))
        else:
            self.emit(Instruction(Class.JMP | JumpOp.CALL, 0, CallSrc.HELPER, 0, helper_id))
        for a in arg_regs:
            if a in self.live:
                self.live.remove(a)
        # saved temporaries come back into their own registers; the result takes r0
        # unless a saved temporary owns r0, then the first register nobody owns
        owned = {x.reg for x in self.live} | {r.reg for r, _ in saved}
        result = None
        if result_type is not None:
            reg = 0
            if 0 in owned:
                reg = next((x for x in TEMP_REGS if x not in owned), -1)
                if reg < 0:
                    raise self.error("expression too complex: no register left for a "
                                     "helper's result; split it into several statements")
                self.mov(reg, 0)
            result = Reg(result_type, reg)
            self.live.append(result)
        for r, slot in saved:
            self.ldx(8, r.reg, FP, slot)
            self.live.append(r)
        self.free = [r for r in TEMP_REGS if r not in {x.reg for x in self.live}]
        return result

    def retarget(self, temp: int, dst: int) -> bool:
        """Make the instructions that just computed temporary ``temp`` compute straight
        into ``dst`` (a local's register), so ``dst = temp`` needs no copy.

        Copy elimination on the run of instructions since ``temp`` was last set afresh
        (a move, a constant, a load): only ALU operations and loads into ``temp``, no
        label (no jump lands inside), no CO-RE record, and nothing that reads ``dst``
        after the first instruction (``dst`` now changes earlier). False, changing
        nothing, when the run is not of that shape. The caller must not read ``temp``
        afterwards.
        """
        items = self.items
        core_ids = {id(insn) for insn, _, _ in self.core_insns}
        start = len(items) - 1
        while start >= 0:
            insn = items[start]
            if isinstance(insn, Label) or id(insn) in core_ids or insn.dst != temp:
                return False
            reads = _registers_read(insn)
            if reads is None:
                return False
            if temp not in reads:
                break                       # sets temp afresh: the run starts here
            if dst in reads:
                return False
            start -= 1
        if start < 0:
            return False
        for i in range(start, len(items)):
            insn = items[i]
            assert not isinstance(insn, Label)  # the run holds no label (checked above)
            src = dst if insn.src == temp and _src_is_register(insn) else insn.src
            items[i] = insn.with_(dst=dst, src=src)
        head = items[start]
        assert not isinstance(head, Label)
        if head.opcode == Class.ALU64 | ALUOp.MOV | Source.X and head.off == 0 and \
                head.src == dst:
            del items[start]                # dst = dst
            self._insn_count -= 1
        return True

    def _spill_slot(self, reg: int) -> int:
        """The stack slot where temporary register ``reg`` waits out a helper call."""
        slot = self._spill_slots.get(reg)
        if slot is None:
            slot = self._spill_slots[reg] = self.alloc_stack(8)
        return slot

    def _parallel_move(self, moves: dict[int, int],
                       keep: set[int] | frozenset[int] = frozenset()) -> None:
        """Registers ``dst <- src`` all at once (cycles broken through a register that is
        neither a move's end nor in ``keep``)."""
        pending = {d: s for d, s in moves.items() if d != s}
        while pending:
            sources = set(pending.values())
            ready = [d for d in pending if d not in sources]
            if ready:
                for d in ready:
                    self.mov(d, pending.pop(d))
                continue
            # every destination still feeds another move: park one in a spare register
            d = next(iter(pending))
            busy = set(pending) | set(pending.values()) | set(keep)
            spare = next(r for r in TEMP_REGS if r not in busy)
            self.mov(spare, d)
            for k, v in list(pending.items()):
                if v == d:
                    pending[k] = spare


def _src_is_register(insn: Instruction) -> bool:
    cls = insn.opcode & 0x07
    if cls == Class.LDX:
        return True
    return cls in (Class.ALU, Class.ALU64) and bool(insn.opcode & Source.X) and \
        insn.opcode & 0xF0 != ALUOp.END


def _registers_read(insn: Instruction) -> set[int] | None:
    """The registers an instruction that writes its ``dst`` reads: None when it is not
    an ALU operation or load (the only shapes :meth:`Emitter.retarget` rewrites)."""
    cls = insn.opcode & 0x07
    if insn.opcode == LDDW_OPCODE:
        return set()
    if cls == Class.LDX:
        return {insn.src}
    if cls not in (Class.ALU, Class.ALU64):
        return None
    op = insn.opcode & 0xF0
    reads = set() if op == ALUOp.MOV else {insn.dst}
    if _src_is_register(insn):
        reads.add(insn.src)
    return reads


_ = (Imm, PyObj, IntType, u64)
