"""Writing a CO-RE relocation's value into its instruction.

Where the value goes depends on the instruction class: the immediate of an ALU/ALU64 with a
constant operand, the offset of an LDX/ST/STX (whose access size may also change), or the
64-bit immediate of an ``lddw``. Before writing, the instruction must still hold the
value the compiler computed locally (unless that check is off for this relocation), which
catches relocations pointing at the wrong instruction.

A poisoned relocation replaces the instruction by a call to the non-existent helper
``0xbad2310`` ("bad relo"): dead code is pruned by the verifier, live code fails to load
with a message naming that instruction. Both slots of an ``lddw`` are replaced.
"""

from __future__ import annotations

from ..asm.instruction import Instruction
from ..asm.opcodes import CLASS_MASK, MODE_MASK, SOURCE_MASK, Class, JumpOp, Size, Source
from ..dataclass_compat import Value
from ..errors import CORERelocationError

POISON_HELPER = 0xBAD2310
POISON_CALL = Instruction(Class.JMP | JumpOp.CALL, imm=POISON_HELPER)
S16_MAX = 0x7FFF
U64 = (1 << 64) - 1


class Patch(Value):
    """What patching did, in words a log line can show (``off 20 -> 1264``)."""

    insns: list[Instruction]  # the replacement for the one instruction patched
    description: str

    __match_args__ = ("insns", "description")

    def __init__(self, insns: list[Instruction], description: str) -> None:
        self.insns = insns
        self.description = description


def poison(insn: Instruction) -> Patch:
    """The instruction(s) replacing ``insn`` when its relocation cannot be satisfied."""
    first = POISON_CALL.with_(symbol=insn.symbol, source=insn.source)
    if insn.is_wide:
        return Patch([first, POISON_CALL], "poisoned (lddw, both slots)")
    return Patch([first], "poisoned")


def patch(insn: Instruction, *, orig_value: int, new_value: int, validate: bool,
          orig_size: int = 0, new_size: int = 0, resize_forbidden: bool = False) -> Patch:
    """``insn`` with ``new_value`` written where its class keeps relocated values.

    ``orig_size``/``new_size`` are the local and target field sizes for a byte-offset
    relocation; a load/store of a field whose size changed gets the new access size (only
    if it accessed exactly the local size). ``resize_forbidden`` (the sizes differ and the
    field is neither a pointer nor unsigned) poisons a load/store instead.
    Raises CORERelocationError for a mismatching old value, an offset beyond 16 bits or an
    instruction that cannot carry a relocation.
    """
    cls = insn.opcode & CLASS_MASK
    if cls in (Class.ALU, Class.ALU64):
        if insn.opcode & SOURCE_MASK != Source.K:
            raise CORERelocationError("ALU instruction with a register operand cannot be "
                                      "relocated")
        if validate and insn.imm & U64 != orig_value & U64:
            raise CORERelocationError(f"instruction holds immediate {insn.imm}, expected "
                                      f"{orig_value} (the local value)")
        new_imm = _s32(new_value & 0xFFFF_FFFF)
        return Patch([insn.with_(imm=new_imm)],
                      f"imm {insn.imm & U64} -> {new_value & U64}")
    if cls in (Class.LDX, Class.ST, Class.STX):
        if validate and insn.off & U64 != orig_value & U64:
            raise CORERelocationError(f"instruction holds offset {insn.off}, expected "
                                      f"{orig_value} (the local value)")
        if new_value > S16_MAX:
            raise CORERelocationError(f"new offset {new_value} does not fit the 16-bit "
                                      f"offset of a load/store")
        if resize_forbidden:
            return poison(insn)
        patched = insn.with_(off=new_value)
        description = f"off {insn.off & U64} -> {new_value}"
        if new_size != orig_size:
            access = Size(insn.opcode & 0x18).nbytes
            if access != orig_size:
                raise CORERelocationError(f"load/store of {access} bytes, but the field "
                                          f"has {orig_size}")
            try:
                new_code = Size.from_nbytes(new_size)
            except KeyError:
                raise CORERelocationError(f"target field size {new_size} cannot be "
                                          f"loaded or stored in one instruction") from None
            patched = patched.with_(opcode=(insn.opcode & (MODE_MASK | CLASS_MASK)) | new_code)
            description += f", mem_sz {orig_size} -> {new_size}"
        return Patch([patched], description)
    if insn.is_wide:
        if insn.src != 0 or insn.off != 0:
            raise CORERelocationError("lddw with a pseudo source or an offset cannot carry "
                                      "a CO-RE value")
        old = insn.imm & U64
        if validate and old != orig_value & U64:
            raise CORERelocationError(f"lddw holds {old}, expected {orig_value} "
                                      f"(the local value)")
        value = new_value & U64
        signed = value - (1 << 64) if value >= 1 << 63 else value
        return Patch([insn.with_(imm=signed)], f"imm64 {old} -> {value}")
    raise CORERelocationError(f"instruction class {Class(cls).name} (opcode "
                              f"{insn.opcode:#04x}) cannot carry a CO-RE relocation")


def _s32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value
