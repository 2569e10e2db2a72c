"""Build a :class:`CollectionSpec` from a clang ``-target bpf`` object file.

The steps, each in its own module:

1. :mod:`.reader`: sections, symbols, relocations (safe against corrupt input);
2. BTF: ``.BTF`` parsed by :mod:`pybpf.btf`, DATASECs completed by :mod:`.btf_fixup`;
3. maps: ``.maps`` (:mod:`.btf_maps`), ``maps`` (:mod:`.legacy_maps`), global data
   (:mod:`.globaldata`) and ``.kconfig`` externs (:mod:`.externs`);
4. code: functions (:mod:`.functions`), relocations (:mod:`.relocations`), one instruction
   list per program with its subprograms appended (:mod:`.linker`);
5. ``.BTF.ext`` records moved into each program (:mod:`.ext_info`).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from ..asm.opcodes import CallSrc, PseudoSrc
from ..btf import Spec as BTFSpec
from ..btf.ext import parse_ext
from ..spec import CollectionSpec, ExternKind, ExternSpec, MapSpec, ProgramSpec
from ..spec.sections import classify_section
from .btf_fixup import fix_datasecs, mark_hidden_subprograms_static
from .btf_maps import MAPS_SECTION, read_btf_maps
from .ext_info import attach_line_sources, program_ext_info
from .externs import collect_externs
from .functions import CodeLayout, Function, split_functions
from .globaldata import data_section_map, is_data_section
from .legacy_maps import LEGACY_MAPS_SECTION, read_legacy_maps
from .linker import callees, link_program
from .reader import ObjectFile, Section, read_object
from .relocations import CALL_OPCODE, RelocationTargets, apply_relocations, resolve_local_calls

LICENSE_SECTION = "license"
VERSION_SECTION = "version"
BTF_SECTION = ".BTF"
BTF_EXT_SECTION = ".BTF.ext"


def load_collection_spec(path_or_bytes: str | Path | bytes | bytearray | memoryview
                         ) -> CollectionSpec:
    """Read a BPF ELF object (a path, or its bytes) into a :class:`CollectionSpec`.

    Programs are named after their function symbols; each holds its subprograms appended
    (see :mod:`pybpf.elf.linker`). Maps are keyed by name: BTF/legacy maps by their variable
    name, global data by section name (``.data``, ``.rodata.str1.1``...), plus ``.kconfig``.
    ``ProgramSpec.func_info``/``line_info``/``core_relos`` offsets are instruction SLOTS
    into the program's own instruction list.

    Raises :class:`ELFError` (naming file, section and byte offset) or :class:`BTFError` for
    corrupt, truncated or unsupported input; never another exception for bad bytes.
    """
    obj = read_object(path_or_bytes)
    return _Builder(obj).build()


class _Builder:
    def __init__(self, obj: ObjectFile):
        self.obj = obj
        self.spec = CollectionSpec()
        self.btf: Any = None
        self.targets = RelocationTargets()

    def build(self) -> CollectionSpec:
        self._read_license_and_version()
        self._read_btf()
        self._read_maps()
        self._read_global_data()
        externs = collect_externs(self.obj, self.btf)
        self.targets.kconfig_offsets = externs.kconfig_offsets
        self.targets.ksyms = externs.ksyms
        self.targets.untyped_ksyms = externs.untyped_ksyms
        self.spec.externs = externs.specs
        if externs.kconfig_map is not None:
            self.spec.maps[externs.kconfig_map.name] = externs.kconfig_map
        self._read_programs()
        return self.spec

    # ---- metadata -----------------------------------------------------------------------

    def _read_license_and_version(self) -> None:
        license_section = self.obj.section_by_name(LICENSE_SECTION)
        if license_section is not None:
            text = license_section.data.split(b"\0", 1)[0]
            self.spec.license = text.decode("ascii", errors="replace")
        version_section = self.obj.section_by_name(VERSION_SECTION)
        if version_section is not None:
            if len(version_section.data) != 4:
                raise self.obj.error(f"version section must hold one u32, not "
                                     f"{len(version_section.data)} bytes",
                                     section=version_section)
            self.spec.kernel_version = struct.unpack("<I", version_section.data)[0]

    def _read_btf(self) -> None:
        btf_section = self.obj.section_by_name(BTF_SECTION)
        if btf_section is None:
            return
        self.btf = BTFSpec.from_bytes(btf_section.data, name=f"{self.obj.name}: .BTF")
        fix_datasecs(self.obj, self.btf)
        mark_hidden_subprograms_static(self.obj, self.btf)
        self.spec.btf = self.btf

    # ---- maps -----------------------------------------------------------------------------

    def _add_maps(self, section: Section, found: list[tuple[int, MapSpec]]) -> None:
        for offset, m in found:
            if m.name in self.spec.maps:
                raise self.obj.error(f"two maps are named {m.name!r}", section=section,
                                     offset=offset)
            self.spec.maps[m.name] = m
            self.targets.maps[(section.index, offset)] = m.name

    def _read_maps(self) -> None:
        btf_maps = self.obj.section_by_name(MAPS_SECTION)
        if btf_maps is not None:
            self._add_maps(btf_maps, read_btf_maps(self.obj, btf_maps, self.btf))
        legacy = self.obj.section_by_name(LEGACY_MAPS_SECTION)
        if legacy is not None:
            self._add_maps(legacy, read_legacy_maps(self.obj, legacy))

    def _read_global_data(self) -> None:
        for section in self.obj.sections:
            if is_data_section(section) and section.size:
                if section.name in self.spec.maps:
                    raise self.obj.error(f"a map is already named {section.name!r}",
                                         section=section)
                self.spec.maps[section.name] = data_section_map(self.obj, section, self.btf)
                self.targets.data_sections[section.index] = section.name

    # ---- programs -------------------------------------------------------------------------

    def _read_programs(self) -> None:
        code = [s for s in self.obj.sections if s.is_code and s.size]
        layout = split_functions(self.obj, code)
        relocated = apply_relocations(self.obj, layout, self.targets, code)
        resolve_local_calls(self.obj, layout, relocated)
        ext = self._read_btf_ext()
        self._ext_cache: dict[Any, Any] = {}
        for entry in self._entry_points(layout, code):
            self._add_program(entry, layout, ext)
        self._note_kernel_externs()

    def _read_btf_ext(self) -> Any:
        section = self.obj.section_by_name(BTF_EXT_SECTION)
        if section is None or self.btf is None:
            return None
        return parse_ext(section.data, self.btf, name=f"{self.obj.name}: .BTF.ext")

    def _entry_points(self, layout: CodeLayout, code: list[Section]) -> list[Function]:
        """Functions that are programs: those of program sections (not .text) except
        static functions that something calls, which are subprograms. An uncalled static
        function in a program section is a program, as in libbpf."""
        called = {name for func in layout.functions.values() for name in callees(func)}
        entries: list[Function] = []
        for section in code:
            if section.name == ".text":
                continue
            functions = layout.in_section(section.index)
            if not functions:
                raise self.obj.error("code section without function symbols",
                                     section=section)
            entries.extend(f for f in functions if not (f.is_static and f.name in called))
        return entries

    def _add_program(self, entry: Function, layout: CodeLayout, ext: Any) -> None:
        linked = link_program(entry, layout)
        kind = classify_section(entry.section.name)
        program = ProgramSpec(
            name=entry.name, section=entry.section.name, type=kind.type,
            attach_type=kind.attach_type, attach_to=kind.attach_to,
            instructions=linked.instructions, license=self.spec.license,
            kernel_version=self.spec.kernel_version, flags=kind.flags, btf=self.btf,
        )
        if ext is not None:
            func_info, line_info, core_relos = program_ext_info(ext, linked, self._ext_cache)
            program.func_info, program.line_info, program.core_relos = (
                func_info, line_info, core_relos)
            attach_line_sources(linked, line_info)
            program.instructions = linked.instructions
        self.spec.programs[program.name] = program

    def _note_kernel_externs(self) -> None:
        """List kfuncs and ksyms the code uses that BTF did not already describe."""
        for program in self.spec.programs.values():
            for insn in program.instructions:
                if insn.reference is None or insn.reference in self.spec.externs:
                    continue
                if insn.opcode == CALL_OPCODE and insn.src == CallSrc.KFUNC:
                    self.spec.externs[insn.reference] = ExternSpec(insn.reference,
                                                                   ExternKind.KFUNC)
                elif insn.src == PseudoSrc.BTF_ID and insn.is_wide:
                    self.spec.externs[insn.reference] = ExternSpec(insn.reference,
                                                                   ExternKind.KSYM)
