"""``pybpf trace -d``: the generated eBPF of each program, each statement's code under
its script line."""

from __future__ import annotations

from ..asm import format_instruction
from .compiler import Compiled

__all__ = ["debug_listing"]


def debug_listing(compiled: Compiled) -> str:
    script = compiled.text.split("\n")
    out = []
    for name, prog in compiled.spec.programs.items():
        unit = next(u for u in compiled.units if u.name == name)
        where = ", ".join(p.name for p in unit.points[:3]) + (
            ", ..." if len(unit.points) > 3 else "")
        out.append(f"; program {name} ({where}): {len(prog.instructions)} instructions")
        starts = dict(compiled.lines.get(name, []))
        slot = 0
        for i, insn in enumerate(prog.instructions):
            if i in starts:
                line = starts[i]
                text = script[line - 1].strip() if 0 < line <= len(script) else ""
                out.append(f"; {line}: {text}")
            text = format_instruction(insn)
            if insn.is_wide and insn.reference:  # a map the loader fills in
                text += f"  ; map {insn.reference}"
            out.append(f"{slot:6}: {text}")
            slot += insn.slots
        out.append("")
    return "\n".join(out) + "\n"
