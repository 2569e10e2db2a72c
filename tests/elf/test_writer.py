"""pybpf.elf.writer: any CollectionSpec written as an object that our reader reads back
unchanged and libbpf loads as it loads the original (clang's objects and pybpf.lang's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybpf.elf import load_collection_spec
from pybpf.elf.listing import read_program_sections
from pybpf.elf.writer import write_object
from pybpf.errors import ELFError
from pybpf.lang import bpf
from pybpf.lang.objfile import object_spec
from pybpf.spec import CollectionSpec
from tests.bpfobjs import build_object
from tests.lang import progs_object

# clang objects with maps of every common kind, global data, CO-RE and line info, several
# programs per object, static and global subprograms (bpf-to-bpf calls, shared by two
# programs), callbacks (a function's address for bpf_loop), prog arrays with their
# initial programs (tail calls), __kconfig and __ksym externs, USDT (libbpf's usdt.bpf.h)
ROUND_TRIP = ["core_fields", "core_types", "readers_producers", "net_tc", "typed_maps",
              "live_attach", "coll_pinned", "minimal", "asm_kinds", "asm_loops", "vm_net",
              "vm_tail_sub", "coll_maps", "coll_core", "elf_globals", "live_usdt"]
# objects libbpf itself refuses here, read back only: maps of maps with initial inner maps,
# kfunc calls (this kernel refuses them to libbpf too)
READ_BACK_ONLY = ["elf_maps", "coll_externs", "elf_externs"]


def _insns(prog):
    # jumps may keep their label as reference (pybpf.lang's do); the offset says it all
    return [(i.opcode, i.dst, i.src, i.off, i.imm, i.reference if i.is_wide else None)
            for i in prog.instructions]


def _same(back: CollectionSpec, spec: CollectionSpec) -> None:
    assert set(back.programs) == set(spec.programs)
    assert back.license == spec.license
    for name, prog in spec.programs.items():
        got = back.programs[name]
        assert _insns(got) == _insns(prog), name
        assert (got.section, got.type, got.attach_type, got.attach_to, got.flags) == \
            (prog.section, prog.type, prog.attach_type, prog.attach_to, prog.flags)
        assert [(r.insn_off, r.type.name) for r in got.func_info] == \
            [(r.insn_off, r.type.name) for r in prog.func_info]
        assert [(r.insn_off, r.file_name, r.line, r.column) for r in got.line_info] == \
            [(r.insn_off, r.file_name, r.line, r.column) for r in prog.line_info]
        assert [(r.insn_off, r.type.name, r.access_str, r.kind) for r in got.core_relos] == \
            [(r.insn_off, r.type.name, r.access_str, r.kind) for r in prog.core_relos]
    assert {n: (e.kind, e.offset, e.size, e.weak) for n, e in back.externs.items()} == \
        {n: (e.kind, e.offset, e.size, e.weak) for n, e in spec.externs.items()}
    assert set(back.maps) == set(spec.maps)
    for name, m in spec.maps.items():
        got = back.maps[name]
        assert (got.type, got.key_size, got.value_size, got.max_entries, got.flags,
                got.pinning, got.section, got.data, got.contents) == \
            (m.type, m.key_size, m.value_size, m.max_entries, m.flags, m.pinning, m.section,
             m.data, m.contents), name


@pytest.mark.parametrize("name", ROUND_TRIP + READ_BACK_ONLY)
def test_a_clang_object_reads_back_the_same(name: str) -> None:
    spec = load_collection_spec(str(build_object(name)))
    data, layout = write_object(spec)
    _same(load_collection_spec(data), spec)
    assert set(layout.program_offsets) == set(spec.programs)


def test_a_pybpf_lang_spec_reads_back_the_same() -> None:
    compiled = bpf.compile(progs_object.count_execs_by_parent, progs_object.xdp_count)
    spec, _ = object_spec(compiled)
    data, _ = write_object(spec)
    _same(load_collection_spec(data), spec)


def test_only_the_chosen_programs_and_their_maps() -> None:
    spec = load_collection_spec(str(build_object("readers_producers")))
    data, layout = write_object(spec, ["rb_output"])
    back = load_collection_spec(data)
    assert list(back.programs) == ["rb_output"]
    assert list(layout.program_offsets) == ["rb_output"]
    with pytest.raises(ELFError, match="no program named 'nope'"):
        write_object(spec, ["nope"])


def test_called_functions_go_to_text_once(tmp_path: Path) -> None:
    spec = load_collection_spec(str(build_object("vm_net")))
    path = tmp_path / "vm_net.o"
    path.write_bytes(write_object(spec)[0])
    sections = {s.name: s for s in read_program_sections(path)}
    assert ".text" in sections
    names = [n for names in sections[".text"].symbols.values() for n in names]
    assert len(names) == len(set(names)) > 0


@pytest.mark.parametrize(("name", "why"), [
    ("elf_legacy", "no BTF definition"),   # SEC("maps") definitions
])
def test_what_cannot_be_written_yet_is_refused_by_name(name: str, why: str) -> None:
    spec = load_collection_spec(str(build_object(name)))
    with pytest.raises(ELFError, match=why):
        write_object(spec)


def _loadall(path: Path) -> tuple[int, list[str], str]:
    pin = Path(f"/sys/fs/bpf/pybpf_test_writer_{os.getpid()}")
    # libbpf pins LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf itself: remove those it made
    by_name = [Path("/sys/fs/bpf", m.name) for m in load_collection_spec(str(path)).maps.values()
               if m.pinning]
    made = [p for p in by_name if not p.exists()]
    try:
        done = subprocess.run(["bpftool", "prog", "loadall", str(path), str(pin)],
                              capture_output=True, text=True)
        return done.returncode, sorted(os.listdir(pin)) if pin.is_dir() else [], done.stderr
    finally:
        shutil.rmtree(pin, ignore_errors=True)
        for p in made:
            p.unlink(missing_ok=True)


@pytest.mark.kernel
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_libbpf_loads_the_written_object_as_it_loads_the_original(name: str,
                                                                   tmp_path: Path) -> None:
    original = build_object(name)
    written = tmp_path / f"{name}.o"
    written.write_bytes(write_object(load_collection_spec(str(original)))[0])
    theirs, ours = _loadall(original), _loadall(written)
    assert ours[:2] == theirs[:2], ours[2][-2000:]
    assert ours[0] == 0 and ours[1]


@pytest.mark.kernel
def test_libbpf_loads_a_written_pybpf_lang_spec(tmp_path: Path) -> None:
    compiled = bpf.compile(progs_object.count_execs_by_parent, progs_object.xdp_count)
    written = tmp_path / "lang.o"
    written.write_bytes(write_object(object_spec(compiled)[0])[0])
    code, loaded, err = _loadall(written)
    assert code == 0, err[-2000:]
    assert loaded == ["count_execs_by_parent", "xdp_count"]
