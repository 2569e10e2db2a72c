"""One instruction as text, exactly in llvm-objdump's BPF syntax.

The syntax is LLVM's (``llvm/lib/Target/BPF/BPFInstrInfo.td`` and ``BPFInstPrinter``):
``r0 = *(u32 *)(r1 + 4)``, ``w0 = 1``, ``if r1 > 5 goto +3``, ``call 1``,
``lock *(u64 *)(r0 + 0) += r6``, ``r1 = 0 ll``. Immediates are decimal as LLVM 14 prints
them, or hexadecimal as ``--print-imm-hex`` (the default of newer LLVM) prints them.

``alu32`` mirrors llvm-objdump's ``--mattr=+alu32``: sub-64-bit loads, stores and 32-bit
atomics then name the ``w`` half of their value register.

Instructions LLVM 14 does not know are written as newer LLVM writes them: ``r1 s/= r2``,
``r1 s%= r2``, ``r1 %= r2``, ``r1 = (s8)r2``, ``r0 = *(s8 *)(r1 + 0)``,
``r0 = bswap16 r0``, ``gotol +5``, ``may_goto +2``, ``if r1 & r2 goto +1``,
``*(u32 *)(r1 + 0) = 7``, ``r1 = addr_space_cast(r2, 0, 1)``,
``r1 = load_acquire((u64 *)(r2 + 0))``, ``store_release((u64 *)(r1 + 0), r2)``.

Two pybpf extensions keep every valid instruction representable (LLVM drops the fields):
``r0 = *(u32 *)skb[r2 + 4]`` for an indirect packet load with a non-zero ``imm``, and the
whole 64-bit immediate of ``ld_pseudo`` when its high half is not zero.

Fields an instruction does not use must be zero (as the kernel demands); anything else is
an :class:`~pybpf.errors.AsmError`, so that text and instruction map one-to-one.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import AsmError
from .instruction import Instruction
from .opcodes import AtomicOp, CallSrc, Class, PseudoSrc

# -- operand spelling -------------------------------------------------------------------

ALU_OPERATORS = {  # op nibble -> compound assignment
    0x00: "+=", 0x10: "-=", 0x20: "*=", 0x30: "/=", 0x40: "|=", 0x50: "&=",
    0x60: "<<=", 0x70: ">>=", 0x90: "%=", 0xA0: "^=", 0xC0: "s>>=",
}
SIGNED_ALU_OPERATORS = {0x30: "s/=", 0x90: "s%="}  # DIV/MOD with off=1

JUMP_OPERATORS = {
    0x10: "==", 0x20: ">", 0x30: ">=", 0x40: "&", 0x50: "!=", 0x60: "s>", 0x70: "s>=",
    0xA0: "<", 0xB0: "<=", 0xC0: "s<", 0xD0: "s<=",
}

SIZE_NAMES = {0x00: "u32", 0x08: "u16", 0x10: "u8", 0x18: "u64"}
SIGNED_SIZE_NAMES = {0x00: "s32", 0x08: "s16", 0x10: "s8"}

# keyed by the imm of an atomic instruction (an int, not always an AtomicOp member)
ATOMIC_OPERATORS: dict[int, str] = {AtomicOp.ADD: "+", AtomicOp.OR: "|", AtomicOp.AND: "&",
                                    AtomicOp.XOR: "^"}
ATOMIC_FETCH_NAMES: dict[int, str] = {AtomicOp.ADD: "add", AtomicOp.OR: "or",
                                      AtomicOp.AND: "and", AtomicOp.XOR: "xor"}

_REG_R = tuple(f"r{i}" for i in range(16))
_REG_W = tuple(f"w{i}" for i in range(16))


def format_imm(value: int, imm_hex: bool) -> str:
    """An immediate as LLVM prints it: signed decimal, or signed hex (``-0x4``)."""
    if not imm_hex:
        return str(value)
    return f"-{-value:#x}" if value < 0 else f"{value:#x}"


def format_branch(offset: int, imm_hex: bool) -> str:
    """A branch offset, always signed: ``+3``, ``-2``, ``+0x3``."""
    if imm_hex:
        return f"-{-offset:#x}" if offset < 0 else f"+{offset:#x}"
    return f"{offset:+d}"


def _mem(base: int, off: int, imm_hex: bool) -> str:
    if off < 0:
        return f"{_REG_R[base]} - {format_imm(-off, imm_hex)}"
    return f"{_REG_R[base]} + {format_imm(off, imm_hex)}"


class _Invalid(Exception):
    """Raised by a formatter for field values no valid instruction has."""


# -- one formatter per instruction family ---------------------------------------------
# Each takes (insn, imm_hex, alu32) and returns the text or raises _Invalid.

Formatter = Callable[[Instruction, bool, bool], str]


def _require(cond: bool) -> None:
    if not cond:
        raise _Invalid


def _fmt_alu(insn: Instruction, imm_hex: bool, alu32: bool) -> str:
    op = insn.opcode & 0xF0
    is64 = insn.opcode & 0x07 == Class.ALU64
    regs = _REG_R if is64 else _REG_W
    dst = regs[insn.dst]
    use_x = insn.opcode & 0x08
    _require(insn.dst <= 10 and insn.src <= 10)
    if op == 0x80:  # NEG
        _require(not use_x and insn.src == 0 and insn.off == 0 and insn.imm == 0)
        return f"{dst} = -{dst}"
    if op == 0xB0:  # MOV and its variants
        if not use_x:
            _require(insn.src == 0 and insn.off == 0)
            return f"{dst} = {format_imm(insn.imm, imm_hex)}"
        if insn.off == 0:
            _require(insn.imm == 0)
            return f"{dst} = {regs[insn.src]}"
        if insn.off in (8, 16) or (insn.off == 32 and is64):
            _require(insn.imm == 0)
            return f"{dst} = (s{insn.off}){regs[insn.src]}"
        _require(is64 and insn.off == 1)  # arena pointer cast
        dst_as = (insn.imm >> 16) & 0xFFFF
        src_as = insn.imm & 0xFFFF
        return (f"{dst} = addr_space_cast({regs[insn.src]}, {format_imm(dst_as, imm_hex)}, "
                f"{format_imm(src_as, imm_hex)})")
    if op == 0xD0:  # byte swaps
        _require(insn.src == 0 and insn.off == 0 and insn.imm in (16, 32, 64))
        if is64:
            _require(not use_x)
            return f"{_REG_R[insn.dst]} = bswap{insn.imm} {_REG_R[insn.dst]}"
        kind = "be" if use_x else "le"
        return f"{_REG_R[insn.dst]} = {kind}{insn.imm} {_REG_R[insn.dst]}"
    if insn.off == 1:
        operator = SIGNED_ALU_OPERATORS.get(op)
    else:
        _require(insn.off == 0)
        operator = ALU_OPERATORS.get(op)
    _require(operator is not None)
    if use_x:
        _require(insn.imm == 0)
        return f"{dst} {operator} {regs[insn.src]}"
    _require(insn.src == 0)
    return f"{dst} {operator} {format_imm(insn.imm, imm_hex)}"


def _fmt_jmp(insn: Instruction, imm_hex: bool, alu32: bool) -> str:
    op = insn.opcode & 0xF0
    is32 = insn.opcode & 0x07 == Class.JMP32
    use_x = insn.opcode & 0x08
    _require(insn.dst <= 10 and insn.src <= 10)
    if op == 0x00:  # JA
        _require(not use_x and insn.dst == 0 and insn.src == 0)
        if is32:
            _require(insn.off == 0)
            return f"gotol {format_branch(insn.imm, imm_hex)}"
        _require(insn.imm == 0)
        return f"goto {format_branch(insn.off, imm_hex)}"
    if op == 0x80:  # CALL
        _require(not is32 and not use_x and insn.dst == 0 and insn.off == 0
                 and insn.src in (CallSrc.HELPER, CallSrc.PSEUDO_CALL, CallSrc.KFUNC))
        return f"call {format_imm(insn.imm, imm_hex)}"
    if op == 0x90:  # EXIT
        _require(not is32 and not use_x and insn.dst == 0 and insn.src == 0
                 and insn.off == 0 and insn.imm == 0)
        return "exit"
    if op == 0xE0:  # JCOND
        _require(not is32 and not use_x and insn.dst == 0 and insn.src == 0
                 and insn.imm == 0)
        return f"may_goto {format_branch(insn.off, imm_hex)}"
    operator = JUMP_OPERATORS.get(op)
    _require(operator is not None)
    regs = _REG_W if is32 else _REG_R
    if use_x:
        _require(insn.imm == 0)
        rhs = regs[insn.src]
    else:
        _require(insn.src == 0)
        rhs = format_imm(insn.imm, imm_hex)
    return f"if {regs[insn.dst]} {operator} {rhs} goto {format_branch(insn.off, imm_hex)}"


def _fmt_ld(insn: Instruction, imm_hex: bool, alu32: bool) -> str:
    mode = insn.opcode & 0xE0
    size = insn.opcode & 0x18
    if insn.opcode == 0x18:  # lddw
        _require(insn.dst <= 10 and insn.off == 0 and insn.src <= PseudoSrc.MAP_IDX_VALUE)
        if insn.src == PseudoSrc.IMM64:
            return f"{_REG_R[insn.dst]} = {format_imm(insn.imm, imm_hex)} ll"
        # LLVM prints only the low 32 bits, unsigned; keep all 64 when the high half is set
        value = insn.imm & 0xFFFF_FFFF_FFFF_FFFF
        return (f"ld_pseudo\t{_REG_R[insn.dst]}, {format_imm(int(insn.src), imm_hex)}, "
                f"{format_imm(value, imm_hex)}")
    _require(size != 0x18 and insn.dst == 0 and insn.off == 0)
    if mode == 0x20:  # ABS
        _require(insn.src == 0)
        return f"r0 = *({SIZE_NAMES[size]} *)skb[{format_imm(insn.imm, imm_hex)}]"
    _require(mode == 0x40 and insn.src <= 10)  # IND
    if insn.imm == 0:
        return f"r0 = *({SIZE_NAMES[size]} *)skb[{_REG_R[insn.src]}]"
    sign = "-" if insn.imm < 0 else "+"
    return (f"r0 = *({SIZE_NAMES[size]} *)skb[{_REG_R[insn.src]} {sign} "
            f"{format_imm(abs(insn.imm), imm_hex)}]")


def _fmt_ldx(insn: Instruction, imm_hex: bool, alu32: bool) -> str:
    mode = insn.opcode & 0xE0
    size = insn.opcode & 0x18
    _require(insn.imm == 0 and insn.dst <= 10 and insn.src <= 10)
    mem = _mem(insn.src, insn.off, imm_hex)
    if mode == 0x60:
        dst = _REG_W[insn.dst] if alu32 and size != 0x18 else _REG_R[insn.dst]
        return f"{dst} = *({SIZE_NAMES[size]} *)({mem})"
    _require(mode == 0x80 and size != 0x18)  # MEMSX
    return f"{_REG_R[insn.dst]} = *({SIGNED_SIZE_NAMES[size]} *)({mem})"


def _fmt_st(insn: Instruction, imm_hex: bool, alu32: bool) -> str:
    _require(insn.opcode & 0xE0 == 0x60 and insn.src == 0 and insn.dst <= 10)
    size = SIZE_NAMES[insn.opcode & 0x18]
    return f"*({size} *)({_mem(insn.dst, insn.off, imm_hex)}) = {format_imm(insn.imm, imm_hex)}"


def _fmt_stx(insn: Instruction, imm_hex: bool, alu32: bool) -> str:
    mode = insn.opcode & 0xE0
    size = insn.opcode & 0x18
    _require(insn.dst <= 10 and insn.src <= 10)
    mem = _mem(insn.dst, insn.off, imm_hex)
    sname = SIZE_NAMES[size]
    if mode == 0x60:
        _require(insn.imm == 0)
        src = _REG_W[insn.src] if alu32 and size != 0x18 else _REG_R[insn.src]
        return f"*({sname} *)({mem}) = {src}"
    _require(mode == 0xC0)
    op = insn.imm
    wide = size == 0x18
    if op == AtomicOp.LOAD_ACQ:
        dst = _REG_R[insn.dst] if wide else _REG_W[insn.dst]
        return f"{dst} = load_acquire(({sname} *)({_mem(insn.src, insn.off, imm_hex)}))"
    if op == AtomicOp.STORE_REL:
        src = _REG_R[insn.src] if wide else _REG_W[insn.src]
        return f"store_release(({sname} *)({mem}), {src})"
    _require(size in (0x00, 0x18))  # read-modify-write atomics: 32 and 64 bits only
    val = _REG_R[insn.src] if wide else _REG_W[insn.src]
    if op in ATOMIC_OPERATORS:
        if not wide and not alu32 and op == AtomicOp.ADD:
            val = _REG_R[insn.src]  # LLVM's pre-alu32 XADDW names the 64-bit register
        return f"lock *({sname} *)({mem}) {ATOMIC_OPERATORS[op]}= {val}"
    if op & ~AtomicOp.FETCH in ATOMIC_FETCH_NAMES and op & AtomicOp.FETCH:
        name = ATOMIC_FETCH_NAMES[op & ~AtomicOp.FETCH]
        return f"{val} = atomic_fetch_{name}(({sname} *)({mem}), {val})"
    if op == AtomicOp.XCHG:
        fn = "xchg_64" if wide else "xchg32_32"
        return f"{val} = {fn}({mem}, {val})"
    _require(op == AtomicOp.CMPXCHG)
    if wide:
        return f"r0 = cmpxchg_64({mem}, r0, {val})"
    return f"w0 = cmpxchg32_32({mem}, w0, {val})"


_BY_CLASS: dict[int, Formatter] = {
    Class.LD: _fmt_ld, Class.LDX: _fmt_ldx, Class.ST: _fmt_st, Class.STX: _fmt_stx,
    Class.ALU: _fmt_alu, Class.JMP: _fmt_jmp, Class.JMP32: _fmt_jmp, Class.ALU64: _fmt_alu,
}


def format_instruction(insn: Instruction, *, imm_hex: bool = False, alu32: bool = False,
                       source: str | None = None, offset: int | None = None) -> str:
    """The llvm-objdump text of one instruction (without a jump-target label).

    ``imm_hex`` prints immediates and offsets in hex (``--print-imm-hex``); ``alu32``
    prints sub-64-bit loads/stores with ``w`` registers (``--mattr=+alu32``).
    ``source``/``offset`` only name the place in an error.

    Raises :class:`AsmError` for an unknown opcode or fields no valid instruction has.
    """
    try:
        if not (0 <= insn.dst <= 10 and 0 <= insn.src <= 10):
            raise _Invalid
        return _BY_CLASS[insn.opcode & 0x07](insn, imm_hex, alu32)
    except (_Invalid, KeyError, IndexError):
        raise AsmError(f"unknown instruction: opcode {insn.opcode:#04x} (dst={insn.dst}, "
                       f"src={insn.src}, off={insn.off}, imm={insn.imm})",
                       source=source, offset=offset) from None
