"""Every instruction's encoding, checked before any path is walked, as the kernel does:
an opcode it does not know, or a field an opcode leaves reserved but set, is refused
wherever the instruction is, even on a path no run can take."""

from __future__ import annotations

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.opcodes import (
    CLASS_MASK,
    LDDW_OPCODE,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    ALUOp,
    AtomicOp,
    Class,
    JumpOp,
    Mode,
    PseudoSrc,
    Size,
)
from .reject import Reject

_SRC_X = 0x08
_ALU_OPS = {int(o) for o in ALUOp}
_COND_JUMPS = {int(o) for o in JumpOp} - {JumpOp.JA, JumpOp.CALL, JumpOp.EXIT,
                                           JumpOp.JCOND}
_ATOMICS = {AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR} | {
    o | AtomicOp.FETCH for o in (AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR)} | {
    AtomicOp.XCHG, AtomicOp.CMPXCHG, AtomicOp.LOAD_ACQ, AtomicOp.STORE_REL}
_PSEUDO_LDDW = {int(p) for p in PseudoSrc}
_LAST_REGISTER = 10
# the opcode fields as plain ints (an IntEnum member read off its class is several times
# slower than a global): every distinct instruction of a corpus is checked once
_ABS, _ALU, _ALU64, _ATOMIC = int(Mode.ABS), int(Class.ALU), int(Class.ALU64), int(Mode.ATOMIC)
_CALL, _DIV, _DW, _END = int(JumpOp.CALL), int(ALUOp.DIV), int(Size.DW), int(ALUOp.END)
_EXIT, _IND, _JA, _JCOND = int(JumpOp.EXIT), int(Mode.IND), int(JumpOp.JA), int(JumpOp.JCOND)
_JMP, _JMP32, _LD, _LDX = int(Class.JMP), int(Class.JMP32), int(Class.LD), int(Class.LDX)
_MAP_FD, _MAP_IDX = int(PseudoSrc.MAP_FD), int(PseudoSrc.MAP_IDX)
_MEM, _MEMSX = int(Mode.MEM), int(Mode.MEMSX)
_MOD, _MOV, _NEG, _ST = int(ALUOp.MOD), int(ALUOp.MOV), int(ALUOp.NEG), int(Class.ST)


class EncodingReject(Reject):
    def __init__(self, slot: int, problem: str):
        super().__init__(problem, hint="the instruction is malformed: re-assemble it (pybpf.asm "
                                       "builds only valid encodings)")
        self.slot = slot


def check_encodings(insns: list[Instruction]) -> None:
    # the verdict depends on the five fields only, and programs repeat instructions (large
    # ones within themselves, the programs of an object and of a corpus among each other)
    seen = _SEEN
    if len(seen) > _SEEN_MAX:
        seen.clear()
    for index, insn in enumerate(insns):
        key = (insn.opcode, insn.dst, insn.src, insn.off, insn.imm)
        problem = seen.get(key)
        if problem is None:
            problem = seen[key] = _problem(insn)
        if problem:
            raise EncodingReject(Instructions(insns[:index]).slot_count, problem)


_SEEN: dict[tuple[int, int, int, int, int], str] = {}
_SEEN_MAX = 1 << 16


def _problem(insn: Instruction) -> str:
    code = insn.opcode
    cls = code & CLASS_MASK
    # registers are 4-bit fields but only R0-R10 exist (the kernel: "R%d is invalid"); a
    # call's and an lddw's src field is a pseudo kind, checked below
    pseudo_src = code == LDDW_OPCODE or (cls == _JMP and code & OP_MASK == _CALL)
    for reg in (insn.dst,) if pseudo_src else (insn.dst, insn.src):
        if reg > _LAST_REGISTER:
            return f"R{reg} is invalid"
    if cls in (_ALU, _ALU64):
        return _alu(insn, cls == _ALU64)
    if cls in (_JMP, _JMP32):
        return _jump(insn, cls == _JMP32)
    if cls == _LD:
        return _ld(insn)
    mode = code & MODE_MASK
    if cls == _LDX:
        if mode not in (_MEM, _MEMSX) or insn.imm != 0:
            return "BPF_LDX uses reserved fields"
        if mode == _MEMSX and code & SIZE_MASK == _DW:
            return f"unknown opcode {code:02x}"
        return ""
    if cls == _ST:
        if mode != _MEM or insn.src != 0:
            return "BPF_ST uses reserved fields"
        return ""
    # STX
    if mode == _ATOMIC:
        if insn.imm not in _ATOMICS:
            return f"BPF_ATOMIC uses invalid atomic opcode {insn.imm:02x}"
        return ""
    if mode != _MEM or insn.imm != 0:
        return "BPF_STX uses reserved fields"
    return ""


def _alu(insn: Instruction, alu64: bool) -> str:
    op = insn.opcode & OP_MASK
    x = bool(insn.opcode & _SRC_X)
    if op not in _ALU_OPS:
        return f"unknown opcode {insn.opcode:02x}"
    if op == _NEG:
        if x or insn.src or insn.off or insn.imm:
            return "BPF_NEG uses reserved fields"
    elif op == _END:
        if alu64 and x:
            return f"unknown opcode {insn.opcode:02x}"
        if insn.src or insn.off or insn.imm not in (16, 32, 64):
            return "BPF_END uses reserved fields"
    elif op == _MOV:
        if x:
            offs = (0, 8, 16, 32) if alu64 else (0, 8, 16)
            if alu64 and insn.off == 1:   # addr_space_cast (arena): not modelled
                return ""
            if insn.off not in offs or insn.imm:
                return "BPF_MOV uses reserved fields"
        elif insn.src or insn.off:
            return "BPF_MOV uses reserved fields"
    else:
        signed_ok = insn.off == 0 or (insn.off == 1 and op in (_DIV, _MOD))
        if (x and insn.imm) or (not x and insn.src) or not signed_ok:
            return "BPF_ALU uses reserved fields"
    return ""


def _jump(insn: Instruction, jmp32: bool) -> str:
    op = insn.opcode & OP_MASK
    x = bool(insn.opcode & _SRC_X)
    if op == _CALL:
        if jmp32 or x or insn.dst or insn.src not in (0, 1, 2) or (insn.src != 2 and insn.off):
            return "BPF_CALL uses reserved fields"
        return ""
    if op == _EXIT:
        if jmp32 or x or insn.imm or insn.src or insn.dst:
            return "BPF_EXIT uses reserved fields"
        return ""
    if op == _JA:
        if x or insn.src or insn.dst or (not jmp32 and insn.imm) or (jmp32 and insn.off):
            return "BPF_JA uses reserved fields"
        return ""
    if op == _JCOND:
        if jmp32 or x or insn.src != 0 or insn.dst or insn.imm:
            return f"unknown opcode {insn.opcode:02x}"
        return ""
    if op not in _COND_JUMPS:
        return f"unknown opcode {insn.opcode:02x}"
    if (x and insn.imm) or (not x and insn.src):
        return "BPF_JMP/JMP32 uses reserved fields"
    return ""


def _ld(insn: Instruction) -> str:
    code = insn.opcode
    mode = code & MODE_MASK
    if code == LDDW_OPCODE:
        if insn.off:
            return "BPF_LD_IMM64 uses reserved fields"
        if insn.src not in _PSEUDO_LDDW:
            return "unrecognized bpf_ld_imm64 insn"
        if insn.src in (_MAP_FD, _MAP_IDX) and insn.imm >> 32 & 0xFFFFFFFF:
            return "unrecognized bpf_ld_imm64 insn"
        return ""
    if mode in (_ABS, _IND):
        size = code & SIZE_MASK
        if size == _DW or insn.dst != 0 or insn.off or (mode == _ABS and insn.src):
            return "BPF_LD_[ABS|IND] uses reserved fields"
        return ""
    return f"unknown opcode {code:02x}"
