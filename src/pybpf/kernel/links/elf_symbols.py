"""Function symbols of an ELF binary, found in a few milliseconds: one by name
(:func:`find_function`, for a uprobe) or all of them (:func:`function_offsets`, for
wildcards).

A uprobe needs the file offset of one function. pyelftools builds an object per symbol
(libc: ~3,000 of them, ~50 ms); here the file is mapped, the name is searched for in the
string tables with one ``bytes.find`` (in C), and only the symbols whose name offset
matches are unpacked. Enough of ELF for that: the header, section headers, symbol tables,
the GNU version table and PT_LOAD program headers, for 32/64-bit and either byte order.
"""

from __future__ import annotations

import array
import mmap
import struct
import sys
from collections.abc import Iterable

from ...dataclass_compat import FrozenValue
from ...errors import ELFError

__all__ = ["FunctionSymbol", "find_function", "function_offsets", "function_names",
           "address_to_offset"]

_NATIVE = "<" if sys.byteorder == "little" else ">"

SHT_SYMTAB = 2
SHT_NOTE = 7
SHT_NOBITS = 8
SHT_DYNSYM = 11
SHT_GNU_VERSYM = 0x6FFFFFFF
SHN_UNDEF = 0
STT_FUNC = 2
STT_GNU_IFUNC = 10
PT_LOAD = 1
NT_GNU_BUILD_ID = 3
VERSYM_HIDDEN = 0x8000


class FunctionSymbol(FrozenValue):
    """One definition of a symbol: where it is and whether it is usable as a probe."""

    address: int
    size: int
    section: int  # st_shndx
    kind: int  # STT_*
    default: bool  # not a hidden symbol version
    table: str  # ".symtab" or ".dynsym"

    __match_args__ = ("address", "size", "section", "kind", "default", "table")

    def __init__(self, address: int, size: int, section: int, kind: int, default: bool,
                       table: str) -> None:
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "section", section)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "table", table)


class _Layout:
    """The struct formats of one ELF class and byte order."""

    def __init__(self, is64: bool, order: str):
        if is64:
            self.header = struct.Struct(order + "16xHHIQQQIHHHHHH")
            self.section = struct.Struct(order + "IIQQQQIIQQ")
            self.segment = struct.Struct(order + "IIQQQQQQ")
            self.symbol = struct.Struct(order + "IBBHQQ")
        else:
            self.header = struct.Struct(order + "16xHHIIIIIHHHHHH")
            self.section = struct.Struct(order + "IIIIIIIIII")
            self.segment = struct.Struct(order + "IIIIIIII")
            self.symbol = struct.Struct(order + "IIIBBH")
        self.is64 = is64
        self.order = order
        self.u16 = order + "H"


def find_function(path: str, name: str) -> list[FunctionSymbol]:
    """Every definition or mention of ``name`` in .symtab and .dynsym, in that order.

    Raises ELFError when the file is not ELF or its tables point outside it.
    """
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _find(data, name.encode(), path)
    except (ValueError, OSError) as err:  # an empty file cannot be mapped
        raise ELFError(f"cannot read as ELF: {err}", source=path) from None
    except struct.error as err:
        raise ELFError(f"corrupt ELF file: {err}", source=path) from None


def _find(data: mmap.mmap, name: bytes, path: str) -> list[FunctionSymbol]:
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ELFError("not an ELF file", source=path)
    layout = _Layout(data[4] == 2, "<" if data[5] == 1 else ">")
    (_, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, _) = layout.header.unpack_from(data)
    if shoff == 0 or shentsize < layout.section.size:
        return []
    sections = [layout.section.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    versym = next((s for s in sections if s[1] == SHT_GNU_VERSYM), None)
    found: list[FunctionSymbol] = []
    for table_type, table_name in ((SHT_SYMTAB, ".symtab"), (SHT_DYNSYM, ".dynsym")):
        for section in sections:
            if section[1] != table_type:
                continue
            found += _in_table(data, layout, sections, section, name, table_name,
                               versym if table_type == SHT_DYNSYM else None)
    return found


def _in_table(data: mmap.mmap, layout: _Layout, sections: list[tuple[int, ...]],
              table: tuple[int, ...], name: bytes, table_name: str,
              versym: tuple[int, ...] | None) -> list[FunctionSymbol]:
    # section header fields: name type flags addr offset size link info addralign entsize
    offset, size, link, entsize = table[4], table[5], table[6], table[9]
    if not entsize or link >= len(sections):
        return []
    strtab = sections[link]
    str_start, str_end = strtab[4], strtab[4] + strtab[5]
    # every place the name ends a string (tables share suffixes: "malloc" may sit at the
    # end of "__libc_malloc"); a symbol's st_name is one of these offsets
    wanted: set[int] = set()
    needle = name + b"\0"
    at = data.find(needle, str_start, str_end)
    while at >= 0:
        wanted.add(at - str_start)
        at = data.find(needle, at + 1, str_end)
    if not wanted:
        return []
    count = size // entsize
    # st_name is the first word of every entry: one strided read finds the matches
    if entsize % 4:
        return []
    with memoryview(data)[offset:offset + count * entsize] as table_bytes, \
            table_bytes.cast("I") as words, words[::entsize // 4] as column:
        names = array.array("I", column.tobytes())
    if layout.order != _NATIVE:
        names.byteswap()
    found = []
    for index, st_name in enumerate(names):
        if st_name not in wanted:
            continue
        entry = offset + index * entsize
        if layout.is64:
            _, info, _, shndx, value, sym_size = layout.symbol.unpack_from(data, entry)
        else:
            _, value, sym_size, info, _, shndx = layout.symbol.unpack_from(data, entry)
        default = True
        if versym is not None and index < versym[5] // 2:
            ndx = struct.unpack_from(layout.u16, data, versym[4] + 2 * index)[0]
            default = not ndx & VERSYM_HIDDEN
        found.append(FunctionSymbol(value, sym_size, shndx, info & 0xF, default,
                                    table_name))
    return found


def address_to_offset(path: str, address: int, section_index: int) -> int | None:
    """The file offset of virtual ``address``: through its section, else the PT_LOAD
    segment holding it; None when nothing holds it."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        layout = _Layout(data[4] == 2, "<" if data[5] == 1 else ">")
        (_, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         _) = layout.header.unpack_from(data)
        if 0 < section_index < shnum:
            sh = layout.section.unpack_from(data, shoff + section_index * shentsize)
            start, size = sh[3], sh[5]
            if start <= address < start + size and sh[1] != SHT_NOBITS:
                return int(address - start + sh[4])
        for i in range(phnum):
            ph = layout.segment.unpack_from(data, phoff + i * phentsize)
            if layout.is64:
                p_type, _, p_offset, p_vaddr, _, p_filesz = ph[:6]
            else:
                p_type, p_offset, p_vaddr, _, p_filesz = ph[:5]
            if p_type == PT_LOAD and p_vaddr <= address < p_vaddr + p_filesz:
                return int(address - p_vaddr + p_offset)
    return None


def function_offsets(path: str, names: Iterable[str] | None = None) -> dict[str, int]:
    """Every function defined in ``path`` -> the file offset of its code, from .symtab
    (else .dynsym), in one pass of the table. Versioned names lose their ``@VERSION``; of
    two versions of one name the default wins; IFUNC resolvers are left out (their code is
    not the function's). Raises ELFError when the file is not ELF.

    With ``names``, only those of them (what the whole table gives for them): their
    strings are searched for first, so only the symbols naming them are unpacked (a few
    instead of libc's ~3,000: a tool probing libc functions by name starts ~10 ms sooner).
    """
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _all_functions(data, path, None if names is None else set(names))
    except (ValueError, OSError) as err:
        raise ELFError(f"cannot read as ELF: {err}", source=path) from None
    except struct.error as err:
        raise ELFError(f"corrupt ELF file: {err}", source=path) from None


def _all_functions(data: mmap.mmap, path: str, names: set[str] | None) -> dict[str, int]:
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ELFError("not an ELF file", source=path)
    layout = _Layout(data[4] == 2, "<" if data[5] == 1 else ">")
    (_, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, _) = layout.header.unpack_from(data)
    if shoff == 0 or shentsize < layout.section.size:
        return {}
    sections = [layout.section.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    by_type: dict[int, int] = {}
    for index, section in enumerate(sections):
        by_type.setdefault(section[1], index)
    table_index = by_type.get(SHT_SYMTAB, by_type.get(SHT_DYNSYM))
    if table_index is None:
        return {}
    table = sections[table_index]
    offset, size, link, entsize = table[4], table[5], table[6], table[9]
    if not entsize or link >= len(sections):
        return {}
    str_start = sections[link][4]
    versym = sections[by_type[SHT_GNU_VERSYM]] \
        if table[1] == SHT_DYNSYM and SHT_GNU_VERSYM in by_type else None
    offsets: dict[str, int] = {}
    defaults: dict[str, bool] = {}
    indexes: Iterable[int] = range(size // entsize)
    if names is not None:
        indexes = _naming(data, layout, (offset, size, entsize),
                          (str_start, sections[link][5]), names)
    for index in indexes:
        entry = offset + index * entsize
        if layout.is64:
            st_name, info, _, shndx, value, _ = layout.symbol.unpack_from(data, entry)
        else:
            st_name, value, _, info, _, shndx = layout.symbol.unpack_from(data, entry)
        if info & 0xF != STT_FUNC or shndx == SHN_UNDEF or shndx >= len(sections) \
                or not value:
            continue
        start = str_start + st_name
        name = data[start:data.find(b"\0", start)].decode("utf-8", "replace")
        name = name.split("@", 1)[0]
        if not name:
            continue
        default = True
        if versym is not None:
            ndx = struct.unpack_from(layout.u16, data, versym[4] + 2 * index)[0]
            default = not ndx & VERSYM_HIDDEN
        if name in offsets and (defaults[name] or not default):
            continue  # a default version wins over an old one of the same name
        section = sections[shndx]
        sh_addr, sh_offset, sh_size = section[3], section[4], section[5]
        if sh_addr <= value < sh_addr + sh_size:
            offsets[name] = value - sh_addr + sh_offset
            defaults[name] = default
    if names is not None:
        return {name: found for name, found in offsets.items() if name in names}
    return offsets


def _naming(data: mmap.mmap, layout: _Layout, table: tuple[int, int, int],
            strings: tuple[int, int], names: set[str]) -> list[int]:
    """The indexes, in table order, of the symbols whose name is one of ``names`` or
    ``NAME@VERSION`` of one: the offsets where those strings lie in the string table (they
    may end a longer name: tables share suffixes), matched against every st_name at once."""
    str_start, str_size = strings
    str_end = str_start + str_size
    wanted: set[int] = set()
    for name in names:
        for needle in (name.encode() + b"\0", name.encode() + b"@"):
            at = data.find(needle, str_start, str_end)
            while at >= 0:
                wanted.add(at - str_start)
                at = data.find(needle, at + 1, str_end)
    offset, size, entsize = table
    count = size // entsize
    if not wanted or entsize % 4:   # (no ELF has such entries: then read them all)
        return [] if not wanted else list(range(count))
    # st_name is the first word of every entry: one strided read gives them all
    with memoryview(data)[offset:offset + count * entsize] as table_bytes, \
            table_bytes.cast("I") as words, words[::entsize // 4] as column:
        st_names = array.array("I", column.tobytes())
    if layout.order != _NATIVE:
        st_names.byteswap()
    return [index for index, st_name in enumerate(st_names) if st_name in wanted]


def function_names(path: str) -> tuple[set[str], str | None]:
    """The names of every FUNC and IFUNC symbol with an address in .symtab and .dynsym, as
    the tables spell them (what BCC's symbol reader lists: imports with a PLT address
    count), and the file's GNU build id in hex (None without one). Raises ELFError when
    the file is not ELF."""
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _names(data, path)
    except (ValueError, OSError) as err:
        raise ELFError(f"cannot read as ELF: {err}", source=path) from None
    except struct.error as err:
        raise ELFError(f"corrupt ELF file: {err}", source=path) from None


def _names(data: mmap.mmap, path: str) -> tuple[set[str], str | None]:
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ELFError("not an ELF file", source=path)
    layout = _Layout(data[4] == 2, "<" if data[5] == 1 else ">")
    (_, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, _) = layout.header.unpack_from(data)
    if shoff == 0 or shentsize < layout.section.size:
        return set(), None
    sections = [layout.section.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    names: set[str] = set()
    build_id = None
    for section in sections:
        kind, offset, size, link, entsize = section[1], section[4], section[5], section[6], \
            section[9]
        if kind == SHT_NOTE:
            build_id = _build_id(data, layout, offset, size) or build_id
            continue
        if kind not in (SHT_SYMTAB, SHT_DYNSYM) or entsize != layout.symbol.size \
                or link >= len(sections):
            continue
        strings = sections[link][4]
        for entry in layout.symbol.iter_unpack(data[offset:offset + size // entsize * entsize]):
            if layout.is64:
                st_name, info, _, _, value, _ = entry
            else:
                st_name, value, _, info, _, _ = entry
            if info & 0xF not in (STT_FUNC, STT_GNU_IFUNC) or not value or not st_name:
                continue
            start = strings + st_name
            names.add(data[start:data.find(b"\0", start)].decode("utf-8", "replace"))
    return names, build_id


def _build_id(data: mmap.mmap, layout: _Layout, offset: int, size: int) -> str | None:
    """The NT_GNU_BUILD_ID of one note section, in hex."""
    end = offset + size
    while offset + 12 <= end:
        namesz, descsz, kind = struct.unpack_from(layout.order + "III", data, offset)
        name_at = offset + 12
        desc_at = name_at + (namesz + 3) // 4 * 4
        if kind == NT_GNU_BUILD_ID and data[name_at:name_at + namesz] == b"GNU\0":
            return data[desc_at:desc_at + descsz].hex()
        offset = desc_at + (descsz + 3) // 4 * 4
    return None
