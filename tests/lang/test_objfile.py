"""``pybpf compile``'s ELF objects: read back by pybpf.elf, listed like llvm-objdump lists
them, loaded by bpftool and by a libbpf C loader with the same behaviour."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybpf.asm.opcodes import LDDW_OPCODE
from pybpf.commands import compile as compile_command
from pybpf.elf.listing import objdump_listing
from pybpf.elf.loader import load_collection_spec
from pybpf.errors import CompileError, ELFError
from pybpf.lang import bpf
from pybpf.lang.objfile import write_object
from tests.lang import progs_e2e, progs_object

HERE = Path(__file__).parent
# what LLVM 14 prints as <unknown>: BPF_ST stores and sign-extending loads (cpu v4)
_LLVM14_UNKNOWN = {0x62, 0x6A, 0x72, 0x7A, 0x81, 0x89, 0x91, 0x99}


def _fields(insns):
    return [(i.opcode, i.dst, i.src, i.off, i.imm,
             i.reference if i.opcode == LDDW_OPCODE else None) for i in insns]


def _object(tmp_path: Path, *programs) -> Path:
    path = tmp_path / "prog.bpf.o"
    path.write_bytes(bpf.compile(*programs).to_object())
    return path


def test_pybpf_elf_reads_back_the_same_programs_maps_and_ext_info(tmp_path: Path) -> None:
    compiled = bpf.compile(progs_e2e.on_exec, progs_e2e.count_packets)
    spec = load_collection_spec(compiled.to_object())
    assert set(spec.programs) == {"on_exec", "count_packets"}
    assert spec.license == "GPL"
    for name, prog in spec.programs.items():
        ours = compiled.spec.programs[name]
        assert _fields(prog.instructions) == _fields(ours.instructions)
        assert (prog.section, prog.type) == (ours.section, ours.type)
        assert [(r.insn_off, r.line, r.line_text) for r in prog.line_info] == \
            [(r.insn_off, r.line, r.line_text) for r in ours.line_info]
        assert prog.func_info[0].type.name == name
    assert {r.access_str for r in spec.programs["on_exec"].core_relos} == {"0:0", "0:1"}
    for name in ("events", "exec_counts", "packets", ".bss"):
        mine, theirs = compiled.spec.maps[name], spec.maps[name]
        assert (theirs.type, theirs.key_size, theirs.value_size, theirs.max_entries) == \
            (mine.type, mine.key_size, mine.value_size, mine.max_entries)


def test_only_the_chosen_program_and_its_maps_are_written() -> None:
    compiled = bpf.compile(progs_e2e.on_exec, progs_e2e.count_packets)
    data, layout = write_object(compiled, ["count_packets"])
    spec = load_collection_spec(data)
    assert list(spec.programs) == ["count_packets"]
    assert set(spec.maps) == {"packets", ".bss"}
    assert layout.program_offsets == {"count_packets": ("xdp", 0)}
    with pytest.raises(ELFError, match="no program named 'nope'"):
        write_object(compiled, ["nope"])


@pytest.mark.skipif(shutil.which("llvm-objdump") is None, reason="needs llvm-objdump")
def test_llvm_objdump_lists_the_object_as_pybpf_does(tmp_path: Path) -> None:
    path = _object(tmp_path, progs_e2e.on_exec, progs_object.count_execs_by_parent)
    theirs = subprocess.run(["llvm-objdump", "-d", str(path)], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    ours = objdump_listing(str(path)).splitlines()
    assert len(ours) == len(theirs) and len(ours) > 20
    for our_line, their_line in zip(ours, theirs):
        if their_line.endswith("\t<unknown>"):
            assert int(their_line.split("\t")[1][:2], 16) in _LLVM14_UNKNOWN
            assert our_line.split("\t")[:2] == their_line.split("\t")[:2]
        else:
            assert our_line == their_line


def test_compile_command_writes_the_object_beside_the_file(tmp_path: Path, capsys) -> None:
    source = tmp_path / "counter.py"
    source.write_text((HERE / "progs_object.py").read_text())
    args = compile_command_args([str(source)])
    assert compile_command.run(args) == 0
    out = capsys.readouterr().out
    assert "count_execs_by_parent in tracepoint/syscalls/sys_enter_execve" in out
    spec = load_collection_spec(str(tmp_path / "counter.bpf.o"))
    assert set(spec.programs) == {"count_execs_by_parent", "xdp_count"}
    assert spec.maps[".rodata"].data == (1).to_bytes(8, "little")
    only = compile_command_args([str(source), "-o", str(tmp_path / "x.o"), "-p", "xdp_count"])
    compile_command.run(only)
    assert list(load_collection_spec(str(tmp_path / "x.o")).programs) == ["xdp_count"]


def test_compile_command_reports_bad_input_as_compile_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\nimport no_such_module_here\n")
    with pytest.raises(CompileError, match=r"bad.py:2: .*no_such_module_here"):
        compile_command.run(compile_command_args([str(bad)]))
    with pytest.raises(CompileError, match="cannot read"):
        compile_command.run(compile_command_args([str(tmp_path / "missing.py")]))


def compile_command_args(argv: list[str]):
    import argparse
    parser = argparse.ArgumentParser()
    compile_command.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.kernel
def test_bpftool_loadall_loads_every_program(tmp_path: Path) -> None:
    path = _object(tmp_path, progs_object.count_execs_by_parent, progs_object.xdp_count)
    pin = Path(f"/sys/fs/bpf/pybpf_test_objfile_{os.getpid()}")
    try:
        done = subprocess.run(["bpftool", "prog", "loadall", str(path), str(pin)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert sorted(os.listdir(pin)) == ["count_execs_by_parent", "xdp_count"]
    finally:
        shutil.rmtree(pin, ignore_errors=True)


@pytest.fixture(scope="module")
def libbpf_loader(tmp_path_factory) -> Path:
    if shutil.which("cc") is None or not Path("/usr/include/bpf/libbpf.h").exists():
        pytest.skip("needs a C compiler and libbpf-dev")
    exe = tmp_path_factory.mktemp("loader") / "loader"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(HERE / "libbpf_loader.c"), "-lbpf"],
                   check=True, capture_output=True)
    return exe


@pytest.mark.kernel
def test_libbpf_loads_relocates_and_runs_the_object_like_pybpf(tmp_path: Path,
                                                                 libbpf_loader: Path) -> None:
    path = _object(tmp_path, progs_object.count_execs_by_parent, progs_object.xdp_count)
    done = subprocess.run([str(libbpf_loader), str(path), "execs_by_parent", "3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "3"
    # pybpf's own loader, from the same file, counts the same way
    from pybpf import kernel
    with kernel.load(str(path)) as coll:
        from pybpf.kernel.links import attach_auto
        link = attach_auto(coll.programs["count_execs_by_parent"],
                           "tracepoint/syscalls/sys_enter_execve")
        try:
            for _ in range(2):
                subprocess.run(["/bin/true"], check=True)
        finally:
            link.close()
        raw = coll.maps["execs_by_parent"].lookup(os.getpid().to_bytes(4, "little"))
        assert int.from_bytes(raw, "little") == 2
