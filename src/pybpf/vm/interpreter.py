"""The reference interpreter: simple, obviously right, every instruction of RFC 9669.

Instructions are predecoded once into tuples ``(handler, dst, src, off, imm, aux)`` indexed
by instruction *slot* (an lddw takes two slots, as in jump offsets). Each handler does one
instruction and returns the next slot; the loop does nothing else, so there is no logging,
allocation or ``try`` per instruction. ``aux`` carries what the handler needs beyond the
fields: the arithmetic function, the access size, the helper. A program is checked while it
is predecoded (opcodes, reserved fields, registers, jump targets, helpers, map references)
and a bad one raises :class:`ProgramLoadError` before anything runs.

Run-time rules (kernel and RFC 9669):

* 512 bytes of stack per frame, r10 the read-only frame pointer; up to 8 frames of
  bpf-to-bpf calls, r6-r9 restored for the caller on return;
* after a helper or bpf-to-bpf call r1-r5 hold :data:`~pybpf.vm.helpers.CLOBBERED` (the
  verifier forbids reading them; every tier gives the same value);
* a tail call from a subprogram runs the target in that subprogram's frame and returns
  its r0 to the subprogram's caller, as the kernel's JITs do;
* every load and store goes through :class:`~pybpf.vm.memory.Memory`;
* an instruction budget stops runaway loops with :class:`BudgetExceededError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.opcodes import (
    CLASS_MASK,
    LDDW_OPCODE,
    MOVSX_OFFSETS,
    ALUOp,
    AtomicOp,
    CallSrc,
    Class,
    JumpOp,
    Mode,
    PseudoSrc,
    Size,
    Source,
)
from . import alu
from .alu import MASK32, MASK64
from .errors import BudgetExceededError, CallDepthError, ProgramLoadError, VMRunError
from .event_helpers import TailCall
from .helpers import CLOBBERED, FUNCTION_HANDLE_BASE, Helper, HelperID, RunState, helper_name
from .maps import VMMap
from .memory import Memory, Region

STACK_BYTES_PER_FRAME = 512     # MAX_BPF_STACK
MAX_FRAMES = 8                  # MAX_CALL_FRAMES: the program's frame and 7 nested calls
STACK_BYTES = STACK_BYTES_PER_FRAME * MAX_FRAMES
MAY_GOTO_LOOPS = 8 * 1024 * 1024  # BPF_MAX_LOOPS: how often may_goto falls through

# a predecoded instruction: (handler, dst, src, off, imm, aux); a handler returns the next pc
Handler = Callable[..., int]
Code = list[tuple[Handler, int, int, int, Any, Any]]


class _Halt(Exception):
    """Raised by the exit of the outermost frame: ends the loop without a test per insn."""


class Machine:
    """The state one run mutates: registers are passed apart, as a plain list."""

    __slots__ = ("memory", "load", "load_signed", "store", "frames", "stack", "packet",
                 "helper_state", "may_goto_left", "budget_left", "run_tail_in_frame",
                 "nested_insns")

    def __init__(self, memory: Memory, stack: Region, packet: Any,
                 helper_state: RunState):
        self.memory = memory
        self.load = memory.load
        self.load_signed = memory.load_signed
        self.store = memory.store
        self.frames: list[tuple[int, int, int, int, int, int]] = []
        self.stack = stack
        self.packet = packet
        self.helper_state = helper_state
        self.may_goto_left = MAY_GOTO_LOOPS
        self.budget_left = 0  # the Python tier's instruction allowance, shared by frames
        # (tail call, ctx, r10) -> r0: runs a tail call made in a subprogram (set by the
        # program's runner); instructions run there are added to nested_insns
        self.run_tail_in_frame = _no_tail_in_frame
        self.nested_insns = 0


def _no_tail_in_frame(tail: TailCall, ctx: int, r10: int) -> int:
    raise VMRunError("bpf_tail_call from a subprogram needs the program's runner (not "
                     "available in this loop)", insn=0)


_CLOBBERED_ARGS = [CLOBBERED] * 5


# --- handlers: (regs, machine, slot, dst, src, off, imm, aux) -> next slot ---------------

def _alu64_k(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, op: Any) -> int:
    r[d] = op(r[d], i)
    return pc + 1


def _alu64_x(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, op: Any) -> int:
    r[d] = op(r[d], r[s])
    return pc + 1


def _alu32_k(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, op: Any) -> int:
    r[d] = op(r[d] & MASK32, i)
    return pc + 1


def _alu32_x(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, op: Any) -> int:
    r[d] = op(r[d] & MASK32, r[s] & MASK32)
    return pc + 1


def _mov64_k(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, a: Any) -> int:
    r[d] = i
    return pc + 1


def _mov64_x(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, a: Any) -> int:
    r[d] = r[s]
    return pc + 1


def _add64_k(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, a: Any) -> int:
    r[d] = (r[d] + i) & MASK64
    return pc + 1


def _add64_x(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, a: Any) -> int:
    r[d] = (r[d] + r[s]) & MASK64
    return pc + 1


def _movsx(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
           bits: int, a: Any) -> int:
    r[d] = alu.sign_extend(r[s], o, bits)
    return pc + 1


def _end(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
         bits: int, convert: Any) -> int:
    r[d] = convert(r[d], bits)
    return pc + 1


def _lddw(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
          value: int, a: Any) -> int:
    r[d] = value
    return pc + 2


def _ja(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
        i: int, a: Any) -> int:
    return pc + 1 + o


def _gotol(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
           i: int, a: Any) -> int:
    return pc + 1 + i


def _may_goto(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
              i: int, a: Any) -> int:
    # falls through while the loop allowance lasts, then takes the branch (the way out)
    if m.may_goto_left:
        m.may_goto_left -= 1
        return pc + 1
    return pc + 1 + o


def _jmp64_k(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, test: Any) -> int:
    return pc + 1 + o if test(r[d], i, 64) else pc + 1


def _jmp64_x(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, test: Any) -> int:
    return pc + 1 + o if test(r[d], r[s], 64) else pc + 1


def _jmp32_k(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, test: Any) -> int:
    return pc + 1 + o if test(r[d] & MASK32, i, 32) else pc + 1


def _jmp32_x(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
             i: int, test: Any) -> int:
    return pc + 1 + o if test(r[d] & MASK32, r[s] & MASK32, 32) else pc + 1


def _call_helper(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                 i: int, helper: Any) -> int:
    r[0] = helper(m.helper_state, pc, r[1], r[2], r[3], r[4], r[5]) & MASK64
    r[1:6] = _CLOBBERED_ARGS
    return pc + 1


def _call_tail(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
               i: int, helper: Any) -> int:
    # bpf_tail_call: from the program's own frame the runner switches programs (TailCall
    # leaves the loop); from a subprogram the target runs in this frame and its r0 is what
    # the subprogram returns to its caller
    try:
        r[0] = helper(m.helper_state, pc, r[1], r[2], r[3], r[4], r[5]) & MASK64
    except TailCall as tail:
        if not m.frames:
            raise
        r[0] = m.run_tail_in_frame(tail, r[1], r[10]) & MASK64
        return _exit(r, m, pc, d, s, o, i, helper)
    r[1:6] = _CLOBBERED_ARGS
    return pc + 1


def _call_local(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                target: int, a: Any) -> int:
    frames = m.frames
    if m.stack.low < STACK_BYTES_PER_FRAME:  # every frame in use (callbacks count too)
        raise CallDepthError(f"bpf-to-bpf call would need frame {MAX_FRAMES + 1}, more "
                             f"than the {MAX_FRAMES} allowed", insn=pc)
    frames.append((pc + 1, r[6], r[7], r[8], r[9], r[10]))
    r[10] -= STACK_BYTES_PER_FRAME
    m.stack.low -= STACK_BYTES_PER_FRAME
    return target


def _exit(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
          i: int, a: Any) -> int:
    if not m.frames:
        raise _Halt
    ret, r[6], r[7], r[8], r[9], r[10] = m.frames.pop()
    m.stack.low += STACK_BYTES_PER_FRAME
    r[1:6] = _CLOBBERED_ARGS
    return ret


def _ldx(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
         i: int, size: int) -> int:
    r[d] = m.load((r[s] + o) & MASK64, size, pc)
    return pc + 1


def _ldxsx(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
           i: int, size: int) -> int:
    r[d] = m.load_signed((r[s] + o) & MASK64, size, pc)
    return pc + 1


def _st(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
        i: int, size: int) -> int:
    m.store((r[d] + o) & MASK64, size, i, pc)
    return pc + 1


def _stx(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
         i: int, size: int) -> int:
    m.store((r[d] + o) & MASK64, size, r[s], pc)
    return pc + 1


def _atomic_rmw(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                fetch: bool, aux: Any) -> int:
    size, op = aux
    address = (r[d] + o) & MASK64
    old = m.load(address, size, pc)
    m.store(address, size, op(old, r[s] & ((1 << (8 * size)) - 1)), pc)
    if fetch:
        r[s] = old
    return pc + 1


def _atomic_cmpxchg(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                    i: int, size: int) -> int:
    address = (r[d] + o) & MASK64
    old = m.load(address, size, pc)
    if old == r[0] & ((1 << (8 * size)) - 1):
        m.store(address, size, r[s], pc)
    r[0] = old
    return pc + 1


def _load_acquire(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                  i: int, size: int) -> int:
    r[d] = m.load((r[s] + o) & MASK64, size, pc)
    return pc + 1


def _store_release(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                   i: int, size: int) -> int:
    m.store((r[d] + o) & MASK64, size, r[s], pc)
    return pc + 1


def _ld_packet(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
               i: int, aux: Any) -> int:
    # legacy LD_ABS/LD_IND: big-endian load from the packet into r0; out of bounds ends
    # the program with r0 = 0, as the kernel does
    size, indirect = aux
    offset = alu.to_signed(((r[s] if indirect else 0) + i) & MASK32, 32)
    packet = m.packet
    if packet is None or offset < 0 or packet.data_off + offset + size > len(packet.buf):
        r[0] = 0
        raise _Halt
    start = packet.data_off + offset
    r[0] = int.from_bytes(packet.buf[start:start + size], "big")
    return pc + 1


def _fell_off(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
              i: int, a: Any) -> int:
    raise VMRunError("ran past the last instruction without exit", insn=pc)


# --- predecoding ------------------------------------------------------------------------

_ALU_NAMES = {ALUOp.ADD: "add", ALUOp.SUB: "sub", ALUOp.MUL: "mul", ALUOp.DIV: "div",
              ALUOp.OR: "or", ALUOp.AND: "and", ALUOp.LSH: "lsh", ALUOp.RSH: "rsh",
              ALUOp.NEG: "neg", ALUOp.MOD: "mod", ALUOp.XOR: "xor", ALUOp.MOV: "mov",
              ALUOp.ARSH: "arsh"}
_JUMP_NAMES = {JumpOp.JEQ: "jeq", JumpOp.JGT: "jgt", JumpOp.JGE: "jge", JumpOp.JSET: "jset",
               JumpOp.JNE: "jne", JumpOp.JSGT: "jsgt", JumpOp.JSGE: "jsge",
               JumpOp.JLT: "jlt", JumpOp.JLE: "jle", JumpOp.JSLT: "jslt",
               JumpOp.JSLE: "jsle"}
# keyed by the imm of an atomic instruction
_ATOMIC_RMW: dict[int, str] = {AtomicOp.ADD: "add", AtomicOp.OR: "or", AtomicOp.AND: "and",
                               AtomicOp.XOR: "xor"}
_SIZES = {Size.B: 1, Size.H: 2, Size.W: 4, Size.DW: 8}


class Predecoder:
    """Turns instructions into handler tuples, refusing anything the machine cannot run.

    ``maps`` resolves lddw map references: by name (``Instruction.reference``) or, for raw
    bytecode, by the number in ``imm`` (what would be an fd in the kernel).
    """

    def __init__(self, name: str, maps: Mapping[str | int, VMMap],
                 helpers: Mapping[int, Helper]):
        self.name = name
        self.maps = maps
        self.helpers = helpers
        self.map_addresses: dict[VMMap, int] = {}
        self.function_targets: list[tuple[int, int]] = []  # (lddw slot, callee slot)

    def fail(self, slot: int, message: str) -> ProgramLoadError:
        return ProgramLoadError(message, program=self.name, insn=slot)

    def map_address(self, m: VMMap) -> int:
        self.map_addresses[m] = m.handle
        return m.handle

    def predecode(self, instructions: Sequence[Instruction]) -> Code:
        code: Code = []
        for insn in instructions:
            slot = len(code)
            code.append(self.one(insn, slot))
            if insn.is_wide:
                code.append((_bad_target, 0, 0, 0, 0, None))
        if not code:
            raise ProgramLoadError("has no instructions", program=self.name)
        code.append((_fell_off, 0, 0, 0, 0, None))
        self.check_targets(code, instructions)
        return code

    def check_targets(self, code: Code, instructions: Sequence[Instruction]) -> None:
        last = len(code) - 1  # the _fell_off sentinel's slot
        for slot, insn in Instructions(instructions).iterate():
            if insn.is_jump or insn.is_pseudo_call:
                target = insn.jump_target(slot)
                if not 0 <= target < last or code[target][0] is _bad_target:
                    raise self.fail(slot, f"jump target {target} is outside the program "
                                          f"(0..{last - 1}) or inside an lddw")
        for slot, target in self.function_targets:
            if not 0 <= target < last or code[target][0] is _bad_target:
                raise self.fail(slot, f"function address {target} is outside the program")

    def one(self, insn: Instruction, slot: int) -> tuple[Any, ...]:
        op, d, s, o, imm = insn.opcode, insn.dst, insn.src, insn.off, insn.imm
        if d > 10 or s > 10:
            raise self.fail(slot, f"register r{max(d, s)} does not exist (r0..r10)")
        cls = op & CLASS_MASK
        if cls in (Class.ALU, Class.ALU64):
            return self.alu(insn, slot)
        if cls in (Class.JMP, Class.JMP32):
            return self.jump(insn, slot)
        if d == 10 and cls in (Class.LD, Class.LDX):
            raise self.fail(slot, "r10 is the read-only frame pointer")
        if op == LDDW_OPCODE:
            return self.lddw(insn, slot)
        mode, size = op & 0xE0, _SIZES[Size(op & 0x18)]
        if cls == Class.LD and mode in (Mode.ABS, Mode.IND) and size != 8:
            return (_ld_packet, d, s, o, imm, (size, mode == Mode.IND))
        if cls == Class.LDX and mode == Mode.MEM:
            return (_ldx, d, s, o, imm, size)
        if cls == Class.LDX and mode == Mode.MEMSX and size != 8:
            return (_ldxsx, d, s, o, imm, size)
        if cls == Class.ST and mode == Mode.MEM:
            return (_st, d, s, o, imm & MASK64, size)
        if cls == Class.STX and mode == Mode.MEM:
            return (_stx, d, s, o, imm, size)
        if cls == Class.STX and mode == Mode.ATOMIC:
            return self.atomic(insn, slot, size)
        raise self.fail(slot, f"unknown opcode {op:#04x}")

    def alu(self, insn: Instruction, slot: int) -> tuple[Any, ...]:
        op, d, s, o, imm = insn.opcode, insn.dst, insn.src, insn.off, insn.imm
        wide = op & CLASS_MASK == Class.ALU64
        bits = 64 if wide else 32
        by_register = bool(op & Source.X)
        code = op & 0xF0
        if d == 10:
            raise self.fail(slot, "r10 is the read-only frame pointer")
        if code not in _ALU_NAMES and code != ALUOp.END:
            raise self.fail(slot, f"unknown opcode {op:#04x}")
        operand = imm & (MASK64 if wide else MASK32)
        if code == ALUOp.END:
            if wide and by_register:
                raise self.fail(slot, f"unknown opcode {op:#04x}")
            if imm not in (16, 32, 64):
                raise self.fail(slot, f"byte swap width must be 16, 32 or 64, not {imm}")
            # ALU64 END is the unconditional bswap; ALU END to_le is a truncation on a
            # little-endian machine and to_be a swap
            convert = alu.byte_swap if wide or by_register else alu.truncate
            return (_end, d, s, o, imm, convert)
        if code == ALUOp.NEG and by_register:
            raise self.fail(slot, f"neg takes no source register (opcode {op:#04x})")
        name = _ALU_NAMES[ALUOp(code)]
        if code in (ALUOp.DIV, ALUOp.MOD):
            if o not in (0, 1):
                raise self.fail(slot, f"{name} offset must be 0 or 1 (signed), not {o}")
            if o == 1:
                name = "s" + name
        elif code == ALUOp.MOV and o:
            allowed = MOVSX_OFFSETS if wide else (8, 16)
            if not by_register or o not in allowed:
                raise self.fail(slot, f"mov offset {o} is neither 0 nor a movsx width "
                                      f"{allowed}")
            return (_movsx, d, s, o, bits, None)
        elif o:
            raise self.fail(slot, f"reserved offset field must be 0, not {o}")
        fn = (alu.OPS64 if wide else alu.OPS32)[name]
        if wide and name == "mov":
            return (_mov64_x, d, s, o, operand, None) if by_register else (
                _mov64_k, d, s, o, operand, None)
        if wide and name == "add":
            return (_add64_x, d, s, o, operand, None) if by_register else (
                _add64_k, d, s, o, operand, None)
        if wide:
            return (_alu64_x if by_register else _alu64_k, d, s, o, operand, fn)
        return (_alu32_x if by_register else _alu32_k, d, s, o, operand, fn)

    def jump(self, insn: Instruction, slot: int) -> tuple[Any, ...]:
        op, d, s, o, imm = insn.opcode, insn.dst, insn.src, insn.off, insn.imm
        wide = op & CLASS_MASK == Class.JMP
        code = op & 0xF0
        by_register = bool(op & Source.X)
        if code == JumpOp.JA and not by_register:
            return (_ja, d, s, o, imm, None) if wide else (_gotol, d, s, o, imm, None)
        if code in _JUMP_NAMES:
            test = alu.JUMP_TESTS[_JUMP_NAMES[JumpOp(code)]]
            operand = imm & (MASK64 if wide else MASK32)
            if wide:
                return (_jmp64_x if by_register else _jmp64_k, d, s, o, operand, test)
            return (_jmp32_x if by_register else _jmp32_k, d, s, o, operand, test)
        if wide and not by_register:
            if code == JumpOp.EXIT:
                return (_exit, d, s, o, imm, None)
            if code == JumpOp.CALL:
                return self.call(insn, slot)
            if code == JumpOp.JCOND and s == 0:
                return (_may_goto, d, s, o, imm, None)
        raise self.fail(slot, f"unknown opcode {op:#04x}")

    def call(self, insn: Instruction, slot: int) -> tuple[Any, ...]:
        if insn.src == CallSrc.PSEUDO_CALL:
            return (_call_local, 0, 0, 0, insn.jump_target(slot), None)
        if insn.src == CallSrc.HELPER:
            helper = self.helpers.get(insn.imm)
            if helper is None:
                raise self.fail(slot, f"{helper_name(insn.imm)} (id {insn.imm}) is not "
                                      f"available in the VM")
            handler = _call_tail if insn.imm == HelperID["TAIL_CALL"] else _call_helper
            return (handler, 0, 0, 0, insn.imm, helper)
        if insn.src == CallSrc.KFUNC:
            raise self.fail(slot, f"kfunc calls (BTF id {insn.imm}) are not available in "
                                  f"the VM")
        raise self.fail(slot, f"call with unknown src {insn.src}")

    def lddw(self, insn: Instruction, slot: int) -> tuple[Any, ...]:
        d, s, value = insn.dst, insn.src, insn.imm & MASK64
        if s == PseudoSrc.IMM64:
            return (_lddw, d, s, 0, value, None)
        if s == PseudoSrc.FUNC:  # a callback's address (bpf_loop): a handle to its slot
            target = slot + 1 + alu.to_signed(value & MASK32, 32)
            self.function_targets.append((slot, target))
            return (_lddw, d, s, 0, FUNCTION_HANDLE_BASE + target, None)
        if s in (PseudoSrc.MAP_FD, PseudoSrc.MAP_VALUE):
            handle: str | int = insn.reference or (value & MASK32)
            m = self.maps.get(handle)
            if m is None:
                raise self.fail(slot, f"lddw refers to map {handle!r}, which was not given "
                                      f"to the VM")
            if s == PseudoSrc.MAP_FD:
                return (_lddw, d, s, 0, self.map_address(m), None)
            # a pointer into the value at key 0 (global data); the offset is the high half
            return (_lddw_map_value, d, s, 0, value >> 32, m)
        raise self.fail(slot, f"lddw with src {s} ({_pseudo_name(s)}) is not supported by "
                              f"the VM")

    def atomic(self, insn: Instruction, slot: int, size: int) -> tuple[Any, ...]:
        d, s, o, imm = insn.dst, insn.src, insn.off, insn.imm
        if imm == AtomicOp.LOAD_ACQ:
            if d == 10:
                raise self.fail(slot, "r10 is the read-only frame pointer")
            return (_load_acquire, d, s, o, imm, size)
        if imm == AtomicOp.STORE_REL:
            return (_store_release, d, s, o, imm, size)
        if size not in (4, 8):
            raise self.fail(slot, f"atomic operation {imm:#x} needs a 4 or 8 byte access")
        fetch = bool(imm & AtomicOp.FETCH)
        if (fetch or imm in (AtomicOp.XCHG, AtomicOp.CMPXCHG)) and s == 10:
            raise self.fail(slot, "r10 is the read-only frame pointer")
        if imm == AtomicOp.CMPXCHG:
            return (_atomic_cmpxchg, d, s, o, imm, size)
        if imm == AtomicOp.XCHG:
            return (_atomic_rmw, d, s, o, True, (size, alu.OPS64["mov"]))
        name = _ATOMIC_RMW.get(imm & ~AtomicOp.FETCH)
        if name is None:
            raise self.fail(slot, f"unknown atomic operation {imm:#x}")
        return (_atomic_rmw, d, s, o, fetch, (size, (alu.OPS64 if size == 8 else
                                                     alu.OPS32)[name]))


def _lddw_map_value(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                    offset: int, vmmap: Any) -> int:
    buf = vmmap.value_buffer(b"\0" * vmmap.key_size)
    r[d] = (m.memory.address_of(f"value of map {vmmap.name}", buf) + offset) & MASK64
    return pc + 2


def _bad_target(r: list[int], m: Machine, pc: int, d: int, s: int, o: int,
                i: int, a: Any) -> int:
    raise VMRunError("jumped into the second half of an lddw", insn=pc)


def _pseudo_name(src: int) -> str:
    try:
        return PseudoSrc(src).name
    except ValueError:
        return "unknown"


def execute(code: Code, regs: list[int], machine: Machine, budget: int, start: int = 0
            ) -> int:
    """Run predecoded ``code`` from slot ``start`` until the outermost exit; returns how
    many instructions ran. ``regs[0]`` then holds the result.

    Raises :class:`BudgetExceededError` after ``budget`` instructions, and the run errors
    of the handlers (memory, call depth); a tail call leaves as :class:`TailCall` carrying
    the count so far.
    """
    pc = start
    count = -1
    try:
        for count in range(budget):  # noqa: B007 - read after the loop
            h, d, s, o, i, a = code[pc]
            pc = h(regs, machine, pc, d, s, o, i, a)
    except _Halt:
        return count + 1
    except TailCall as tail:
        tail.insns = count + 1
        raise
    raise BudgetExceededError(f"stopped after {budget} instructions (the budget); raise it "
                              f"or look for a loop that never ends", insn=pc)

