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

import sys

from ..dataclass_compat import FrozenValue
from ..errors import AsmError
from . import _codes as c
from .instruction import Instruction
from .registers import MAX_REGISTER, Register

Target = int | str
"""A branch target: an offset in slots from the next instruction, or a label."""


# the shapes of the generated builders (add, jeq, atomic_add...), for type checkers
# (typing is not imported at run time: `pybpf trace` compiles a script without it)
# (nor enum: the opcodes are _codes' ints, opcodes' enums are for readers of instructions)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from .opcodes import Size

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


_SIZE_NAMES = {"u8": c.BPF_B, "u16": c.BPF_H, "u32": c.BPF_W, "u64": c.BPF_DW,
               "s8": c.BPF_B, "s16": c.BPF_H, "s32": c.BPF_W}
_SIZE_BYTES = {1: c.BPF_B, 2: c.BPF_H, 4: c.BPF_W, 8: c.BPF_DW}


def _size(size: int | str | Size) -> int:
    """The size field of ``size``. A :class:`Size` exists only once its module is imported
    (and ``c.BPF_H`` is 8: not a byte count)."""
    opcodes = sys.modules.get("pybpf.asm.opcodes")
    if opcodes is not None and isinstance(size, opcodes.Size):
        return int(size)
    if isinstance(size, str) and size in _SIZE_NAMES:
        return _SIZE_NAMES[size]
    if isinstance(size, int) and size in _SIZE_BYTES:
        return _SIZE_BYTES[size]
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

def _alu(op: int, cls: int, dst: int, operand: int, *, use_reg: bool, off: int = 0,
         symbol: str | None = None) -> Instruction:
    if use_reg:
        return Instruction(cls | op | c.BPF_X, _reg(dst), _reg(operand), off, 0, symbol)
    return Instruction(cls | op | c.BPF_K, _reg(dst), 0, off, _imm32(operand), symbol)


def _is_reg(operand: object) -> bool:
    # Registers are the Register IntEnum; a plain int is an immediate.
    return isinstance(operand, Register)


def _make_alu(name: str, cls: int, off: int = 0) -> _AluBuilder:
    op = getattr(c, f"BPF_{name.upper()}")

    def build(dst: int, src_or_imm: int, *, symbol: str | None = None) -> Instruction:
        return _alu(op, cls, dst, src_or_imm, use_reg=_is_reg(src_or_imm), off=off,
                    symbol=symbol)
    width = "64" if cls == c.BPF_ALU64 else "32"
    build.__doc__ = (f"``dst {name}= src_or_imm`` ({width}-bit); a Register "
                     "operand uses src, an int the immediate.")
    return build


add, sub, mul, div = (_make_alu(o, c.BPF_ALU64) for o in ("add", "sub", "mul", "div"))
or_, and_, lsh, rsh = (_make_alu(o, c.BPF_ALU64) for o in ("or", "and", "lsh", "rsh"))
mod, xor, mov, arsh = (_make_alu(o, c.BPF_ALU64) for o in ("mod", "xor", "mov", "arsh"))
sdiv = _make_alu("div", c.BPF_ALU64, off=1)
smod = _make_alu("mod", c.BPF_ALU64, off=1)
add32, sub32, mul32, div32 = (_make_alu(o, c.BPF_ALU) for o in ("add", "sub", "mul", "div"))
or32, and32, lsh32, rsh32 = (_make_alu(o, c.BPF_ALU) for o in ("or", "and", "lsh", "rsh"))
mod32, xor32, mov32, arsh32 = (_make_alu(o, c.BPF_ALU) for o in ("mod", "xor", "mov", "arsh"))
sdiv32 = _make_alu("div", c.BPF_ALU, off=1)
smod32 = _make_alu("mod", c.BPF_ALU, off=1)


def mov_reg(dst: int, src: int, *, is64: bool = True, symbol: str | None = None
            ) -> Instruction:
    """``dst = src`` even when ``src`` is a plain int register number."""
    return _alu(c.BPF_MOV, c.BPF_ALU64 if is64 else c.BPF_ALU, dst, src, use_reg=True,
                symbol=symbol)


def neg(dst: int, *, symbol: str | None = None) -> Instruction:
    return Instruction(c.BPF_ALU64 | c.BPF_NEG, _reg(dst), symbol=symbol)


def neg32(dst: int, *, symbol: str | None = None) -> Instruction:
    return Instruction(c.BPF_ALU | c.BPF_NEG, _reg(dst), symbol=symbol)


def _check_bits(bits: int, allowed: tuple[int, ...]) -> int:
    if bits not in allowed:
        raise AsmError(f"width must be one of {allowed}, not {bits!r}")
    return bits


def movsx(dst: int, src: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """``dst = (s<bits>)src`` in 64 bits (bits 8, 16 or 32; Linux 6.6, cpu v4)."""
    return Instruction(c.BPF_ALU64 | c.BPF_MOV | c.BPF_X, _reg(dst), _reg(src),
                       _check_bits(bits, (8, 16, 32)), 0, symbol)


def movsx32(dst: int, src: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """``wdst = (s<bits>)wsrc`` (bits 8 or 16)."""
    return Instruction(c.BPF_ALU | c.BPF_MOV | c.BPF_X, _reg(dst), _reg(src),
                       _check_bits(bits, (8, 16)), 0, symbol)


def addr_space_cast(dst: int, src: int, dst_as: int, src_as: int, *,
                    symbol: str | None = None) -> Instruction:
    """Arena pointer cast between address spaces (Linux 6.9)."""
    for value in (dst_as, src_as):
        if not 0 <= value <= 0xFFFF:
            raise AsmError(f"address space {value!r} does not fit in 16 bits")
    return Instruction(c.BPF_ALU64 | c.BPF_MOV | c.BPF_X, _reg(dst), _reg(src), 1,
                       _imm32(dst_as << 16 | src_as), symbol)


def to_le(dst: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """Convert to little endian (``r1 = le16 r1``)."""
    return Instruction(c.BPF_ALU | c.BPF_END | c.BPF_K, _reg(dst), 0, 0,
                       _check_bits(bits, (16, 32, 64)), symbol)


def to_be(dst: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """Convert to big endian (``r1 = be16 r1``)."""
    return Instruction(c.BPF_ALU | c.BPF_END | c.BPF_X, _reg(dst), 0, 0,
                       _check_bits(bits, (16, 32, 64)), symbol)


def bswap(dst: int, bits: int, *, symbol: str | None = None) -> Instruction:
    """Unconditional byte swap (``r1 = bswap16 r1``; Linux 6.6, cpu v4)."""
    return Instruction(c.BPF_ALU64 | c.BPF_END | c.BPF_K, _reg(dst), 0, 0,
                       _check_bits(bits, (16, 32, 64)), symbol)


# -- jumps and calls ---------------------------------------------------------------------

def ja(target: Target, *, symbol: str | None = None) -> Instruction:
    """``goto target``."""
    off, ref = _target(target)
    return Instruction(c.BPF_JMP | c.BPF_JA, 0, 0, _off16(off, "jump offset"), 0, symbol, ref)


def gotol(target: Target, *, symbol: str | None = None) -> Instruction:
    """``gotol target``: the 32-bit-offset jump (JMP32|JA; Linux 6.6, cpu v4)."""
    off, ref = _target(target)
    return Instruction(c.BPF_JMP32 | c.BPF_JA, 0, 0, 0, _imm32(off), symbol, ref)


def may_goto(target: Target, *, symbol: str | None = None) -> Instruction:
    """``may_goto target`` (JMP|JCOND; Linux 6.9)."""
    off, ref = _target(target)
    return Instruction(c.BPF_JMP | c.BPF_JCOND, 0, 0, _off16(off, "jump offset"), 0,
                       symbol, ref)


def _make_jump(name: str, cls: int) -> _JumpBuilder:
    op = getattr(c, f"BPF_{name}")

    def build(dst: int, src_or_imm: int, target: Target, *, symbol: str | None = None
              ) -> Instruction:
        off, ref = _target(target)
        off = _off16(off, "jump offset")
        if _is_reg(src_or_imm):
            return Instruction(cls | op | c.BPF_X, _reg(dst), _reg(src_or_imm), off, 0,
                               symbol, ref)
        return Instruction(cls | op | c.BPF_K, _reg(dst), 0, off, _imm32(src_or_imm),
                           symbol, ref)
    build.__doc__ = f"``if dst {name} src_or_imm goto target``."
    return build


_JUMPS = ("JEQ", "JGT", "JGE", "JSET", "JNE", "JSGT", "JSGE", "JLT", "JLE", "JSLT", "JSLE")
jeq, jgt, jge, jset, jne, jsgt, jsge, jlt, jle, jslt, jsle = (
    _make_jump(o, c.BPF_JMP) for o in _JUMPS)
jeq32, jgt32, jge32, jset32, jne32, jsgt32, jsge32, jlt32, jle32, jslt32, jsle32 = (
    _make_jump(o, c.BPF_JMP32) for o in _JUMPS)


def call(helper: int, *, symbol: str | None = None) -> Instruction:
    """Call the kernel helper with this id (``call 1`` is bpf_map_lookup_elem)."""
    return Instruction(c.BPF_JMP | c.BPF_CALL, 0, c.BPF_HELPER_CALL, 0, _imm32(helper),
                       symbol)


def call_func(target: Target, *, symbol: str | None = None) -> Instruction:
    """A bpf-to-bpf call (BPF_PSEUDO_CALL) of the subprogram at ``target``."""
    off, ref = _target(target)
    return Instruction(c.BPF_JMP | c.BPF_CALL, 0, c.BPF_PSEUDO_CALL, 0, _imm32(off),
                       symbol, ref)


def call_kfunc(btf_id: int, *, reference: str | None = None, symbol: str | None = None
               ) -> Instruction:
    """Call a kernel function by its vmlinux BTF id (BPF_PSEUDO_KFUNC_CALL)."""
    return Instruction(c.BPF_JMP | c.BPF_CALL, 0, c.BPF_PSEUDO_KFUNC_CALL, 0, _imm32(btf_id),
                       symbol, reference)


def exit(*, symbol: str | None = None) -> Instruction:  # noqa: A001 - the BPF name
    return Instruction(c.BPF_JMP | c.BPF_EXIT, symbol=symbol)


# -- memory ------------------------------------------------------------------------------

def ldx(size: int | str | Size, dst: int, src: int, off: int = 0, *,
        symbol: str | None = None) -> Instruction:
    """``dst = *(size *)(src + off)``, zero-extended."""
    return Instruction(c.BPF_LDX | c.BPF_MEM | _size(size), _reg(dst), _reg(src), _off16(off),
                       0, symbol)


def ldxsx(size: int | str | Size, dst: int, src: int, off: int = 0, *,
          symbol: str | None = None) -> Instruction:
    """``dst = *(s<size> *)(src + off)``, sign-extended (1, 2 or 4 bytes; cpu v4)."""
    sz = _size(size)
    if sz == c.BPF_DW:
        raise AsmError("sign-extending loads are 1, 2 or 4 bytes wide")
    return Instruction(c.BPF_LDX | c.BPF_MEMSX | sz, _reg(dst), _reg(src), _off16(off), 0,
                       symbol)


def stx(size: int | str | Size, dst: int, src: int, off: int = 0, *,
        symbol: str | None = None) -> Instruction:
    """``*(size *)(dst + off) = src``."""
    return Instruction(c.BPF_STX | c.BPF_MEM | _size(size), _reg(dst), _reg(src), _off16(off),
                       0, symbol)


def st(size: int | str | Size, dst: int, imm: int, off: int = 0, *,
       symbol: str | None = None) -> Instruction:
    """``*(size *)(dst + off) = imm``."""
    return Instruction(c.BPF_ST | c.BPF_MEM | _size(size), _reg(dst), 0, _off16(off),
                       _imm32(imm), symbol)


def _atomic(size: int | str | Size, dst: int, src: int, off: int, op: int,
            symbol: str | None) -> Instruction:
    sz = _size(size)
    if sz not in (c.BPF_W, c.BPF_DW) and op not in (c.BPF_LOAD_ACQ, c.BPF_STORE_REL):
        raise AsmError("atomic read-modify-write instructions are 4 or 8 bytes wide")
    return Instruction(c.BPF_STX | c.BPF_ATOMIC | sz, _reg(dst), _reg(src), _off16(off), op,
                       symbol)


def _make_atomic(name: str) -> _AtomicBuilder:
    op = getattr(c, f"BPF_{name.upper()}")

    def build(size: int | str | Size, dst: int, src: int, off: int = 0, *,
              fetch: bool = False, symbol: str | None = None) -> Instruction:
        return _atomic(size, dst, src, off, op | (c.BPF_FETCH if fetch else 0), symbol)
    build.__doc__ = (f"``lock *(size *)(dst + off) {name}= src``; with ``fetch`` "
                     "src receives the old value.")
    return build


atomic_add, atomic_or, atomic_and, atomic_xor = (
    _make_atomic(o) for o in ("add", "or", "and", "xor"))


def xchg(size: int | str | Size, dst: int, src: int, off: int = 0, *,
         symbol: str | None = None) -> Instruction:
    """Swap ``src`` with ``*(size *)(dst + off)``."""
    return _atomic(size, dst, src, off, c.BPF_XCHG, symbol)


def cmpxchg(size: int | str | Size, dst: int, src: int, off: int = 0, *,
            symbol: str | None = None) -> Instruction:
    """If ``*(dst + off) == r0`` store ``src``; r0 receives the old value."""
    return _atomic(size, dst, src, off, c.BPF_CMPXCHG, symbol)


def load_acquire(size: int | str | Size, dst: int, src: int, off: int = 0, *,
                 symbol: str | None = None) -> Instruction:
    """``dst = load_acquire((size *)(src + off))`` (Linux 6.15)."""
    return _atomic(size, dst, src, off, c.BPF_LOAD_ACQ, symbol)


def store_release(size: int | str | Size, dst: int, src: int, off: int = 0, *,
                  symbol: str | None = None) -> Instruction:
    """``store_release((size *)(dst + off), src)`` (Linux 6.15)."""
    return _atomic(size, dst, src, off, c.BPF_STORE_REL, symbol)


def ld_abs(size: int | str | Size, imm: int, *, symbol: str | None = None) -> Instruction:
    """Legacy packet load ``r0 = *(size *)skb[imm]`` (r6 holds the skb)."""
    sz = _size(size)
    if sz == c.BPF_DW:
        raise AsmError("legacy packet loads are 1, 2 or 4 bytes wide")
    return Instruction(c.BPF_LD | c.BPF_ABS | sz, 0, 0, 0, _imm32(imm), symbol)


def ld_ind(size: int | str | Size, src: int, imm: int = 0, *, symbol: str | None = None
           ) -> Instruction:
    """Legacy packet load ``r0 = *(size *)skb[src + imm]``."""
    sz = _size(size)
    if sz == c.BPF_DW:
        raise AsmError("legacy packet loads are 1, 2 or 4 bytes wide")
    return Instruction(c.BPF_LD | c.BPF_IND | sz, 0, _reg(src), 0, _imm32(imm), symbol)


# -- 64-bit immediates ---------------------------------------------------------------

def _lddw(dst: int, src: int, value: int, symbol: str | None,
          reference: str | None = None) -> Instruction:
    return Instruction(c.BPF_LD | c.BPF_IMM | c.BPF_DW, _reg(dst), src, 0, _imm64(value),
                       symbol, reference)


def lddw(dst: int, value: int, *, symbol: str | None = None) -> Instruction:
    """``dst = value ll``: a 64-bit constant (two slots)."""
    return _lddw(dst, c.BPF_PSEUDO_IMM64, value, symbol)


def ld_map_fd(dst: int, map_fd: int | str, *, symbol: str | None = None) -> Instruction:
    """Load a map pointer: by fd, or by map name (``reference``) for a loader to fill in."""
    if isinstance(map_fd, str):
        return _lddw(dst, c.BPF_PSEUDO_MAP_FD, 0, symbol, map_fd)
    return _lddw(dst, c.BPF_PSEUDO_MAP_FD, map_fd, symbol)


def ld_map_value(dst: int, map_fd: int | str, off: int = 0, *, symbol: str | None = None
                 ) -> Instruction:
    """Load the address ``off`` bytes into an array map's value (global data)."""
    if not 0 <= off < 1 << 32:
        raise AsmError(f"map value offset {off!r} does not fit in 32 bits")
    ref = map_fd if isinstance(map_fd, str) else None
    fd = 0 if isinstance(map_fd, str) else map_fd
    return _lddw(dst, c.BPF_PSEUDO_MAP_VALUE, (fd & 0xFFFF_FFFF) | off << 32, symbol, ref)


def ld_btf_id(dst: int, btf_id: int, *, symbol: str | None = None) -> Instruction:
    """Load the address of a kernel variable by BTF id (BPF_PSEUDO_BTF_ID)."""
    return _lddw(dst, c.BPF_PSEUDO_BTF_ID, btf_id, symbol)


def ld_func(dst: int, target: Target, *, symbol: str | None = None) -> Instruction:
    """Load the address of a subprogram (a callback; BPF_PSEUDO_FUNC)."""
    off, ref = _target(target)
    return _lddw(dst, c.BPF_PSEUDO_FUNC, off, symbol, ref)


def ld_map_idx(dst: int, index: int, *, symbol: str | None = None) -> Instruction:
    """Load a map pointer by its index in the fd_array (BPF_PSEUDO_MAP_IDX)."""
    return _lddw(dst, c.BPF_PSEUDO_MAP_IDX, index, symbol)


def ld_map_idx_value(dst: int, index: int, off: int = 0, *, symbol: str | None = None
                     ) -> Instruction:
    """Load a map value address by fd_array index (BPF_PSEUDO_MAP_IDX_VALUE)."""
    if not 0 <= off < 1 << 32:
        raise AsmError(f"map value offset {off!r} does not fit in 32 bits")
    return _lddw(dst, c.BPF_PSEUDO_MAP_IDX_VALUE, (index & 0xFFFF_FFFF) | off << 32, symbol)
