"""Write a :class:`~pybpf.spec.CollectionSpec` as a BPF ELF object, the shape clang gives
libbpf (and :func:`pybpf.elf.load_collection_spec` reads back).

The object (ELF64, little-endian, ``EM_BPF``, relocatable) holds:

* one executable section per program section name (``tracepoint/syscalls/...``, ``xdp``),
  each program a global ``STT_FUNC`` symbol in it;
* ``.rel<section>``: an ``R_BPF_64_64`` per ``lddw`` of a map (against the map's symbol in
  ``.maps``) or of global data (against the data section's symbol, offset in the
  instruction's immediate);
* ``.maps`` (zeroed BTF-defined map structs, one ``STT_OBJECT`` per variable of the spec
  BTF's ``.maps`` DATASEC), ``.data``, ``.rodata``, ``.bss``... with a symbol per variable
  of their DATASEC, and ``license``;
* ``.BTF`` (the spec's BTF) and ``.BTF.ext`` with func_info, line_info and CO-RE
  relocations, ``insn_off`` in bytes of the section.

Not written yet (an ELFError says so): bpf-to-bpf calls and function addresses (their
callees belong in ``.text``), externs (``.kconfig``, ``__ksym``, kfuncs), legacy ``maps``
definitions and initial map contents.

Layouts from the System V ABI (ELF64) and the kernel's ``Documentation/bpf/btf.rst``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..asm.instruction import Instruction
from ..asm.opcodes import LDDW_OPCODE, CallSrc, PseudoSrc
from ..btf import Datasec
from ..btf import Spec as BTFSpec
from ..btf.loadable import with_strings
from ..errors import ELFError
from ..spec import CollectionSpec, MapSpec, ProgramSpec

__all__ = ["write_object", "ObjectLayout", "EM_BPF", "R_BPF_64_64"]

EM_BPF = 247
R_BPF_64_64 = 1
_ET_REL = 1
_SHT_PROGBITS, _SHT_SYMTAB, _SHT_STRTAB, _SHT_NOBITS, _SHT_REL = 1, 2, 3, 8, 9
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 1, 2, 4
_STB_LOCAL, _STB_GLOBAL = 0, 1
_STT_NOTYPE, _STT_OBJECT, _STT_FUNC, _STT_SECTION = 0, 1, 2, 3

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_REL = struct.Struct("<QQ")
_BTF_EXT_HEADER = struct.Struct("<HBBIIIIIII")  # magic..line_len, core_off, core_len


@dataclass
class _Section:
    name: str
    type: int
    flags: int
    data: bytes = b""
    size: int | None = None         # NOBITS: the size with no bytes
    align: int = 8
    entsize: int = 0
    link: int = 0
    info: int = 0
    index: int = 0


@dataclass
class _Symbol:
    name: str
    bind: int
    type: int
    section: int
    value: int = 0
    size: int = 0


@dataclass
class ObjectLayout:
    """Where each program landed: ``program_offsets[name] = (section, byte offset)``."""

    program_offsets: dict[str, tuple[str, int]] = field(default_factory=dict)


class _Strtab:
    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self.offsets: dict[str, int] = {"": 0}

    def add(self, s: str) -> int:
        if s not in self.offsets:
            self.offsets[s] = len(self.data)
            self.data += s.encode() + b"\0"
        return self.offsets[s]


def _encode_program(insns: list[Instruction], base: int, map_names: set[str],
                    data_sections: set[str], section: str, program: str
                    ) -> tuple[bytes, list[tuple[int, str, bool]]]:
    """The section bytes of one program and its relocations (byte offset, target,
    target-is-a-data-section)."""
    out = bytearray()
    relocs: list[tuple[int, str, bool]] = []
    for insn in insns:
        at = base + len(out)
        if insn.opcode == LDDW_OPCODE and insn.src in (PseudoSrc.MAP_FD, PseudoSrc.MAP_VALUE):
            name = insn.reference
            if name in data_sections:
                # clang's shape: src 0, the variable's offset in the immediate
                insn = Instruction(LDDW_OPCODE, insn.dst, 0, 0, (insn.imm >> 32) & 0xFFFFFFFF)
                relocs.append((at, name, True))
            elif name in map_names and insn.src == PseudoSrc.MAP_FD:
                insn = Instruction(LDDW_OPCODE, insn.dst, 0, 0, 0)
                relocs.append((at, name, False))
            else:
                raise ELFError(f"lddw of {name!r} names no map or global-data section",
                               source=f"{section}: {program}", offset=at)
        out += insn.encode()
    return bytes(out), relocs


def write_object(spec: CollectionSpec, programs: list[str] | None = None
                 ) -> tuple[bytes, ObjectLayout]:
    """The ELF object bytes of ``spec``, with only ``programs`` if given (and the maps
    they use); and where each program went.

    Raises :class:`ELFError` for a program name that is not in the spec, or something
    the object cannot say yet (see the module docstring).
    """
    names = programs or list(spec.programs)
    missing = [n for n in names if n not in spec.programs]
    if missing:
        raise ELFError(f"no program named {missing[0]!r} (have: "
                       f"{', '.join(spec.programs)})")
    chosen = {n: spec.programs[n] for n in names}
    for name, prog in chosen.items():
        _check_writable(name, prog)
    used = {i.reference for p in chosen.values() for i in p.instructions
            if i.opcode == LDDW_OPCODE and i.reference}
    maps = {n: m for n, m in spec.maps.items()
            if n in used or (programs is None and m.section is not None)}
    if used & _EXTERN_MAPS:
        raise ELFError("writing externs (.kconfig, __ksym) is not supported yet")
    return _Writer(spec, chosen, maps).write()


# what the loader fills in from the running kernel: externs, not data of the object
_EXTERN_MAPS = frozenset({".kconfig", ".ksyms"})


def _check_writable(name: str, prog: ProgramSpec) -> None:
    for index, insn in enumerate(prog.instructions):
        if insn.is_pseudo_call or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC):
            raise ELFError(f"program {name!r}: instruction {index} calls or takes the address "
                           "of a function; writing bpf-to-bpf calls is not supported yet")
        if insn.is_call and insn.src == CallSrc.KFUNC:
            raise ELFError(f"program {name!r}: instruction {index} calls kfunc "
                           f"{insn.reference!r}; writing externs is not supported yet")


def _maps_datasec(btf: BTFSpec | None) -> Datasec | None:
    if btf is None:
        return None
    for t in btf.types_by_name(".maps"):
        if isinstance(t, Datasec):
            return t
    return None


class _Writer:
    def __init__(self, spec: CollectionSpec, programs: dict[str, ProgramSpec],
                 maps: dict[str, MapSpec]):
        self.spec = spec
        self.programs = programs
        self.maps = maps
        self.maps_datasec = _maps_datasec(spec.btf)
        self.sections: list[_Section] = [_Section("", 0, 0, align=0)]
        self.symbols: list[_Symbol] = []
        self.layout = ObjectLayout()

    def add_section(self, section: _Section) -> _Section:
        section.index = len(self.sections)
        self.sections.append(section)
        return section

    def write(self) -> tuple[bytes, ObjectLayout]:
        code = self._code_sections()
        data_index = self._data_sections()
        maps_index = self._maps_section()
        license_ = self.add_section(_Section("license", _SHT_PROGBITS, _SHF_WRITE | _SHF_ALLOC,
                                             self.spec.license.encode() + b"\0",
                                             align=1))
        self.symbols.append(_Symbol("LICENSE", _STB_GLOBAL, _STT_OBJECT, license_.index, 0,
                                    len(license_.data)))
        if self.spec.btf is not None:
            btf_blob, ext_blob = self._btf(self.spec.btf, code)
            self.add_section(_Section(".BTF", _SHT_PROGBITS, 0, btf_blob, align=4))
            self.add_section(_Section(".BTF.ext", _SHT_PROGBITS, 0, ext_blob, align=4))
        # local symbols first (sh_info of .symtab is the first global's index)
        section_syms = {s.index: _Symbol("", _STB_LOCAL, _STT_SECTION, s.index)
                        for s in self.sections[1:] if s.type in (_SHT_PROGBITS, _SHT_NOBITS)
                        and s.name not in (".BTF", ".BTF.ext", "license")}
        symbols = [_Symbol("", _STB_LOCAL, _STT_NOTYPE, 0)] + list(section_syms.values())
        first_global = len(symbols)
        symbols += self.symbols
        sym_index = {id(s): i for i, s in enumerate(symbols)}
        by_name = {(s.section, s.name): i for i, s in enumerate(symbols) if s.name}
        for section, relocs in code:
            rel = bytearray()
            for offset, target, is_data in relocs:
                if is_data:
                    sym = sym_index[id(section_syms[data_index[target]])]
                else:
                    sym = by_name[(maps_index, target)]
                rel += _REL.pack(offset, sym << 32 | R_BPF_64_64)
            if rel:
                self.add_section(_Section(".rel" + section.name, _SHT_REL, 0, bytes(rel),
                                          entsize=_REL.size, info=section.index))
        strtab = _Strtab()
        symtab_data = b"".join(
            _SYM.pack(strtab.add(s.name), s.bind << 4 | s.type, 0, s.section, s.value, s.size)
            for s in symbols)
        symtab = self.add_section(_Section(".symtab", _SHT_SYMTAB, 0, symtab_data,
                                           entsize=_SYM.size, info=first_global))
        strtab_section = self.add_section(_Section(".strtab", _SHT_STRTAB, 0, align=1))
        symtab.link = strtab_section.index
        for s in self.sections:
            if s.type == _SHT_REL:
                s.link = symtab.index
        strtab_section.data = bytes(strtab.data)
        return self._serialize(), self.layout

    # -- sections ------------------------------------------------------------------------

    def _code_sections(self) -> list[tuple[_Section, list[tuple[int, str, bool]]]]:
        by_section: dict[str, list[str]] = {}
        for name, prog in self.programs.items():
            by_section.setdefault(prog.section, []).append(name)
        data_sections = {n for n, m in self.maps.items() if m.section is not None}
        map_names = set(self.maps) - data_sections
        out = []
        for section_name, names in by_section.items():
            section = self.add_section(_Section(section_name, _SHT_PROGBITS,
                                                _SHF_ALLOC | _SHF_EXECINSTR))
            data = bytearray()
            relocs: list[tuple[int, str, bool]] = []
            for name in names:
                base = len(data)
                blob, found = _encode_program(self.programs[name].instructions, base,
                                              map_names, data_sections, section_name, name)
                data += blob
                relocs += found
                self.symbols.append(_Symbol(name, _STB_GLOBAL, _STT_FUNC, section.index,
                                            base, len(blob)))
                self.layout.program_offsets[name] = (section_name, base)
            section.data = bytes(data)
            out.append((section, relocs))
        return out

    def _data_sections(self) -> dict[str, int]:
        index = {}
        for name, m in self.maps.items():
            if m.section is None:
                continue
            if name == ".bss":
                s = _Section(name, _SHT_NOBITS, _SHF_WRITE | _SHF_ALLOC, size=m.value_size)
            else:
                flags = _SHF_ALLOC | (0 if m.readonly else _SHF_WRITE)
                s = _Section(name, _SHT_PROGBITS, flags, bytes(m.data or b""))
            self.add_section(s)
            index[name] = s.index
            if isinstance(m.value_type, Datasec):
                for info in m.value_type.vars:
                    self.symbols.append(_Symbol(info.type.name, _STB_GLOBAL, _STT_OBJECT,
                                                s.index, info.offset, info.size))
        return index

    def _maps_section(self) -> int:
        datasec = self.maps_datasec
        defined = {info.type.name for info in datasec.vars} if datasec is not None else set()
        for name, m in self.maps.items():
            if m.section is None and name not in defined:
                raise ELFError(f"map {name!r} has no BTF definition (the spec's BTF needs a "
                               "'.maps' DATASEC variable for it)")
            if m.section is None and m.contents:
                raise ELFError(f"map {name!r}: writing initial contents is not supported yet")
        if datasec is None:
            return 0
        s = self.add_section(_Section(".maps", _SHT_PROGBITS, _SHF_WRITE | _SHF_ALLOC,
                                      bytes(datasec.size)))
        for info in datasec.vars:
            self.symbols.append(_Symbol(info.type.name, _STB_GLOBAL, _STT_OBJECT, s.index,
                                        info.offset, info.size))
        return s.index

    # -- BTF -----------------------------------------------------------------------------

    def _btf(self, spec: BTFSpec, code: list[tuple[_Section, list[tuple[int, str, bool]]]]
             ) -> tuple[bytes, bytes]:
        # every record's section, file, line text and access string lives in .BTF's strings
        strings: list[str] = [s.name for s, _ in code]
        for prog in self.programs.values():
            for r in prog.line_info:
                strings += [r.file_name, r.line_text]
            strings += [r.access_str for r in prog.core_relos]
        blob, offsets = with_strings(spec.encode(), strings)
        func, line, core = bytearray(), bytearray(), bytearray()
        for section, _ in code:
            names = [n for n, (sec, _) in self.layout.program_offsets.items()
                     if sec == section.name]
            f_recs: list[bytes] = []
            l_recs: list[bytes] = []
            c_recs: list[bytes] = []
            for name in names:
                base = self.layout.program_offsets[name][1]
                prog = self.programs[name]
                f_recs += [struct.pack("<II", base + r.insn_off * 8, spec.type_id(r.type))
                           for r in prog.func_info]
                l_recs += [struct.pack("<IIII", base + r.insn_off * 8, offsets[r.file_name],
                                       offsets[r.line_text],
                                       r.line << 10 | min(r.column, 1023))
                           for r in prog.line_info]
                c_recs += [struct.pack("<IIII", base + r.insn_off * 8, spec.type_id(r.type),
                                       offsets[r.access_str], int(r.kind))
                           for r in prog.core_relos]
            sec_off = offsets[section.name]
            for area, recs in ((func, f_recs), (line, l_recs), (core, c_recs)):
                if recs:
                    area += struct.pack("<II", sec_off, len(recs)) + b"".join(recs)
        areas = [(func, 8), (line, 16), (core, 16)]
        body = bytearray()
        pairs = []
        for area, rec_size in areas:
            if area:
                pairs += [len(body), 4 + len(area)]
                body += struct.pack("<I", rec_size) + area
            else:
                pairs += [len(body), 0]
        header = _BTF_EXT_HEADER.pack(0xEB9F, 1, 0, _BTF_EXT_HEADER.size, *pairs)
        return blob, header + bytes(body)

    # -- the file ------------------------------------------------------------------------

    def _serialize(self) -> bytes:
        shstrtab = _Strtab()
        shstr = self.add_section(_Section(".shstrtab", _SHT_STRTAB, 0, align=1))
        for s in self.sections:
            shstrtab.add(s.name)
        shstr.data = bytes(shstrtab.data)
        out = bytearray(_EHDR.size)
        offsets = []
        for s in self.sections:
            if s.type in (0, _SHT_NOBITS):
                offsets.append(len(out) if s.type else 0)
                continue
            align = max(s.align, 1)
            out += bytes(-len(out) % align)
            offsets.append(len(out))
            out += s.data
        out += bytes(-len(out) % 8)
        shoff = len(out)
        for s, offset in zip(self.sections, offsets):
            size = s.size if s.type == _SHT_NOBITS else len(s.data)
            out += _SHDR.pack(shstrtab.offsets[s.name] if s.index or s.name else 0, s.type,
                              s.flags, 0, offset, size or 0, s.link, s.info, s.align,
                              s.entsize)
        ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)   # 64-bit, LSB, version 1
        out[:_EHDR.size] = _EHDR.pack(ident, _ET_REL, EM_BPF, 1, 0, 0, shoff, 0, _EHDR.size,
                                      0, 0, _SHDR.size, len(self.sections), shstr.index)
        return bytes(out)
