"""Disassemble a whole program into a listing in llvm-objdump's syntax.

::

    handle_execve:
           0:	call 14
           1:	r6 = r0
           6:	if w2 == 0 goto +3 <LBB0_2>
    LBB0_2:
          10:	r1 = 0 ll

Labels come from the instructions' ``symbol`` fields and from a ``symbols`` mapping (slot
index -> name). A branch whose target has a label is followed by ``<label>`` (or
``<label+0x10>``, a byte distance from the closest label before it) as llvm-objdump does.

llvm-objdump writes bpf-to-bpf calls and kfunc calls as plain ``call N``; to keep the
listing re-assemblable they get a comment naming their uapi source value
(``call -1 # BPF_PSEUDO_CALL``) unless ``annotate=False``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from .formatter import format_instruction
from .instruction import Instruction
from .instructions import Instructions
from .opcodes import CallSrc

CALL_ANNOTATIONS = {CallSrc.PSEUDO_CALL: "BPF_PSEUDO_CALL", CallSrc.KFUNC: "BPF_PSEUDO_KFUNC_CALL"}


def _as_instructions(program: Iterable[Instruction] | bytes | bytearray | memoryview,
                     source: str | None) -> list[Instruction]:
    if isinstance(program, (bytes, bytearray, memoryview)):
        return Instruction.decode(program, source_name=source)
    return list(program)


class TargetNamer:
    """Names branch targets ``<label>`` / ``<label+0x8>`` from labels at slot indices."""

    def __init__(self, labels: Mapping[int, str]):
        self._labels = dict(labels)
        self._slots = sorted(self._labels)

    def __call__(self, slot: int) -> str | None:
        name = self._labels.get(slot)
        if name is not None:
            return name
        at = bisect.bisect_right(self._slots, slot) - 1
        if at < 0:
            return None
        base = self._slots[at]
        return f"{self._labels[base]}+{(slot - base) * 8:#x}"


def disassemble(program: Iterable[Instruction] | bytes | bytearray | memoryview, *,
                imm_hex: bool = False, alu32: bool = False,
                symbols: Mapping[int, str] | None = None, show_index: bool = True,
                annotate: bool = True, source: str | None = None) -> str:
    """The listing of a program (instructions, or raw bytes to decode), one line each.

    ``imm_hex`` and ``alu32`` are llvm-objdump's ``--print-imm-hex`` and
    ``--mattr=+alu32``; ``symbols`` adds labels by slot index; ``show_index`` prefixes
    each instruction with its slot index; ``source`` names the program in errors.

    Raises :class:`~pybpf.errors.AsmError` naming the byte offset and opcode of an
    unknown instruction.
    """
    insns = _as_instructions(program, source)
    labels: dict[int, str] = {}
    starts = []
    for slot, insn in Instructions(insns).iterate():
        starts.append(slot)
        if insn.symbol is not None:
            labels.setdefault(slot, insn.symbol)
    if symbols:
        for at, name in symbols.items():
            labels.setdefault(at, name)
    namer = TargetNamer(labels)
    lines: list[str] = []
    for insn, at in zip(insns, starts):
        label = labels.get(at)
        if label is not None:
            lines.append(f"{label}:")
        lines.append(format_line(insn, at, imm_hex=imm_hex, alu32=alu32, namer=namer,
                                 show_index=show_index, annotate=annotate, source=source))
    return "\n".join(lines) + ("\n" if lines else "")


def format_line(insn: Instruction, slot: int, *, imm_hex: bool = False, alu32: bool = False,
                namer: TargetNamer | None = None, show_index: bool = True,
                annotate: bool = True, source: str | None = None) -> str:
    """One listing line: index, text, ``<target>`` of a branch, call annotation."""
    text = format_instruction(insn, imm_hex=imm_hex, alu32=alu32, source=source,
                              offset=slot * 8)
    if namer is not None and insn.is_jump:
        target = namer(insn.jump_target(slot))
        if target is not None:
            text += f" <{target}>"
    if annotate and insn.is_call and insn.src in CALL_ANNOTATIONS:
        text += f" # {CALL_ANNOTATIONS[CallSrc(insn.src)]}"
    return f"{slot:>8}:\t{text}" if show_index else f"\t{text}"


def check_program(insns: Iterable[Instruction], *, source: str | None = None) -> None:
    """Raise :class:`~pybpf.errors.AsmError` at the first instruction that is not valid."""
    for slot, insn in Instructions(insns).iterate():
        format_instruction(insn, source=source, offset=slot * 8)
