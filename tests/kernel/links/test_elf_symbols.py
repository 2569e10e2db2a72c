"""The uprobe symbol reader (kernel/links/elf_symbols.py) against pyelftools: every symbol
of real system binaries, found with the same address, size, section, type and version."""

from __future__ import annotations

import os
import sys

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pybpf.errors import ELFError
from pybpf.kernel.links import elf_symbols
from pybpf.kernel.links.uprobe import resolve_binary

_KINDS = {"STT_NOTYPE": 0, "STT_OBJECT": 1, "STT_FUNC": 2, "STT_SECTION": 3, "STT_FILE": 4,
          "STT_COMMON": 5, "STT_TLS": 6, "STT_LOOS": 10, "STT_GNU_IFUNC": 10}


def _reference(path: str) -> dict[str, list[tuple]]:
    """name -> [(address, size, section, kind, default, table)], as pyelftools reads it."""
    out: dict[str, list[tuple]] = {}
    with open(path, "rb") as f:
        elf = ELFFile(f)
        versym = elf.get_section_by_name(".gnu.version")
        for table_name in (".symtab", ".dynsym"):
            table = elf.get_section_by_name(table_name)
            if not isinstance(table, SymbolTableSection):
                continue
            for index, sym in enumerate(table.iter_symbols()):
                if not sym.name:
                    continue
                shndx = sym["st_shndx"]
                shndx = 0 if shndx == "SHN_UNDEF" else 0xFFF1 if shndx == "SHN_ABS" else shndx
                default = True
                if table_name == ".dynsym" and versym is not None:
                    ndx = versym.get_symbol(index)["ndx"]
                    default = not (isinstance(ndx, int) and ndx & 0x8000)
                out.setdefault(sym.name, []).append(
                    (sym["st_value"], sym["st_size"], shndx,
                     _KINDS[sym["st_info"]["type"]], default, table_name))
    return out


@pytest.mark.parametrize("binary", ["libc.so.6", "bash", "python"])
def test_every_symbol_matches_pyelftools(binary: str) -> None:
    # the running interpreter has a full .symtab (pyenv's build), the others .dynsym only
    path = os.path.realpath(sys.executable) if binary == "python" else resolve_binary(binary)
    reference = _reference(path)
    assert len(reference) > 20
    for name, expected in reference.items():
        got = [(s.address, s.size, s.section, s.kind, s.default, s.table)
               for s in elf_symbols.find_function(path, name)]
        assert got == expected, name


@pytest.mark.parametrize("binary", ["libc.so.6", "bash", "python"])
def test_offsets_by_name_are_those_of_the_whole_table(binary: str) -> None:
    # function_offsets(path, names) finds the names' strings first and unpacks only the
    # symbols naming them: the same answer as the whole table's, one name or all of them,
    # versioned names (NAME@VERSION in .symtab) and suffix-shared strings included
    path = os.path.realpath(sys.executable) if binary == "python" else resolve_binary(binary)
    every = elf_symbols.function_offsets(path)
    assert len(every) > 5
    assert elf_symbols.function_offsets(path, every) == every
    for name in sorted(every)[::7] + ["no_such_function_here"]:
        expected = {name: every[name]} if name in every else {}
        assert elf_symbols.function_offsets(path, [name]) == expected, name


def test_offsets_match_pyelftools_segments() -> None:
    from pybpf.kernel.links.uprobe import symbol_offset
    path = resolve_binary("libc.so.6")
    for name in ("malloc", "free", "getaddrinfo", "pthread_create"):
        sym = symbol_offset(path, name)
        with open(path, "rb") as f:
            elf = ELFFile(f)
            (seg,) = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"
                      and s["p_vaddr"] <= sym.address < s["p_vaddr"] + s["p_filesz"]]
            assert sym.file_offset == sym.address - seg["p_vaddr"] + seg["p_offset"]


def test_not_elf_is_an_error(tmp_path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"#!/bin/sh\necho hi\n")
    with pytest.raises(ELFError, match="not an ELF file"):
        elf_symbols.find_function(str(bad), "main")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ELFError):
        elf_symbols.find_function(str(empty), "main")
