"""The classic BPF instruction set: ``struct sock_filter`` and its opcode fields.

A classic BPF (cBPF) program is a list of ``struct sock_filter`` (linux/filter.h,
pcap/bpf.h): ``u16 code; u8 jt; u8 jf; u32 k``. The machine has an accumulator ``A``, an
index register ``X``, sixteen 32-bit scratch words ``M[0..15]``; jumps go forwards only
(``jt``/``jf`` count instructions after the next one; ``ja`` uses ``k``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from ..errors import AsmError


class Class(IntEnum):
    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    RET = 0x06
    MISC = 0x07


class Size(IntEnum):
    W = 0x00
    H = 0x08
    B = 0x10


class Mode(IntEnum):
    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    LEN = 0x80
    MSH = 0xA0


class ALUOp(IntEnum):
    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xA0


class JumpOp(IntEnum):
    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40


class Src(IntEnum):
    K = 0x00
    X = 0x08


class RetSrc(IntEnum):
    """BPF_RVAL: what ``ret`` returns."""
    K = 0x00
    X = 0x08
    A = 0x10


class MiscOp(IntEnum):
    TAX = 0x00
    TXA = 0x80


CLASS_MASK = 0x07
SIZE_MASK = 0x18
MODE_MASK = 0xE0
OP_MASK = 0xF0
SRC_MASK = 0x08
RVAL_MASK = 0x18
MISCOP_MASK = 0xF8

MEMWORDS = 16            # BPF_MEMWORDS: scratch words M[0..15]
MAXINSNS = 4096          # BPF_MAXINSNS: the kernel's limit on a socket filter
SIZE_BYTES = {Size.W: 4, Size.H: 2, Size.B: 1}

# Linux ancillary data: an absolute load at SKF_AD_OFF + n reads skb metadata, not bytes.
SKF_AD_OFF = -0x1000
SKF_AD_PROTOCOL = 0
SKF_AD_PKTTYPE = 4
SKF_AD_IFINDEX = 8
SKF_AD_MARK = 20
SKF_AD_QUEUE = 24
SKF_AD_VLAN_TAG = 44
SKF_AD_VLAN_TAG_PRESENT = 48
SKF_AD_RANDOM = 56

_SOCK_FILTER = struct.Struct("=HBBI")
INSN_BYTES = _SOCK_FILTER.size   # 8


@dataclass(frozen=True, slots=True)
class SockFilter:
    """One ``struct sock_filter``: ``code``, ``jt``, ``jf``, ``k`` (all unsigned)."""

    code: int
    jt: int = 0
    jf: int = 0
    k: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.code <= 0xFFFF and 0 <= self.jt <= 0xFF and 0 <= self.jf <= 0xFF
                and 0 <= self.k <= 0xFFFF_FFFF):
            raise AsmError(f"cBPF fields out of range: code={self.code:#x} jt={self.jt} "
                           f"jf={self.jf} k={self.k:#x} (u16, u8, u8, u32)")

    @property
    def cls(self) -> Class:
        return Class(self.code & CLASS_MASK)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.code, self.jt, self.jf, self.k)

    def encode(self) -> bytes:
        """The 8 bytes of ``struct sock_filter`` in host byte order (as setsockopt wants)."""
        return _SOCK_FILTER.pack(self.code, self.jt, self.jf, self.k)

    @classmethod
    def decode(cls, buf: bytes | bytearray | memoryview, *, source_name: str | None = None
               ) -> list[SockFilter]:
        """Every instruction in ``buf``; a length not a multiple of 8 raises AsmError."""
        view = memoryview(buf)
        if len(view) % INSN_BYTES:
            raise AsmError(f"cBPF program bytes ({len(view)}) are not a multiple of 8",
                           source=source_name, offset=len(view) - len(view) % INSN_BYTES)
        return [cls(*fields) for fields in _SOCK_FILTER.iter_unpack(view)]


_new_object = object.__new__
_SET_CODE, _SET_JT, _SET_JF, _SET_K = (
    SockFilter.__dict__[name].__set__ for name in ("code", "jt", "jf", "k"))


# the instructions the compilers made lately: equal ones are shared (they are frozen), as
# most programs reuse the same few dozen ('ldh [12]', 'ret #0'...)
_MADE: dict[tuple[int, int, int, int], SockFilter] = {}
_MADE_SIZE = 4096


def sock_filter_unchecked(code: int, jt: int, jf: int, k: int) -> SockFilter:
    """``SockFilter(code, jt, jf, k)`` for fields known to be in range (a compiler's own
    output), without the range checks and the frozen ``__init__``; an instruction made
    lately is given again: a dict look-up costs a fifth of a new frozen object, and a
    compile makes one per instruction."""
    key = (code, jt, jf, k)
    insn = _MADE.get(key)
    if insn is None:
        insn = _new_object(SockFilter)
        _SET_CODE(insn, code)
        _SET_JT(insn, jt)
        _SET_JF(insn, jf)
        _SET_K(insn, k)
        if len(_MADE) >= _MADE_SIZE:
            _MADE.clear()
        _MADE[key] = insn
    return insn


def sock_filters_unchecked(rows: list[tuple[int, int, int, int]]) -> list[SockFilter]:
    """:func:`sock_filter_unchecked` of each ``(code, jt, jf, k)`` row: one call for a
    whole program, whose rows are mostly instructions made lately (a look-up each)."""
    get = _MADE.get
    out = []
    for row in rows:
        insn = get(row)
        if insn is None:
            insn = sock_filter_unchecked(*row)
        out.append(insn)
    return out


def encode_program(program: list[SockFilter]) -> bytes:
    """The bytes of a whole program (host byte order, as ``struct sock_fprog`` points to)."""
    return b"".join(insn.encode() for insn in program)


def stmt(code: int, k: int = 0) -> SockFilter:
    """BPF_STMT(code, k)."""
    return SockFilter(code, 0, 0, k & 0xFFFF_FFFF)


def jump(code: int, k: int, jt: int, jf: int) -> SockFilter:
    """BPF_JUMP(code, k, jt, jf)."""
    return SockFilter(code, jt, jf, k & 0xFFFF_FFFF)
