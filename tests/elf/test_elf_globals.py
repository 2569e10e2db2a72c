"""Global data, externs, license and version of tests/bpf/elf_globals.bpf.c."""

from __future__ import annotations

from pathlib import Path

from pybpf.asm.opcodes import PseudoSrc
from pybpf.btf import Datasec
from pybpf.spec import CollectionSpec, ExternKind, MapType

from . import llvm_tools


def test_license_and_version(globals_spec: CollectionSpec):
    assert globals_spec.license == "GPL"
    assert globals_spec.kernel_version == 0x060C00
    program = globals_spec.programs["read_globals"]
    assert (program.license, program.kernel_version) == ("GPL", 0x060C00)


def test_every_data_section_is_a_one_entry_array(globals_spec: CollectionSpec):
    expected = {".data": (12, False), ".rodata": (12, True), ".bss": (24, False),
                ".data.custom": (4, False), ".rodata.custom": (2, True),
                ".kconfig": (8, True)}
    got = {name: (m.value_size, m.readonly) for name, m in globals_spec.maps.items()}
    assert got == expected
    for m in globals_spec.maps.values():
        assert (m.type, m.key_size, m.max_entries, m.section) == (MapType.ARRAY, 4, 1, m.name)
        assert len(m.data) == m.value_size


def test_initial_images(globals_spec: CollectionSpec):
    maps = globals_spec.maps
    assert maps[".data"].data[:8] == (7).to_bytes(8, "little")       # counter
    assert maps[".data"].data[8:12] == (9).to_bytes(4, "little")     # static hidden
    assert maps[".rodata"].data[:4] == (42).to_bytes(4, "little")    # config_pid
    assert maps[".rodata"].data[4:12] == b"pybpf\0\0\0"              # banner
    assert maps[".bss"].data == bytes(24)
    assert maps[".data.custom"].data == (0x11223344).to_bytes(4, "little")
    assert maps[".rodata.custom"].data == (0x5566).to_bytes(2, "little")


def test_datasecs_are_completed_with_sizes_and_offsets(globals_spec: CollectionSpec,
                                                       globals_path: Path):
    """clang leaves DATASEC size 0 and offsets 0; they now match llvm-objdump's symbols."""
    symbols = {s.name: s for s in llvm_tools.symbols(globals_path)}
    for name in (".data", ".rodata", ".bss"):
        datasec = globals_spec.maps[name].value_type
        assert isinstance(datasec, Datasec) and datasec.size == globals_spec.maps[name].value_size
        for info in datasec.vars:
            assert info.offset == symbols[info.type.name].value, info.type.name


def test_variable_loads_carry_section_and_offset(globals_spec: CollectionSpec,
                                                 globals_path: Path):
    symbols = {s.name: s for s in llvm_tools.symbols(globals_path)}
    loads = [i for i in globals_spec.programs["read_globals"].instructions if i.reference]
    relocs = [r for r in llvm_tools.relocations(globals_path) if r.section == "socket"]
    assert len(loads) == len(relocs)
    for insn, rel in zip(loads, relocs):
        assert insn.src == PseudoSrc.MAP_VALUE
        assert insn.imm & 0xFFFF_FFFF == 0  # the loader puts the map fd there
        if rel.symbol in globals_spec.externs:
            assert insn.reference == ".kconfig"
            assert insn.imm >> 32 == globals_spec.externs[rel.symbol].offset
        elif rel.symbol.startswith("."):  # section symbol (static variable): offset in imm
            assert insn.reference == rel.symbol and insn.imm >> 32 == 8  # hidden
        else:
            sym = symbols[rel.symbol]
            assert (insn.reference, insn.imm >> 32) == (sym.section, sym.value), rel.symbol


def test_kconfig_externs_are_listed_for_the_loader(globals_spec: CollectionSpec):
    externs = globals_spec.externs
    assert set(externs) == {"LINUX_KERNEL_VERSION", "CONFIG_BPF_SYSCALL"}
    version, syscall = externs["LINUX_KERNEL_VERSION"], externs["CONFIG_BPF_SYSCALL"]
    assert (version.kind, version.offset, version.size, version.weak) == (
        ExternKind.KCONFIG, 0, 4, False)
    assert (syscall.kind, syscall.offset, syscall.size, syscall.weak) == (
        ExternKind.KCONFIG, 4, 1, True)
    datasec = globals_spec.maps[".kconfig"].value_type
    assert {i.type.name: i.offset for i in datasec.vars} == {
        "LINUX_KERNEL_VERSION": 0, "CONFIG_BPF_SYSCALL": 4}


def test_spec_prints_readably(globals_spec: CollectionSpec, maps_spec: CollectionSpec):
    text = str(globals_spec)
    assert "map .rodata: ARRAY key=4 value=12 max_entries=1 section=.rodata readonly" in text
    assert "extern CONFIG_BPF_SYSCALL: KCONFIG offset=4 size=1 weak" in text
    assert "program read_globals: SOCKET_FILTER section=socket insns=47 relocations=10" in text
    assert "  [1] = tail_a" in str(maps_spec)
