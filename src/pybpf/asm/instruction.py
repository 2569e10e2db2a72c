"""One eBPF instruction as a small immutable value, with exact encode/decode."""

from __future__ import annotations

import struct

from ..dataclass_compat import FrozenValue, replace
from ..errors import AsmError
from ._codes import (
    BPF_CALL,
    BPF_EXIT,
    BPF_HELPER_CALL,
    BPF_JA,
    BPF_JMP,
    BPF_JMP32,
    BPF_PSEUDO_CALL,
    BPF_PSEUDO_KFUNC_CALL,
    CLASS_MASK,
    LDDW_OPCODE,
    OP_MASK,
    SOURCE_MASK,
)

# not typing's constant, nor opcodes' enums (enum): `pybpf trace` compiles a script
# without importing either
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .opcodes import Class

_SLOT = struct.Struct("<BBhi")  # opcode, dst|src<<4, off, imm
SLOT_BYTES = 8


class Instruction(FrozenValue):
    """An eBPF instruction (RFC 9669 section 3).

    ``imm`` is the signed 32-bit immediate, or for the wide ``lddw`` the whole signed 64-bit
    constant (low half in the first slot, high half in the second).

    Metadata that is not encoded but travels with the instruction:

    * ``symbol``: a label defined at this instruction (function or jump target name);
    * ``reference``: what this instruction points at until it is linked: a jump/call target
      label, or the name of a map / data section for an lddw;
    * ``source``: where the instruction came from (a source line), for messages.
    """

    opcode: int
    dst: int
    src: int
    off: int
    imm: int
    symbol: str | None
    reference: str | None
    source: Any

    __slots__ = ("opcode", "dst", "src", "off", "imm", "symbol", "reference", "source")
    __match_args__ = ("opcode", "dst", "src", "off", "imm", "symbol", "reference", "source")

    def __init__(self, opcode: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0,
                       symbol: str | None = None, reference: str | None = None,
                       source: Any = None) -> None:
        object.__setattr__(self, "opcode", opcode)
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "off", off)
        object.__setattr__(self, "imm", imm)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "reference", reference)
        object.__setattr__(self, "source", source)

    @property
    def cls(self) -> Class:
        from .opcodes import Class

        return Class(self.opcode & CLASS_MASK)

    @property
    def is_wide(self) -> bool:
        """True for the 16-byte lddw, which takes two instruction slots."""
        return self.opcode == LDDW_OPCODE

    @property
    def slots(self) -> int:
        return 2 if self.is_wide else 1

    @property
    def is_call(self) -> bool:
        """Any call: helper, bpf-to-bpf (``src=1``) or kfunc (``src=2``)."""
        return self.opcode == BPF_JMP | BPF_CALL

    @property
    def is_helper_call(self) -> bool:
        return self.opcode == BPF_JMP | BPF_CALL and self.src == BPF_HELPER_CALL

    @property
    def is_pseudo_call(self) -> bool:
        """A bpf-to-bpf call: ``imm`` is the callee's offset from the next instruction."""
        return self.opcode == BPF_JMP | BPF_CALL and self.src == BPF_PSEUDO_CALL

    @property
    def is_kfunc_call(self) -> bool:
        return self.opcode == BPF_JMP | BPF_CALL and self.src == BPF_PSEUDO_KFUNC_CALL

    @property
    def is_exit(self) -> bool:
        return self.opcode == BPF_JMP | BPF_EXIT

    @property
    def is_jump(self) -> bool:
        """A pc-relative branch (goto, gotol, may_goto, conditional jumps); not call/exit."""
        cls = self.opcode & CLASS_MASK
        if cls != BPF_JMP and cls != BPF_JMP32:
            return False
        op = self.opcode & OP_MASK
        return op != BPF_CALL and op != BPF_EXIT

    @property
    def is_long_jump(self) -> bool:
        """``gotol`` (JMP32|JA): its offset lives in ``imm``, not ``off``."""
        return self.opcode == BPF_JMP32 | BPF_JA

    @property
    def is_conditional_jump(self) -> bool:
        return self.is_jump and self.opcode & OP_MASK != BPF_JA

    @property
    def jump_offset(self) -> int:
        """The branch offset in instructions (``imm`` for gotol, else ``off``).

        For a bpf-to-bpf call this is ``imm`` as well: both count 8-byte slots from the
        next instruction.
        """
        return self.imm if self.is_long_jump or self.is_call else self.off

    def jump_target(self, slot: int) -> int:
        """The slot index a branch or bpf-to-bpf call at ``slot`` goes to."""
        return slot + 1 + self.jump_offset

    def with_jump_offset(self, offset: int) -> Instruction:
        """A copy branching ``offset`` slots past the next instruction."""
        if self.is_long_jump or self.is_call:
            return replace(self, imm=offset)
        return replace(self, off=offset)

    @property
    def uses_src_register(self) -> bool:
        """ALU/JMP instructions whose second operand is ``src`` (the BPF_X bit)."""
        return bool(self.opcode & SOURCE_MASK)

    def encode(self) -> bytes:
        """The 8 (or 16, for lddw) little-endian bytes of this instruction."""
        try:
            if self.is_wide:
                value = self.imm & 0xFFFF_FFFF_FFFF_FFFF
                lo = _s32(value & 0xFFFF_FFFF)
                hi = _s32(value >> 32)
                return (_SLOT.pack(self.opcode, self.dst | self.src << 4, self.off, lo)
                        + _SLOT.pack(0, 0, 0, hi))
            return _SLOT.pack(self.opcode, (self.dst & 0xF) | (self.src & 0xF) << 4,
                              self.off, self.imm)
        except struct.error as err:
            raise AsmError(f"cannot encode {self!r}: {err}") from None

    @classmethod
    def decode(cls, buf: bytes | bytearray | memoryview, *, source_name: str | None = None
               ) -> list[Instruction]:
        """Decode every instruction in ``buf`` (a multiple of 8 bytes).

        Raises :class:`AsmError` naming the byte offset of a truncated buffer or a broken
        lddw second slot. Opcodes are not judged here: an unknown opcode decodes and is
        reported by the disassembler or a verifier, so bytes round-trip exactly.
        """
        view = memoryview(buf)
        if len(view) % SLOT_BYTES:
            raise AsmError(f"instruction bytes ({len(view)}) are not a multiple of 8",
                           source=source_name, offset=len(view) - len(view) % SLOT_BYTES)
        out: list[Instruction] = []
        pos = 0
        end = len(view)
        unpack = _SLOT.unpack_from
        while pos < end:
            opcode, regs, off, imm = unpack(view, pos)
            if opcode == LDDW_OPCODE:
                if pos + 16 > end:
                    raise AsmError("lddw is missing its second 8-byte slot",
                                   source=source_name, offset=pos)
                op2, regs2, off2, imm2 = unpack(view, pos + 8)
                if op2 or regs2 or off2:
                    raise AsmError("lddw second slot must have zero opcode, registers and "
                                   "offset", source=source_name, offset=pos + 8)
                value = (imm & 0xFFFF_FFFF) | (imm2 & 0xFFFF_FFFF) << 32
                if value >= 1 << 63:
                    value -= 1 << 64
                out.append(cls(opcode, regs & 0xF, regs >> 4, off, value))
                pos += 16
            else:
                out.append(cls(opcode, regs & 0xF, regs >> 4, off, imm))
                pos += 8
        return out

    def with_(self, **changes: Any) -> Instruction:
        """A copy with some fields changed (instructions are immutable)."""
        return replace(self, **changes)


def _s32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def encode_all(insns: list[Instruction]) -> bytes:
    """The bytes of a whole program."""
    return b"".join(i.encode() for i in insns)
