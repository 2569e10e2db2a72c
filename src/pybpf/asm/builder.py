"""Build instructions in Python: ``asm.mov(R0, 1)``, ``asm.jeq(R1, 0, "out")``, ``asm.exit()``.

Every function returns one :class:`Instruction`. A branch target (and a bpf-to-bpf call or
``ld_func`` target) is either an ``int`` offset, counted in 8-byte slots from the next
instruction as the encoding does, or a ``str`` label: the instruction then carries the label
as its ``reference`` and :func:`pybpf.asm.link` computes the offset once the program is
complete, so inserting instructions never breaks a branch. Put ``label("name")`` before the
instruction a label names (or build the instruction with ``symbol="name"``).

Names follow RFC 9669; the ``...32`` variants are the 32-bit ALU/JMP32 forms (``w``
registers). ``size`` is a byte count (1, 2, 4, 8), a :class:`Size` or ``"u8"``..``"u64"``.
Bad operands raise :class:`~pybpf.errors.AsmError`.
"""

from __future__ import annotations

from ..dataclass_compat import FrozenValue
from ..errors import AsmError
from .instruction import Instruction
from .opcodes import ALUOp, AtomicOp, CallSrc, Class, JumpOp, Mode, PseudoSrc, Size, Source
from .registers import MAX_REGISTER, Register

Target = int | str
"""A branch target: an offset in slots from the next instruction, or a label."""


# the shapes of the generated builders (add, jeq, atomic_add...), for type checkers
# (typing is not imported at run time: `pybpf trace` compiles a script without it)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class _AluBuilder(Protocol):
        def __call__(self, dst: int, src_or_imm: int, *, symbol: str | None = None
                     ) -> Instruction: ...


    class _JumpBuilder(Protocol):
        def __call__(self, dst: int, src_or_imm: int, target: Target, *,
                     symbol: str | None = None) -> Instruction: ...


    class _AtomicBuilder(Protocol):
        def __call__(self, size: int | str | Size, dst: int, src: int, off: int = 0, *,
                     fetch: bool = False, symbol: str | None = None) -> Instruction: ...


class Label(FrozenValue):
    """A label marker in a list given to :func:`pybpf.asm.link`: names the next instruction."""

    name: str

    __slots__ = ("name",)
    __match_args__ = ("name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)


def label(name: str) -> Label:
    return Label(name)


# -- operand checks ---------------------------------------------------------------------

def _reg(value: int, what: str = "register") -> int:
    if not isinstance(value, int) or not 0 <= value <= MAX_REGISTER:
        raise AsmError(f"{what} must be r0..r10, not {value!r}")
    return int(value)


def _imm32(value: int) -> int:
    """A 32-bit immediate; unsigned spellings up to 0xffffffff wrap to the signed field."""
    if not isinstance(value, int) or not -(1 << 31) <= value < (1 << 32):
        raise AsmError(f"immediate {value!r} does not fit in 32 bits")
    return value - (1 << 32) if value >= 1 << 31 else int(value)


def _imm64(value: int) -> int:
    if not isinstance(value, int) or not -(1 << 63) <= value < (1 << 64):
        raise AsmError(f"immediate {value!r} does not fit in 64 bits")
    return value - (1 << 64) if value >= 1 << 63 else int(value)


def _off16(value: int, what: str = "offset") -> int:
    if not isinstance(value, int) or not -(1 << 15) <= value < (1 << 15):
        raise AsmError(f"{what} {value!r} does not fit in 16 bits")
    return int(value)


_SIZE_NAMES = {"u8": Size.B, "u16": Size.H, "u32": Size.W, "u64": Size.DW,
               "s8": Size.B, "s16": Size.H, "s32": Size.W}


def _size(size: int | str | Size) -> Size:
    if isinstance(size, Size):
        return size
    if isinstance(size, str) and size in _SIZE_NAMES:
        return _SIZE_NAMES[size]
    if isinstance(size, int) and size in (1, 2, 4, 8):
        return Size.from_nbytes(size)
    raise AsmError(f"size must be 1, 2, 4, 8 or u8..u64, not {size!r}")


def _target(target: Target) -> tuple[int, str | None]:
    """(offset, reference) for a branch target."""
    if isinstance(target, str):
        if not target:
            raise AsmError("empty label")
        return 0, target
    if isinstance(target, int):
        return target, None
    raise AsmError(f"branch target must be an offset or a label, not {target!r}")


# -- ALU ---------------------------------------------------------------------------------

def _alu(op: ALUOp, cls: Class, dst: int, operand: int, *, use_reg: bool, off: int = 0,
         symbol: str | None = None) -> Instruction:
    if use_reg:
        return Instruction(cls | op | Source.X, _reg(dst), _reg(operand), off, 0, symbol)
    return Instruction(cls | op | Source.K, _reg(dst), 0, off, _imm32(operand), symbol)


def _is_reg(operand: object) -> bool:
    # Registers are the Register IntEnum; a plain int is an immediate.
    return isinstance(operand, Register)


def _make_alu(op: ALUOp, cls: Class, off: int = 0) -> _AluBuilder:
    def build(dst: int, src_or_imm: int, *, symbol: str | None = None) -> Instruction:
        return _alu(op, cls, dst, src_or_imm, use_reg=_is_reg(src_or_imm), off=off,
                    symbol=symbol)
    width = "64" if cls == Class.ALU64 else "32"
    build.__doc__ = (f"``dst {op.name.lower()}= src_or_imm`` ({width}-bit); a Register "
                     "operand uses src, an int the immediate.")
    return build


add, sub, mul, div = (_make_alu(o, Class.ALU64) for o in (ALUOp.ADD, ALUOp.SUB, ALUOp.MUL,
                                                           ALUOp.DIV))
or_, and_, lsh, rsh = (_make_alu(o, Class.ALU64) for o in (ALUOp.OR, ALUOp.AND, ALUOp.LSH,
                                                           ALUOp.RSH))
mod, xor, mov, arsh = (_make_alu(o, Class.ALU64) for o in (ALUOp.MOD, ALUOp.XOR, ALUOp.MOV,
                                                           ALUOp.ARSH))
sdiv = _make_alu(ALUOp.DIV, Class.ALU64, off=1)
smod = _make_alu(ALUOp.MOD, Class.ALU64, off=1)
add32, sub32, mul32, div32 = (_make_alu(o, Class.ALU) for o in (ALUOp.ADD, ALUOp.SUB,
                                                                ALUOp.MUL, ALUOp.DIV))
or32, and32, lsh32, rsh32 = (_make_alu(o, Class.ALU) for o in (ALUOp.OR, ALUOp.AND,
                                                               ALUOp.LSH, ALUOp.RSH))
mod32, xor32, mov32, arsh32 = (_make_alu(o, Class.ALU) for o in (ALUOp.MOD, ALUOp.XOR,
                                                                 ALUOp.MOV, ALUOp.ARSH))
sdiv32 = _make_alu(ALUOp.DIV, Class.ALU, off=1)
smod32 = _make_alu(ALUOp.MOD, Class.ALU, off=1)


def mov_reg(dst: int, src: int, *, is64: bool = True, symbol: str | None = None
            ) -> Instruction:
    """``dst = src`` even when ``src`` is a plain int register number."""
    return _alu(ALUOp.MOV, Class.ALU64 if is64 else Class.ALU, dst, src, use_reg=True,
                symbol=symbol)


def neg(dst: int, *, symbol: str | None = None) -> Instruction:
    return Instruction(Class.ALU64 | ALUOp.NEG, _reg(dst), symbol=symbol)


def neg32(dst: int, *, symbol: str | None = None) -> Instruction:
    return Instruction(Class.ALU | ALUOp.NEG, _reg(dst), symbol=symbol)


def _check_bits(bits: int, allowed: tuple[int, ...]) -> int:
    if bits not in allowed:
        raise AsmError(f"width must be one of {allowed}, not {bits!r}")
    return bits


def movsx(dst: int, src: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """``dst = (s<bits>)src`` in 64 bits (bits 8, 16 or 32; Linux 6.6, cpu v4)."""
    return Instruction(Class.ALU64 | ALUOp.MOV | Source.X, _reg(dst), _reg(src),
                       _check_bits(bits, (8, 16, 32)), 0, symbol)


def movsx32(dst: int, src: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """``wdst = (s<bits>)wsrc`` (bits 8 or 16)."""
    return Instruction(Class.ALU | ALUOp.MOV | Source.X, _reg(dst), _reg(src),
                       _check_bits(bits, (8, 16)), 0, symbol)


def addr_space_cast(dst: int, src: int, dst_as: int, src_as: int, *,
                    symbol: str | None = None) -> Instruction:
    """Arena pointer cast between address spaces (Linux 6.9)."""
    for value in (dst_as, src_as):
        if not 0 <= value <= 0xFFFF:
            raise AsmError(f"address space {value!r} does not fit in 16 bits")
    return Instruction(Class.ALU64 | ALUOp.MOV | Source.X, _reg(dst), _reg(src), 1,
                       _imm32(dst_as << 16 | src_as), symbol)


def to_le(dst: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """Convert to little endian (``r1 = le16 r1``)."""
    return Instruction(Class.ALU | ALUOp.END | Source.K, _reg(dst), 0, 0,
                       _check_bits(bits, (16, 32, 64)), symbol)


def to_be(dst: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """Convert to big endian (``r1 = be16 r1``)."""
    return Instruction(Class.ALU | ALUOp.END | Source.X, _reg(dst), 0, 0,
                       _check_bits(bits, (16, 32, 64)), symbol)


def bswap(dst: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """Unconditional byte swap (``r1 = bswap16 r1``; Linux 6.6, cpu v4)."""
    return Instruction(Class.ALU64 | ALUOp.END | Source.K, _reg(dst), 0, 0,
                       _check_bits(bits, (16, 32, 64)), symbol)


# -- jumps and calls ---------------------------------------------------------------------

def ja(target: Target, *, symbol: str | None = None) -> Instruction:
    """``goto target``."""
    off, ref = _target(target)
    return Instruction(Class.JMP | JumpOp.JA, 0, 0, _off16(off, "jump offset"), 0, symbol, ref)


def gotol(target: Target, *, symbol: str | None = None) -> Instruction:
    """``gotol target``: the 32-bit-offset jump (JMP32|JA; Linux 6.6, cpu v4)."""
    off, ref = _target(target)
    return Instruction(Class.JMP32 | JumpOp.JA, 0, 0, 0, _imm32(off), symbol, ref)


def may_goto(target: Target, *, symbol: str | None = None) -> Instruction:
    """``may_goto target`` (JMP|JCOND; Linux 6.9)."""
    off, ref = _target(target)
    return Instruction(Class.JMP | JumpOp.JCOND, 0, 0, _off16(off, "jump offset"), 0,
                       symbol, ref)


def _make_jump(op: JumpOp, cls: Class) -> _JumpBuilder:
    def build(dst: int, src_or_imm: int, target: Target, *, symbol: str | None = None
              ) -> Instruction:
        off, ref = _target(target)
        off = _off16(off, "jump offset")
        if _is_reg(src_or_imm):
            return Instruction(cls | op | Source.X, _reg(dst), _reg(src_or_imm), off, 0,
                               symbol, ref)
        return Instruction(cls | op | Source.K, _reg(dst), 0, off, _imm32(src_or_imm),
                           symbol, ref)
    build.__doc__ = f"``if dst {op.name} src_or_imm goto target``."
    return build


_JUMPS = (JumpOp.JEQ, JumpOp.JGT, JumpOp.JGE, JumpOp.JSET, JumpOp.JNE, JumpOp.JSGT,
          JumpOp.JSGE, JumpOp.JLT, JumpOp.JLE, JumpOp.JSLT, JumpOp.JSLE)
jeq, jgt, jge, jset, jne, jsgt, jsge, jlt, jle, jslt, jsle = (
    _make_jump(o, Class.JMP) for o in _JUMPS)
jeq32, jgt32, jge32, jset32, jne32, jsgt32, jsge32, jlt32, jle32, jslt32, jsle32 = (
    _make_jump(o, Class.JMP32) for o in _JUMPS)


def call(helper: int, *, symbol: str | None = None) -> Instruction:
    """Call the kernel helper with this id (``call 1`` is bpf_map_lookup_elem)."""
    return Instruction(Class.JMP | JumpOp.CALL, 0, int(CallSrc.HELPER), 0, _imm32(helper),
                       symbol)


def call_func(target: Target, *, symbol: str | None = None) -> Instruction:
    """A bpf-to-bpf call (BPF_PSEUDO_CALL) of the subprogram at ``target``."""
    off, ref = _target(target)
    return Instruction(Class.JMP | JumpOp.CALL, 0, int(CallSrc.PSEUDO_CALL), 0, _imm32(off),
                       symbol, ref)


def call_kfunc(btf_id: int, *, reference: str | None = None, symbol: str | None = None
               ) -> Instruction:
    """Call a kernel function by its vmlinux BTF id (BPF_PSEUDO_KFUNC_CALL)."""
    return Instruction(Class.JMP | JumpOp.CALL, 0, int(CallSrc.KFUNC), 0, _imm32(btf_id),
                       symbol, reference)


def exit(*, symbol: str | None = None) -> Instruction:  # noqa: A001 - the BPF name
    return Instruction(Class.JMP | JumpOp.EXIT, symbol=symbol)


# -- memory ------------------------------------------------------------------------------

def ldx(size: int | str | Size, dst: int, src: int, off: int = 0, *,
        symbol: str | None = None) -> Instruction:
    """``dst = *(size *)(src + off)``, zero-extended."""
    return Instruction(Class.LDX | Mode.MEM | _size(size), _reg(dst), _reg(src), _off16(off),
                       0, symbol)


def ldxsx(size: int | str | Size, dst: int, src: int, off: int = 0, *,
          symbol: str | None = None) -> Instruction:
    """``dst = *(s<size> *)(src + off)``, sign-extended (1, 2 or 4 bytes; cpu v4)."""
    sz = _size(size)
    if sz == Size.DW:
        raise AsmError("sign-extending loads are 1, 2 or 4 bytes wide")
    return Instruction(Class.LDX | Mode.MEMSX | sz, _reg(dst), _reg(src), _off16(off), 0,
                       symbol)


def stx(size: int | str | Size, dst: int, src: int, off: int = 0, *,
        symbol: str | None = None) -> Instruction:
    """``*(size *)(dst + off) = src``."""
    return Instruction(Class.STX | Mode.MEM | _size(size), _reg(dst), _reg(src), _off16(off),
                       0, symbol)


def st(size: int | str | Size, dst: int, imm: int, off: int = 0, *,
       symbol: str | None = None) -> Instruction:
    """``*(size *)(dst + off) = imm``."""
    return Instruction(Class.ST | Mode.MEM | _size(size), _reg(dst), 0, _off16(off),
                       _imm32(imm), symbol)


def _atomic(size: int | str | Size, dst: int, src: int, off: int, op: int,
            symbol: str | None) -> Instruction:
    sz = _size(size)
    if sz not in (Size.W, Size.DW) and op not in (AtomicOp.LOAD_ACQ, AtomicOp.STORE_REL):
        raise AsmError("atomic read-modify-write instructions are 4 or 8 bytes wide")
    return Instruction(Class.STX | Mode.ATOMIC | sz, _reg(dst), _reg(src), _off16(off), op,
                       symbol)


def _make_atomic(op: AtomicOp) -> _AtomicBuilder:
    def build(size: int | str | Size, dst: int, src: int, off: int = 0, *,
              fetch: bool = False, symbol: str | None = None) -> Instruction:
        return _atomic(size, dst, src, off, op | (AtomicOp.FETCH if fetch else 0), symbol)
    build.__doc__ = (f"``lock *(size *)(dst + off) {op.name.lower()}= src``; with ``fetch`` "
                     "src receives the old value.")
    return build


atomic_add, atomic_or, atomic_and, atomic_xor = (
    _make_atomic(o) for o in (AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR))


def xchg(size: int | str | Size, dst: int, src: int, off: int = 0, *,
         symbol: str | None = None) -> Instruction:
    """Swap ``src`` with ``*(size *)(dst + off)``."""
    return _atomic(size, dst, src, off, AtomicOp.XCHG, symbol)


def cmpxchg(size: int | str | Size, dst: int, src: int, off: int = 0, *,
            symbol: str | None = None) -> Instruction:
    """If ``*(dst + off) == r0`` store ``src``; r0 receives the old value."""
    return _atomic(size, dst, src, off, AtomicOp.CMPXCHG, symbol)


def load_acquire(size: int | str | Size, dst: int, src: int, off: int = 0, *,
                 symbol: str | None = None) -> Instruction:
    """``dst = load_acquire((size *)(src + off))`` (Linux 6.15)."""
    return _atomic(size, dst, src, off, AtomicOp.LOAD_ACQ, symbol)


def store_release(size: int | str | Size, dst: int, src: int, off: int = 0, *,
                  symbol: str | None = None) -> Instruction:
    """``store_release((size *)(dst + off), src)`` (Linux 6.15)."""
    return _atomic(size, dst, src, off, AtomicOp.STORE_REL, symbol)


def ld_abs(size: int | str | Size, imm: int, *, symbol: str | None = None) -> Instruction:
    """Legacy packet load ``r0 = *(size *)skb[imm]`` (r6 holds the skb)."""
    sz = _size(size)
    if sz == Size.DW:
        raise AsmError("legacy packet loads are 1, 2 or 4 bytes wide")
    return Instruction(Class.LD | Mode.ABS | sz, 0, 0, 0, _imm32(imm), symbol)


def ld_ind(size: int | str | Size, src: int, imm: int = 0, *, symbol: str | None = None
           ) -> Instruction:
    """Legacy packet load ``r0 = *(size *)skb[src + imm]``."""
    sz = _size(size)
    if sz == Size.DW:
        raise AsmError("legacy packet loads are 1, 2 or 4 bytes wide")
    return Instruction(Class.LD | Mode.IND | sz, 0, _reg(src), 0, _imm32(imm), symbol)


# -- 64-bit immediates ---------------------------------------------------------------

def _lddw(dst: int, src: PseudoSrc, value: int, symbol: str | None,
          reference: str | None = None) -> Instruction:
    return Instruction(Class.LD | Mode.IMM | Size.DW, _reg(dst), int(src), 0, _imm64(value),
                       symbol, reference)


def lddw(dst: int, value: int, *, symbol: str | None = None) -> Instruction:
    """``dst = value ll``: a 64-bit constant (two slots)."""
    return _lddw(dst, PseudoSrc.IMM64, value, symbol)


def ld_map_fd(dst: int, map_fd: int | str, *, symbol: str | None = None) -> Instruction:
    """Load a map pointer: by fd, or by map name (``reference``) for a loader to fill in."""
    if isinstance(map_fd, str):
        return _lddw(dst, PseudoSrc.MAP_FD, 0, symbol, map_fd)
    return _lddw(dst, PseudoSrc.MAP_FD, map_fd, symbol)


def ld_map_value(dst: int, map_fd: int | str, off: int = 0, *, symbol: str | None = None
                 ) -> Instruction:
    """Load the address ``off`` bytes into an array map's value (global data)."""
    if not 0 <= off < 1 << 32:
        raise AsmError(f"map value offset {off!r} does not fit in 32 bits")
    ref = map_fd if isinstance(map_fd, str) else None
    fd = 0 if isinstance(map_fd, str) else map_fd
    return _lddw(dst, PseudoSrc.MAP_VALUE, (fd & 0xFFFF_FFFF) | off << 32, symbol, ref)


def ld_btf_id(dst: int, btf_id: int, *, symbol: str | None = None) -> Instruction:
    """Load the address of a kernel variable by BTF id (BPF_PSEUDO_BTF_ID)."""
    return _lddw(dst, PseudoSrc.BTF_ID, btf_id, symbol)


def ld_func(dst: int, target: Target, *, symbol: str | None = None) -> Instruction:
    """Load the address of a subprogram (a callback; BPF_PSEUDO_FUNC)."""
    off, ref = _target(target)
    return _lddw(dst, PseudoSrc.FUNC, off, symbol, ref)


def ld_map_idx(dst: int, index: int, *, symbol: str | None = None) -> Instruction:
    """Load a map pointer by its index in the fd_array (BPF_PSEUDO_MAP_IDX)."""
    return _lddw(dst, PseudoSrc.MAP_IDX, index, symbol)


def ld_map_idx_value(dst: int, index: int, off: int = 0, *, symbol: str | None = None
                     ) -> Instruction:
    """Load a map value address by fd_array index (BPF_PSEUDO_MAP_IDX_VALUE)."""
    if not 0 <= off < 1 << 32:
        raise AsmError(f"map value offset {off!r} does not fit in 32 bits")
    return _lddw(dst, PseudoSrc.MAP_IDX_VALUE, (index & 0xFFFF_FFFF) | off << 32, symbol)
