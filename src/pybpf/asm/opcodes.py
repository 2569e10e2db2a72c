"""Opcode fields of the eBPF instruction set (RFC 9669, uapi linux/bpf.h and bpf_common.h).

The values are :mod:`._codes`' (plain ints under the uapi names, which the builder uses).
An opcode byte is split differently by instruction class:

* arithmetic and jumps:  ``code (4 bits) | source (1 bit) | class (3 bits)``
* loads and stores:      ``mode (3 bits) | size (2 bits)  | class (3 bits)``
"""

from __future__ import annotations

from enum import IntEnum

from . import _codes as c
from ._codes import CLASS_MASK, LDDW_OPCODE, MODE_MASK, OP_MASK, SIZE_MASK, SOURCE_MASK

__all__ = ["Class", "Source", "ALUOp", "JumpOp", "Size", "Mode", "AtomicOp", "PseudoSrc",
           "CallSrc", "CLASS_MASK", "SOURCE_MASK", "OP_MASK", "SIZE_MASK", "MODE_MASK",
           "LDDW_OPCODE", "SIGNED_OFF", "MOVSX_OFFSETS", "ADDR_SPACE_CAST_OFF"]


class Class(IntEnum):
    LD = c.BPF_LD
    LDX = c.BPF_LDX
    ST = c.BPF_ST
    STX = c.BPF_STX
    ALU = c.BPF_ALU
    JMP = c.BPF_JMP
    JMP32 = c.BPF_JMP32
    ALU64 = c.BPF_ALU64

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
    K = c.BPF_K  # use the 32-bit immediate
    X = c.BPF_X  # use the source register


class ALUOp(IntEnum):
    ADD = c.BPF_ADD
    SUB = c.BPF_SUB
    MUL = c.BPF_MUL
    DIV = c.BPF_DIV  # off=1: SDIV
    OR = c.BPF_OR
    AND = c.BPF_AND
    LSH = c.BPF_LSH
    RSH = c.BPF_RSH
    NEG = c.BPF_NEG
    MOD = c.BPF_MOD  # off=1: SMOD
    XOR = c.BPF_XOR
    MOV = c.BPF_MOV  # off=8/16/32: MOVSX
    ARSH = c.BPF_ARSH
    END = c.BPF_END  # byte swap; source bit picks TO_LE (0) / TO_BE (1), ALU64 means BSWAP


class JumpOp(IntEnum):
    JA = c.BPF_JA  # in JMP32 it is "gotol": the offset lives in imm
    JEQ = c.BPF_JEQ
    JGT = c.BPF_JGT
    JGE = c.BPF_JGE
    JSET = c.BPF_JSET
    JNE = c.BPF_JNE
    JSGT = c.BPF_JSGT
    JSGE = c.BPF_JSGE
    CALL = c.BPF_CALL
    EXIT = c.BPF_EXIT
    JLT = c.BPF_JLT
    JLE = c.BPF_JLE
    JSLT = c.BPF_JSLT
    JSLE = c.BPF_JSLE
    JCOND = c.BPF_JCOND  # src=0: may_goto (a loop-bounding branch the verifier may take)


class Size(IntEnum):
    W = c.BPF_W  # 4 bytes
    H = c.BPF_H  # 2 bytes
    B = c.BPF_B  # 1 byte
    DW = c.BPF_DW  # 8 bytes

    @property
    def nbytes(self) -> int:
        return {Size.W: 4, Size.H: 2, Size.B: 1, Size.DW: 8}[self]

    @classmethod
    def from_nbytes(cls, nbytes: int) -> Size:
        return {4: cls.W, 2: cls.H, 1: cls.B, 8: cls.DW}[nbytes]


class Mode(IntEnum):
    IMM = c.BPF_IMM  # only with LD|DW: the 16-byte lddw
    ABS = c.BPF_ABS  # legacy packet access
    IND = c.BPF_IND  # legacy packet access
    MEM = c.BPF_MEM
    MEMSX = c.BPF_MEMSX  # sign-extending load (LDX only)
    ATOMIC = c.BPF_ATOMIC  # STX only; the operation is in imm


class AtomicOp(IntEnum):
    ADD = c.BPF_ADD
    OR = c.BPF_OR
    AND = c.BPF_AND
    XOR = c.BPF_XOR
    FETCH = c.BPF_FETCH  # flag: also return the old value in src
    XCHG = c.BPF_XCHG
    CMPXCHG = c.BPF_CMPXCHG
    LOAD_ACQ = c.BPF_LOAD_ACQ  # dst = load_acquire(src + off)           (Linux 6.15)
    STORE_REL = c.BPF_STORE_REL  # store_release(dst + off, src)           (Linux 6.15)


class PseudoSrc(IntEnum):
    """``src`` values of an lddw (LD|IMM|DW) saying what its 64-bit immediate means."""

    IMM64 = c.BPF_PSEUDO_IMM64
    MAP_FD = c.BPF_PSEUDO_MAP_FD
    MAP_VALUE = c.BPF_PSEUDO_MAP_VALUE
    BTF_ID = c.BPF_PSEUDO_BTF_ID
    FUNC = c.BPF_PSEUDO_FUNC
    MAP_IDX = c.BPF_PSEUDO_MAP_IDX
    MAP_IDX_VALUE = c.BPF_PSEUDO_MAP_IDX_VALUE


class CallSrc(IntEnum):
    """``src`` values of a call instruction."""

    HELPER = c.BPF_HELPER_CALL
    PSEUDO_CALL = c.BPF_PSEUDO_CALL  # bpf-to-bpf: imm is the relative instruction offset
    KFUNC = c.BPF_PSEUDO_KFUNC_CALL  # imm is a kernel BTF id


# ALU offsets that select a variant of an operation (RFC 9669 section 4.1)
SIGNED_OFF = 1                 # DIV/MOD with off=1: signed division and modulo
MOVSX_OFFSETS = (8, 16, 32)    # MOV|X with off=8/16/32: sign-extending move
ADDR_SPACE_CAST_OFF = 1        # ALU64 MOV|X with off=1: arena addr_space_cast
