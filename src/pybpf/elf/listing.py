"""A BPF object's program sections as ``llvm-objdump -d`` lists them.

The raw section bytes and symbols come from :mod:`.reader` (no CollectionSpec is built):
a ``Disassembly of section X:`` header per executable section, ``<symbol>:`` lines,
instruction index, bytes and text, and ``<LBB0_2>`` after branches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.listing import TargetNamer, format_line
from ..errors import ELFError
from .reader import SHF_EXECINSTR, SHT_NOBITS, STT_SECTION, read_object

__all__ = ["ProgramSection", "read_program_sections", "objdump_listing"]

_STT_FILE = 4


@dataclass
class ProgramSection:
    """One executable section: its name, bytes and symbols (slot index -> names)."""

    name: str
    data: bytes
    symbols: dict[int, list[str]]


def read_program_sections(path: str | Path) -> list[ProgramSection]:
    """The executable sections of a BPF ELF object, with the symbols defined in them.

    Raises :class:`ELFError` for a file that is not a readable ELF object.
    """
    try:
        obj = read_object(path)
    except OSError as err:
        raise ELFError(f"cannot read: {err.strerror}", source=str(path)) from None
    by_index = {sec.index: ProgramSection(sec.name, sec.data, {}) for sec in obj.sections
                if sec.flags & SHF_EXECINSTR and sec.size and sec.type != SHT_NOBITS}
    for sym in obj.symbols:
        if sym.section not in by_index or sym.type in (STT_SECTION, _STT_FILE) or not sym.name:
            continue
        by_index[sym.section].symbols.setdefault(sym.value // 8, []).append(sym.name)
    return list(by_index.values())


def objdump_listing(path: str | Path, *, section: str | None = None, imm_hex: bool = False,
                    alu32: bool = False) -> str:
    """The text ``llvm-objdump -d [--print-imm-hex] FILE`` prints for a BPF object.

    Raises :class:`ELFError` for a bad file or unknown section, :class:`AsmError` for
    an unknown instruction (naming section and byte offset).
    """
    sections = read_program_sections(path)
    if section is not None:
        sections = [s for s in sections if s.name == section]
        if not sections:
            raise ELFError(f"no program section {section!r}", source=str(path))
    out = [f"\n{path}:\tfile format elf64-bpf\n"]
    for sec in sections:
        out.append(f"\nDisassembly of section {sec.name}:\n")
        if 0 not in sec.symbols:
            sec.symbols[0] = [sec.name]  # llvm-objdump names the start after the section
        first = {slot: names[0] for slot, names in sec.symbols.items()}
        namer = TargetNamer(first)
        insns = Instruction.decode(sec.data, source_name=f"{path}: section {sec.name}")
        for slot, insn in Instructions(insns).iterate():
            for name in sec.symbols.get(slot, ()):
                out.append(f"\n{slot * 8:016x} <{name}>:\n")
            raw = insn.encode()
            line = format_line(insn, slot, imm_hex=imm_hex, alu32=alu32, namer=namer,
                               show_index=False, annotate=False,
                               source=f"{path}: section {sec.name}")
            out.append(f"{slot:>8}:\t{' '.join(f'{x:02x}' for x in raw)}{line}\n")
    return "".join(out)
