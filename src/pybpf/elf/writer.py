"""Write a :class:`~pybpf.spec.CollectionSpec` as a BPF ELF object, the shape clang gives
libbpf (and :func:`pybpf.elf.load_collection_spec` reads back).

The object (ELF64, little-endian, ``EM_BPF``, relocatable) holds:

* one executable section per program section name (``tracepoint/syscalls/...``, ``xdp``),
  each program a global ``STT_FUNC`` symbol in it; the functions programs call (cut back
  out of the linked programs where calls and function addresses point) in ``.text``, once
  each, local or global as their BTF ``FUNC`` says;
* ``.rel<section>``: an ``R_BPF_64_64`` per ``lddw`` of a map (against the map's symbol in
  ``.maps``), of global data (against the data section's symbol, offset in the
  instruction's immediate) or of a function's address (against ``.text``'s symbol, as
  libbpf wants it); an ``R_BPF_64_32`` per call (against the callee, imm -1);
* ``.maps`` (zeroed BTF-defined map structs, one ``STT_OBJECT`` per variable of the spec
  BTF's ``.maps`` DATASEC), ``.data``, ``.rodata``, ``.bss``... with a symbol per variable
  of their DATASEC, and ``license``;
* ``.BTF`` (the spec's BTF) and ``.BTF.ext`` with func_info, line_info and CO-RE
  relocations, ``insn_off`` in bytes of the section.

``.rel.maps`` carries the initial values of prog arrays and maps of maps (an
``R_BPF_64_ABS64`` per slot of the definition's ``values`` array, against the program or
map). Externs (``__kconfig`` values, ``__ksym`` variables, kfuncs) are undefined symbols
(weak where the extern is), referenced as clang does; BTF's ``.kconfig``/``.ksyms``
DATASECs say which is which. Not written yet (an ELFError says so): legacy ``maps``
definitions.

Layouts from the System V ABI (ELF64) and the kernel's ``Documentation/bpf/btf.rst``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.opcodes import LDDW_OPCODE, CallSrc, PseudoSrc
from ..btf import Datasec, Func, Var, VarSecinfo, skip_qualifiers
from ..btf import Spec as BTFSpec
from ..btf.ext import CORERelo, FuncInfo, LineInfo
from ..btf.loadable import with_strings
from ..btf.types import FuncLinkage
from ..errors import ELFError
from ..spec import CollectionSpec, ExternKind, ExternSpec, MapSpec, ProgramSpec

__all__ = ["write_object", "ObjectLayout", "EM_BPF", "R_BPF_64_64"]

EM_BPF = 247
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_32 = 10
_ET_REL = 1
_SHT_PROGBITS, _SHT_SYMTAB, _SHT_STRTAB, _SHT_NOBITS, _SHT_REL = 1, 2, 3, 8, 9
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 1, 2, 4
_STB_LOCAL, _STB_GLOBAL, _STB_WEAK = 0, 1, 2
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


# a relocation to write: (byte offset in its section, target name, kind), kind one of
# "map" (a map's symbol in .maps), "data" (a data section's symbol, offset in the imm),
# "call" (a function in .text, R_BPF_64_32), "func" (a function's address, R_BPF_64_64),
# "prog" and "mapref" (an initial value of a prog array or map of maps, R_BPF_64_ABS64)
_Reloc = tuple[int, str, str]


def _encode_function(insns: list[Instruction], base: int, map_names: set[str],
                     data_sections: set[str], section: str, function: str,
                     externs: dict[str, ExternSpec]) -> tuple[bytes, list[_Reloc]]:
    """The section bytes of one function and its relocations."""
    out = bytearray()
    relocs: list[_Reloc] = []
    for insn in insns:
        at = base + len(out)
        if insn.opcode == LDDW_OPCODE and insn.reference == ".kconfig" and \
                insn.src == PseudoSrc.MAP_VALUE:
            # clang's shape: against the extern's undefined symbol, the offset within it
            offset = (insn.imm >> 32) & 0xFFFF_FFFF
            extern = _kconfig_extern(externs, offset)
            if extern is None:
                raise ELFError(f"lddw of .kconfig offset {offset} names no __kconfig extern",
                               source=f"{section}: {function}", offset=at)
            insn = Instruction(LDDW_OPCODE, insn.dst, 0, 0, offset - extern.offset)
            relocs.append((at, extern.name, "extern"))
        elif insn.opcode == LDDW_OPCODE and insn.reference in externs:
            # a __ksym variable: typed (src BTF_ID) or not (src 0), both src 0 in an object
            relocs.append((at, insn.reference, "extern"))
            insn = Instruction(LDDW_OPCODE, insn.dst, 0, 0, 0)
        elif insn.is_call and insn.src == CallSrc.KFUNC:
            if insn.reference not in externs:
                raise ELFError(f"a kfunc call names no extern ({insn.reference!r})",
                               source=f"{section}: {function}", offset=at)
            relocs.append((at, insn.reference, "extern_call"))
            insn = Instruction(insn.opcode, 0, CallSrc.PSEUDO_CALL, 0, -1)
        elif insn.opcode == LDDW_OPCODE and insn.src in (PseudoSrc.MAP_FD, PseudoSrc.MAP_VALUE):
            name = insn.reference
            if name in data_sections:
                # clang's shape: src 0, the variable's offset in the immediate
                insn = Instruction(LDDW_OPCODE, insn.dst, 0, 0, (insn.imm >> 32) & 0xFFFFFFFF)
                relocs.append((at, name, "data"))
            elif name in map_names and insn.src == PseudoSrc.MAP_FD:
                insn = Instruction(LDDW_OPCODE, insn.dst, 0, 0, 0)
                relocs.append((at, name, "map"))
            else:
                raise ELFError(f"lddw of {name!r} names no map or global-data section",
                               source=f"{section}: {function}", offset=at)
        elif insn.is_pseudo_call or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC):
            if insn.reference is None:
                raise ELFError("a bpf-to-bpf call names no function",
                               source=f"{section}: {function}", offset=at)
            # clang's shape against a function symbol: the callee is the symbol's slot plus
            # imm + 1 for a call, the symbol's byte offset plus imm for an address
            call = insn.opcode != LDDW_OPCODE
            relocs.append((at, insn.reference, "call" if call else "func"))
            insn = Instruction(insn.opcode, insn.dst, insn.src, insn.off, -1 if call else 0)
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
    used = {i.reference for p in chosen.values() for i in p.instructions
            if i.opcode == LDDW_OPCODE and i.reference}
    maps = {n: m for n, m in spec.maps.items() if n not in _EXTERN_MAPS
            and (n in used or (programs is None and m.section is not None))}
    return _Writer(spec, chosen, maps).write()


# what the loader fills in from the running kernel: externs, not data of the object
_EXTERN_MAPS = frozenset({".kconfig", ".ksyms"})


def _kconfig_extern(externs: dict[str, ExternSpec], offset: int) -> ExternSpec | None:
    """The ``__kconfig`` extern at byte ``offset`` of the .kconfig map."""
    for e in externs.values():
        if e.kind == ExternKind.KCONFIG and e.offset <= offset < e.offset + max(e.size, 1):
            return e
    return None


def _binding(prog: ProgramSpec, start: int) -> int:
    """A function's symbol binding: global where its BTF FUNC says so, else local."""
    for r in prog.func_info:
        if r.insn_off == start and isinstance(r.type, Func):
            return _STB_LOCAL if r.type.linkage == FuncLinkage.STATIC else _STB_GLOBAL
    return _STB_LOCAL


def _maps_datasec(btf: BTFSpec | None) -> Datasec | None:
    if btf is None:
        return None
    for t in btf.types_by_name(".maps"):
        if isinstance(t, Datasec):
            return t
    return None


def _functions(prog: ProgramSpec) -> list[tuple[str, int, int, list[Instruction]]]:
    """``prog``'s linked instructions cut back into functions: (name, first slot, end
    slot, instructions), the program first, then each callee where calls and function
    addresses say it starts (its name is their reference)."""
    listing = Instructions(prog.instructions)
    starts: dict[int, str] = {0: prog.name}
    for slot, insn in listing.iterate():
        if insn.is_pseudo_call or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC):
            offset = insn.imm & 0xFFFF_FFFF
            offset -= (offset & 0x8000_0000) << 1
            starts.setdefault(slot + 1 + offset, insn.reference or "")
    index_of = listing.slot_to_index()
    end = listing.slot_count
    order = sorted(starts)
    out = []
    for n, start in enumerate(order):
        if start not in index_of:
            raise ELFError(f"program {prog.name!r}: a call targets slot {start}, where no "
                           "instruction starts")
        stop = order[n + 1] if n + 1 < len(order) else end
        out.append((starts[start], start, stop,
                    list(listing[index_of[start]:index_of.get(stop, len(listing))])))
    return out


class _Writer:
    def __init__(self, spec: CollectionSpec, programs: dict[str, ProgramSpec],
                 maps: dict[str, MapSpec]):
        self.spec = spec
        self.programs = programs
        self.maps = maps
        self.maps_datasec = _maps_datasec(spec.btf)
        self.sections: list[_Section] = [_Section("", 0, 0, align=0)]
        self.symbols: list[_Symbol] = []
        self.local_symbols: list[_Symbol] = []  # static functions in .text
        self.maps_section: _Section | None = None
        self.maps_relocs: list[_Reloc] = []      # initial values of prog arrays, maps of maps
        # per code section: (byte offset, record) of func_info, line_info, CO-RE relocations
        self.ext: dict[str, tuple[list[tuple[int, FuncInfo]], list[tuple[int, LineInfo]],
                                  list[tuple[int, CORERelo]]]] = {}
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
        symbols += self.local_symbols
        first_global = len(symbols)
        symbols += self.symbols
        # externs: undefined symbols (weak when the extern may be missing), typeless as clang
        # leaves them; BTF says which kind each is
        referenced = {target for _, relocs in code for _, target, kind in relocs
                      if kind in ("extern", "extern_call")}
        for name, extern in self.spec.externs.items():
            if name in referenced:
                symbols.append(_Symbol(name, _STB_WEAK if extern.weak else _STB_GLOBAL,
                                       _STT_NOTYPE, 0))
        sym_index = {id(s): i for i, s in enumerate(symbols)}
        text_index = next((s.index for s in self.sections if s.name == ".text"), -1)
        by_name = {(s.section, s.name): i for i, s in enumerate(symbols) if s.name}
        programs = {s.name: i for i, s in enumerate(symbols) if s.type == _STT_FUNC
                    and s.name in self.layout.program_offsets}
        relocated = list(code)
        if self.maps_section is not None and self.maps_relocs:
            relocated.append((self.maps_section, self.maps_relocs))
        for section, relocs in relocated:
            rel = bytearray()
            patched = bytearray(section.data)
            for offset, target, kind in relocs:
                rtype = R_BPF_64_64
                if kind == "data":
                    sym = sym_index[id(section_syms[data_index[target]])]
                elif kind == "map":
                    sym = by_name[(maps_index, target)]
                elif kind == "call":
                    sym = by_name[(text_index, target)]
                    rtype = R_BPF_64_32
                elif kind in ("extern", "extern_call"):
                    sym = by_name[(0, target)]
                    rtype = R_BPF_64_32 if kind == "extern_call" else R_BPF_64_64
                elif kind == "prog":
                    sym, rtype = programs[target], R_BPF_64_ABS64
                elif kind == "mapref":
                    sym, rtype = by_name[(maps_index, target)], R_BPF_64_ABS64
                else:
                    # a function's address: libbpf takes it against .text's section symbol
                    # only, the function's byte offset in the immediate
                    sym = sym_index[id(section_syms[text_index])]
                    struct.pack_into("<i", patched, offset + 4,
                                     symbols[by_name[(text_index, target)]].value)
                rel += _REL.pack(offset, sym << 32 | rtype)
            section.data = bytes(patched)
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

    def _code_sections(self) -> list[tuple[_Section, list[_Reloc]]]:
        by_section: dict[str, list[str]] = {}
        for name, prog in self.programs.items():
            by_section.setdefault(prog.section, []).append(name)
        data_sections = {n for n, m in self.maps.items() if m.section is not None}
        map_names = set(self.maps) - data_sections
        out = []
        # the functions programs call go to .text once each, as clang puts them there
        text = bytearray()
        text_relocs: list[_Reloc] = []
        text_funcs: dict[str, tuple[int, int, int]] = {}  # name -> (offset, size, binding)
        for section_name, names in by_section.items():
            section = self.add_section(_Section(section_name, _SHT_PROGBITS,
                                                _SHF_ALLOC | _SHF_EXECINSTR))
            data = bytearray()
            relocs: list[_Reloc] = []
            for name in names:
                prog = self.programs[name]
                (_, start, stop, insns), *callees = _functions(prog)
                base = len(data)
                blob, found = _encode_function(insns, base, map_names, data_sections,
                                               section_name, name, self.spec.externs)
                data += blob
                relocs += found
                self.symbols.append(_Symbol(name, _STB_GLOBAL, _STT_FUNC, section.index,
                                            base, len(blob)))
                self.layout.program_offsets[name] = (section_name, base)
                self._ext_records(section_name, prog, start, stop, base)
                for callee, start, stop, insns in callees:
                    if callee in text_funcs:
                        continue
                    base = len(text)
                    blob, found = _encode_function(insns, base, map_names, data_sections,
                                                   ".text", callee, self.spec.externs)
                    text += blob
                    text_relocs += found
                    text_funcs[callee] = (base, len(blob), _binding(prog, start))
                    self._ext_records(".text", prog, start, stop, base)
            section.data = bytes(data)
            out.append((section, relocs))
        if text_funcs:
            section = self.add_section(_Section(".text", _SHT_PROGBITS,
                                                _SHF_ALLOC | _SHF_EXECINSTR, bytes(text)))
            for callee, (base, size, bind) in text_funcs.items():
                symbol = _Symbol(callee, bind, _STT_FUNC, section.index, base, size)
                (self.local_symbols if bind == _STB_LOCAL else self.symbols).append(symbol)
            out.append((section, text_relocs))
        return out

    def _ext_records(self, section: str, prog: ProgramSpec, start: int, stop: int,
                     base: int) -> None:
        """The ext info records of ``prog``'s slots [start, stop), placed at byte ``base``
        of ``section``."""
        func, line, core = self.ext.setdefault(section, ([], [], []))
        func += [(base + (r.insn_off - start) * 8, r) for r in prog.func_info
                 if start <= r.insn_off < stop]
        line += [(base + (r.insn_off - start) * 8, r) for r in prog.line_info
                 if start <= r.insn_off < stop]
        core += [(base + (r.insn_off - start) * 8, r) for r in prog.core_relos
                 if start <= r.insn_off < stop]

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
        if datasec is None:
            return 0
        s = self.add_section(_Section(".maps", _SHT_PROGBITS, _SHF_WRITE | _SHF_ALLOC,
                                      bytes(datasec.size)))
        for info in datasec.vars:
            self.symbols.append(_Symbol(info.type.name, _STB_GLOBAL, _STT_OBJECT, s.index,
                                        info.offset, info.size))
            declared = self.maps.get(info.type.name)
            if declared is not None and declared.contents:
                self.maps_relocs += self._initial_values(declared, info, defined)
        self.maps_section = s
        return s.index

    def _initial_values(self, m: MapSpec, info: VarSecinfo, defined: set[str]
                        ) -> list[_Reloc]:
        """A prog array's programs or a map of maps' maps, as libbpf takes them: an
        ``R_BPF_64_ABS64`` per slot of the definition's ``values`` array."""
        definition = skip_qualifiers(info.type.type) if isinstance(info.type, Var) else None
        values = next((member for member in getattr(definition, "members", ())
                       if member.name == "values"), None)
        if values is None:
            raise ELFError(f"map {m.name!r} has initial contents but its BTF definition no "
                           "'values' array")
        relocs: list[_Reloc] = []
        for index, target in m.contents:
            if not isinstance(index, int) or not isinstance(target, str):
                raise ELFError(f"map {m.name!r}: only programs and maps by name can be "
                               "initial values in an object")
            kind = "prog" if target in self.programs else "mapref" if target in defined \
                else None
            if kind is None:
                raise ELFError(f"map {m.name!r}: initial value {target!r} is no program or "
                               "map written to the object")
            relocs.append((info.offset + values.bit_offset // 8 + 8 * index, target, kind))
        return relocs

    # -- BTF -----------------------------------------------------------------------------

    def _btf(self, spec: BTFSpec, code: list[tuple[_Section, list[_Reloc]]]
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
            func_recs, line_recs, core_recs = self.ext.get(section.name, ([], [], []))
            f_recs = [struct.pack("<II", at, spec.type_id(f.type)) for at, f in func_recs]
            l_recs = [struct.pack("<IIII", at, offsets[r.file_name], offsets[r.line_text],
                                  r.line << 10 | min(r.column, 1023)) for at, r in line_recs]
            c_recs = [struct.pack("<IIII", at, spec.type_id(c.type), offsets[c.access_str],
                                  int(c.kind)) for at, c in core_recs]
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
