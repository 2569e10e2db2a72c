"""``pybpf disasm FILE.o``: the program sections of a BPF object, as ``llvm-objdump -d``.

The raw section bytes and symbols are read with pyelftools directly (this command needs no
CollectionSpec). Output is llvm-objdump's: a ``Disassembly of section X:`` header per
executable section, ``<symbol>:`` lines, instruction index, bytes and text, and
``<LBB0_2>`` after branches.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import IO

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.listing import TargetNamer, format_line
from ..errors import ELFError

_SHF_EXECINSTR = 0x4


@dataclass
class ProgramSection:
    """One executable section: its name, bytes and symbols (slot index -> names)."""

    name: str
    data: bytes
    symbols: dict[int, list[str]]


def read_program_sections(path: str) -> list[ProgramSection]:
    """The executable sections of a BPF ELF object, with the symbols defined in them.

    Raises :class:`ELFError` for a file that is not a readable ELF object.
    """
    from elftools.common.exceptions import ELFError as PyELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            sections: list[tuple[int, ProgramSection]] = []
            for index, sec in enumerate(elf.iter_sections()):
                if sec["sh_flags"] & _SHF_EXECINSTR and sec["sh_size"] and \
                        sec["sh_type"] != "SHT_NOBITS":
                    sections.append((index, ProgramSection(sec.name, sec.data(), {})))
            by_index = {index: ps for index, ps in sections}
            symtab = elf.get_section_by_name(".symtab")
            if symtab is not None:
                for sym in symtab.iter_symbols():
                    shndx = sym["st_shndx"]
                    kind = sym["st_info"]["type"]
                    if not isinstance(shndx, int) or shndx not in by_index:
                        continue
                    if kind in ("STT_SECTION", "STT_FILE") or not sym.name:
                        continue
                    by_index[shndx].symbols.setdefault(sym["st_value"] // 8, []).append(
                        sym.name)
    except OSError as err:
        raise ELFError(f"cannot read: {err.strerror}", source=path) from None
    except (PyELFError, ValueError, KeyError, IndexError) as err:
        raise ELFError(f"not a readable ELF object: {err}", source=path) from None
    return [ps for _, ps in sections]


def objdump_listing(path: str, *, section: str | None = None, imm_hex: bool = False,
                    alu32: bool = False) -> str:
    """The text ``llvm-objdump -d [--print-imm-hex] FILE`` prints for a BPF object.

    Raises :class:`ELFError` for a bad file or unknown section, :class:`AsmError` for
    an unknown instruction (naming section and byte offset).
    """
    sections = read_program_sections(path)
    if section is not None:
        sections = [s for s in sections if s.name == section]
        if not sections:
            raise ELFError(f"no program section {section!r}", source=path)
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a BPF ELF object (clang -target bpf)")
    parser.add_argument("--section", "-j", help="only this section")
    parser.add_argument("--print-imm-hex", action="store_true",
                        help="print immediates in hex (newer LLVM's default)")
    parser.add_argument("--alu32", action="store_true",
                        help="name 32-bit load/store registers w (llvm-objdump --mattr=+alu32)")


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    text = objdump_listing(args.file, section=args.section, imm_hex=args.print_imm_hex,
                           alu32=args.alu32)
    (out or sys.stdout).write(text)
    return 0


__all__ = ["objdump_listing", "read_program_sections", "ProgramSection"]
