"""A safe, flat view of a BPF ELF object: sections, symbols and relocations.

pyelftools reads the ELF header and section headers; the symbol table and the REL sections
are small fixed-size records decoded here with :mod:`struct` (faster than pyelftools' generic
per-entry parsing, and every bound is checked so corrupt input gives an :class:`ELFError`
naming the file, the section and the byte offset, never an ``IndexError`` from deep inside).

Only what a BPF object needs is modelled: little-endian ELF64 with ``e_machine == EM_BPF``.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError as _PyELFError
from elftools.common.exceptions import ELFParseError as _PyELFParseError
from elftools.elf.elffile import ELFFile

from ..errors import ELFError

EM_BPF = 247

# sh_type values (ELF gABI)
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_NOBITS = 8
SHT_REL = 9

# sh_flags bits
SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4

# special section indexes
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2

# symbol types and bindings (st_info low / high nibble)
STT_NOTYPE = 0
STT_OBJECT = 1
STT_FUNC = 2
STT_SECTION = 3
STB_LOCAL = 0
STB_GLOBAL = 1
STB_WEAK = 2

# relocation types of the BPF ELF ABI (llvm/BinaryFormat/ELFRelocs/BPF.def)
R_BPF_NONE = 0
R_BPF_64_64 = 1          # lddw: 64-bit immediate split over the two slots
R_BPF_64_ABS64 = 2       # 64-bit data word (e.g. a pointer in .maps)
R_BPF_64_ABS32 = 3       # 32-bit data word
R_BPF_64_NODYLD32 = 4    # 32-bit data word in .BTF/.BTF.ext/DWARF, for static linkers only
R_BPF_64_32 = 10         # call: 32-bit immediate, in instruction slots

RELOCATION_NAMES = {
    R_BPF_NONE: "R_BPF_NONE", R_BPF_64_64: "R_BPF_64_64", R_BPF_64_ABS64: "R_BPF_64_ABS64",
    R_BPF_64_ABS32: "R_BPF_64_ABS32", R_BPF_64_NODYLD32: "R_BPF_64_NODYLD32",
    R_BPF_64_32: "R_BPF_64_32",
}

_SYM = struct.Struct("<IBBHQQ")  # st_name, st_info, st_other, st_shndx, st_value, st_size
_REL = struct.Struct("<QQ")      # r_offset, r_info (symbol << 32 | type)
# sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign,
# sh_entsize
_SHDR = struct.Struct("<IIQQQQIIQQ")


@dataclass(frozen=True, slots=True)
class Section:
    """One section header plus its bytes (``data`` is empty for SHT_NOBITS, e.g. .bss:
    such a section has ``size`` bytes of zeros that the file does not store)."""

    index: int
    name: str
    type: int
    flags: int
    size: int
    link: int
    info: int
    data: bytes

    @property
    def is_code(self) -> bool:
        return self.type == SHT_PROGBITS and bool(self.flags & SHF_EXECINSTR)


@dataclass(frozen=True, slots=True)
class Symbol:
    """One ``Elf64_Sym``; ``section`` is its ``st_shndx`` (0 when undefined)."""

    index: int
    name: str
    type: int
    bind: int
    section: int
    value: int
    size: int
    visibility: int = 0  # ELF64_ST_VISIBILITY(st_other): STV_DEFAULT, STV_HIDDEN...

    @property
    def is_undefined(self) -> bool:
        return self.section == SHN_UNDEF


@dataclass(frozen=True, slots=True)
class Relocation:
    """One ``Elf64_Rel`` (BPF objects use REL, no addend: the addend is in the bytes)."""

    offset: int  # byte offset within the section relocated
    type: int
    symbol: Symbol


@dataclass
class ObjectFile:
    """The parts of a BPF ELF object the spec builder reads.

    ``relocations`` maps a section index to the relocations that apply to it, sorted by
    offset. ``name`` is the file name (or ``"<bytes>"``), used in every error message.
    """

    name: str
    sections: list[Section]
    symbols: list[Symbol]
    relocations: dict[int, list[Relocation]] = field(default_factory=dict)

    def section_by_name(self, name: str) -> Section | None:
        for sec in self.sections:
            if sec.name == name:
                return sec
        return None

    def error(self, message: str, *, section: Section | str | None = None,
              offset: int | None = None) -> ELFError:
        """An :class:`ELFError` naming this file, a section and a byte offset in it."""
        where = self.name
        if section is not None:
            where += f": section {section.name if isinstance(section, Section) else section!r}"
        return ELFError(message, source=where, offset=offset)


def read_object(path_or_bytes: str | Path | bytes | bytearray | memoryview) -> ObjectFile:
    """Read a BPF ELF object from a path or from its bytes.

    Raises :class:`ELFError` for a file that is not ELF, truncated, corrupt, not 64-bit
    little-endian, or not for the BPF machine. A missing file stays ``FileNotFoundError``.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
        name = "<bytes>"
    else:
        name = str(path_or_bytes)
        data = Path(path_or_bytes).read_bytes()
    try:
        return _parse(data, name)
    except ELFError:
        raise
    except (_PyELFError, _PyELFParseError, struct.error, ValueError, KeyError, IndexError,
            TypeError, AttributeError, UnicodeDecodeError, OverflowError, AssertionError,
            RecursionError, MemoryError) as err:
        # pyelftools reports truncation and garbage with many exception types; all of them
        # mean the same thing here: the bytes are not a readable ELF object
        raise ELFError(f"corrupt or truncated ELF: {type(err).__name__}: {err}",
                       source=name) from None


def _parse(data: bytes, name: str) -> ObjectFile:
    if data[:4] != b"\x7fELF":
        raise ELFError("not an ELF file (bad magic)", source=name, offset=0)
    elf = ELFFile(io.BytesIO(data))
    if elf.elfclass != 64:
        raise ELFError(f"ELF class is {elf.elfclass}-bit, BPF objects are 64-bit",
                       source=name, offset=4)
    if not elf.little_endian:
        raise ELFError("big-endian BPF objects (-target bpfeb) are not supported",
                       source=name, offset=5)
    machine = elf["e_machine"]
    if machine not in ("EM_BPF", EM_BPF):
        raise ELFError(f"machine is {machine}, not EM_BPF: compile with clang -target bpf",
                       source=name, offset=0x12)

    # pyelftools reads the ELF header (and extended section numbering); the section header
    # table is one struct.iter_unpack, ten times quicker than a construct parse per section
    count, names_index = elf.num_sections(), elf.get_shstrndx()
    table_at = elf["e_shoff"]
    if elf["e_shentsize"] != _SHDR.size and count:
        raise ELFError(f"section header size {elf['e_shentsize']}, expected {_SHDR.size}",
                       source=name, offset=0x3A)
    table = data[table_at:table_at + count * _SHDR.size]
    if len(table) != count * _SHDR.size:
        raise ELFError("section header table runs past the end of the file", source=name,
                       offset=0x28)
    headers = list(_SHDR.iter_unpack(table))
    if count and not 0 <= names_index < count:
        raise ELFError(f"section name table index {names_index} is out of range",
                       source=name, offset=0x3E)
    names = b""
    if count:
        names_offset, names_size = headers[names_index][4], headers[names_index][5]
        names = data[names_offset:names_offset + names_size]
    sections: list[Section] = []
    for index, (name_off, sh_type, flags, _addr, offset, size, link, info, _align,
                _entsize) in enumerate(headers):
        end = names.find(b"\0", name_off)
        sec_name = names[name_off:end].decode("utf-8", errors="replace") if end >= 0 else ""
        if sh_type == SHT_NOBITS or index == 0:
            body = b""
        else:
            if offset + size > len(data):
                raise ELFError(f"section {sec_name!r} runs past the end of the file "
                               f"({offset:#x}+{size:#x} > {len(data):#x})",
                               source=name, offset=offset)
            body = data[offset:offset + size]
        sections.append(Section(index, sec_name, sh_type, flags, size, link, info, body))

    obj = ObjectFile(name, sections, [])
    symtab = next((s for s in sections if s.type == SHT_SYMTAB), None)
    if symtab is not None:
        obj.symbols = _parse_symbols(obj, symtab)
    for rel in sections:
        if rel.type == SHT_REL:
            if symtab is None or rel.link != symtab.index:
                raise obj.error("relocation section does not use the symbol table",
                                section=rel)
            if not 0 < rel.info < len(sections):
                raise obj.error(f"relocation section applies to section {rel.info}, "
                                f"which does not exist", section=rel)
            obj.relocations[rel.info] = _parse_relocations(obj, rel)
    return obj


def _string_at(obj: ObjectFile, strtab: Section, offset: int, *, what: str) -> str:
    data = strtab.data
    if offset >= len(data):
        raise obj.error(f"{what} name offset {offset:#x} is outside the string table",
                        section=strtab)
    end = data.find(b"\0", offset)
    if end < 0:
        raise obj.error(f"{what} name at {offset:#x} is not NUL-terminated", section=strtab)
    return data[offset:end].decode("utf-8", errors="replace")


def _parse_symbols(obj: ObjectFile, symtab: Section) -> list[Symbol]:
    if not 0 < symtab.link < len(obj.sections):
        raise obj.error("symbol table has no string table", section=symtab)
    strtab = obj.sections[symtab.link]
    if len(symtab.data) % _SYM.size:
        raise obj.error(f"symbol table size {len(symtab.data)} is not a multiple of "
                        f"{_SYM.size}", section=symtab)
    symbols = []
    sections = obj.sections
    for index, (st_name, st_info, other, shndx, value, size) in enumerate(
            _SYM.iter_unpack(symtab.data)):
        sym_type, bind = st_info & 0xF, st_info >> 4
        if sym_type == STT_SECTION and shndx < len(sections):
            # section symbols usually have no name of their own: use the section's
            name = sections[shndx].name
        else:
            name = _string_at(obj, strtab, st_name, what=f"symbol {index}") if st_name else ""
        if SHN_UNDEF < shndx < SHN_LORESERVE and shndx >= len(sections):
            raise obj.error(f"symbol {name!r} refers to section {shndx}, which does not "
                            f"exist", section=symtab, offset=index * _SYM.size)
        symbols.append(Symbol(index, name, sym_type, bind, shndx, value, size, other & 0x3))
    return symbols


def _parse_relocations(obj: ObjectFile, rel: Section) -> list[Relocation]:
    if len(rel.data) % _REL.size:
        raise obj.error(f"relocation table size {len(rel.data)} is not a multiple of "
                        f"{_REL.size}", section=rel)
    out = []
    symbols = obj.symbols
    for n, (r_offset, r_info) in enumerate(_REL.iter_unpack(rel.data)):
        sym_index, rel_type = r_info >> 32, r_info & 0xFFFF_FFFF
        if sym_index >= len(symbols):
            raise obj.error(f"relocation refers to symbol {sym_index}, but the symbol table "
                            f"has {len(symbols)}", section=rel, offset=n * _REL.size)
        out.append(Relocation(r_offset, rel_type, symbols[sym_index]))
    out.sort(key=lambda r: r.offset)
    return out
