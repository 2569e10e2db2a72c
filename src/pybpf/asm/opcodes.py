"""Opcode fields of the eBPF instruction set (RFC 9669, uapi linux/bpf.h and bpf_common.h).

An opcode byte is split differently by instruction class:

* arithmetic and jumps:  ``code (4 bits) | source (1 bit) | class (3 bits)``
* loads and stores:      ``mode (3 bits) | size (2 bits)  | class (3 bits)``
"""

from __future__ import annotations

from enum import IntEnum


class Class(IntEnum):
    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    JMP32 = 0x06
    ALU64 = 0x07

    @property
    def is_alu(self) -> bool:
        return self in (Class.ALU, Class.ALU64)

    @property
    def is_jump(self) -> bool:
        return self in (Class.JMP, Class.JMP32)

    @property
    def is_load_store(self) -> bool:
        return self <= Class.STX


class Source(IntEnum):
    K = 0x00  # use the 32-bit immediate
    X = 0x08  # use the source register


class ALUOp(IntEnum):
    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30  # off=1: SDIV
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90  # off=1: SMOD
    XOR = 0xA0
    MOV = 0xB0  # off=8/16/32: MOVSX
    ARSH = 0xC0
    END = 0xD0  # byte swap; source bit picks TO_LE (0) / TO_BE (1), ALU64 means BSWAP


class JumpOp(IntEnum):
    JA = 0x00  # in JMP32 it is "gotol": the offset lives in imm
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    JNE = 0x50
    JSGT = 0x60
    JSGE = 0x70
    CALL = 0x80
    EXIT = 0x90
    JLT = 0xA0
    JLE = 0xB0
    JSLT = 0xC0
    JSLE = 0xD0
    JCOND = 0xE0  # src=0: may_goto (a loop-bounding branch the verifier may take)


class Size(IntEnum):
    W = 0x00   # 4 bytes
    H = 0x08   # 2 bytes
    B = 0x10   # 1 byte
    DW = 0x18  # 8 bytes

    @property
    def nbytes(self) -> int:
        return {Size.W: 4, Size.H: 2, Size.B: 1, Size.DW: 8}[self]

    @classmethod
    def from_nbytes(cls, nbytes: int) -> Size:
        return {4: cls.W, 2: cls.H, 1: cls.B, 8: cls.DW}[nbytes]


class Mode(IntEnum):
    IMM = 0x00     # only with LD|DW: the 16-byte lddw
    ABS = 0x20     # legacy packet access
    IND = 0x40     # legacy packet access
    MEM = 0x60
    MEMSX = 0x80   # sign-extending load (LDX only)
    ATOMIC = 0xC0  # STX only; the operation is in imm


class AtomicOp(IntEnum):
    ADD = 0x00
    OR = 0x40
    AND = 0x50
    XOR = 0xA0
    FETCH = 0x01       # flag: also return the old value in src
    XCHG = 0xE0 | 0x01
    CMPXCHG = 0xF0 | 0x01
    LOAD_ACQ = 0x100   # dst = load_acquire(src + off)           (Linux 6.15)
    STORE_REL = 0x110  # store_release(dst + off, src)           (Linux 6.15)


class PseudoSrc(IntEnum):
    """``src`` values of an lddw (LD|IMM|DW) saying what its 64-bit immediate means."""

    IMM64 = 0
    MAP_FD = 1
    MAP_VALUE = 2
    BTF_ID = 3
    FUNC = 4
    MAP_IDX = 5
    MAP_IDX_VALUE = 6


class CallSrc(IntEnum):
    """``src`` values of a call instruction."""

    HELPER = 0
    PSEUDO_CALL = 1  # bpf-to-bpf: imm is the relative instruction offset
    KFUNC = 2        # imm is a kernel BTF id


CLASS_MASK = 0x07
SOURCE_MASK = 0x08
OP_MASK = 0xF0
SIZE_MASK = 0x18
MODE_MASK = 0xE0

LDDW_OPCODE = Class.LD | Size.DW | Mode.IMM  # 0x18

# ALU offsets that select a variant of an operation (RFC 9669 section 4.1)
SIGNED_OFF = 1                 # DIV/MOD with off=1: signed division and modulo
MOVSX_OFFSETS = (8, 16, 32)    # MOV|X with off=8/16/32: sign-extending move
ADDR_SPACE_CAST_OFF = 1        # ALU64 MOV|X with off=1: arena addr_space_cast
