"""Build one program's instruction list: its own function plus every subprogram it reaches.

Like libbpf, each program gets a private copy of every function it calls or takes the
address of (transitively), appended after its own code in the order first reached. Each
function's first instruction carries ``symbol=<function name>``; calls and function-address
lddws carry ``reference=<callee>`` and an imm already right for this layout (slots from the
next instruction to the callee), so the bytes are loadable as they are and ``asm.link()``
recomputes the same numbers after any rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.opcodes import LDDW_OPCODE, CallSrc, PseudoSrc
from .functions import CodeLayout, Function
from .relocations import CALL_OPCODE


@dataclass
class Placement:
    """Where a function landed in a linked program (``start_slot`` in instruction slots)."""

    function: Function
    start_slot: int
    start_index: int  # index in the program's instruction list


@dataclass
class LinkedProgram:
    instructions: list[Instruction]
    placements: list[Placement]


def _is_function_reference(insn: Instruction) -> bool:
    return ((insn.opcode == CALL_OPCODE and insn.src == CallSrc.PSEUDO_CALL)
            or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC))


def callees(func: Function) -> list[str]:
    """Names of the functions ``func`` calls or takes the address of, in code order."""
    return [i.reference for i in func.insns if i.reference and _is_function_reference(i)]


def link_program(entry: Function, layout: CodeLayout) -> LinkedProgram:
    """The instructions of the program starting at ``entry`` with its subprograms appended.

    Every reference was checked when relocations were applied, so this cannot fail on a
    well-formed layout.
    """
    order = [entry]
    seen = {entry.name}
    for func in order:  # grows while iterating: a breadth-first walk of the call graph
        for name in callees(func):
            if name not in seen:
                seen.add(name)
                order.append(layout.functions[name])

    placements: list[Placement] = []
    start_of: dict[str, int] = {}
    slot = index = 0
    for func in order:
        placements.append(Placement(func, slot, index))
        start_of[func.name] = slot
        slot += func.end_slot - func.start_slot
        index += len(func.insns)

    out: list[Instruction] = []
    for place in placements:
        for n, local_slot, insn in Instructions(place.function.insns).enumerate():
            slot = place.start_slot + local_slot
            if insn.reference is not None and _is_function_reference(insn):
                relative = start_of[insn.reference] - slot - 1
                if insn.opcode == LDDW_OPCODE:
                    # the offset lives in the first slot's imm; the second slot stays zero
                    relative &= 0xFFFF_FFFF
                insn = insn.with_(imm=relative)
            if n == 0:
                insn = Instruction(insn.opcode, insn.dst, insn.src, insn.off, insn.imm,
                                   place.function.name, insn.reference, insn.source)
            out.append(insn)
    return LinkedProgram(out, placements)
