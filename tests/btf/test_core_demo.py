"""The prebuilt CO-RE demo object: up to date with its source, and relocatable as is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pybpf.btf import Spec, load_kernel_spec
from pybpf.btf.core import format_results, relocate_collection
from pybpf.btf.ext import parse_ext
from pybpf.elf import load_collection_spec
from tests.bpfobjs import build_object

PREBUILT = Path(__file__).parent.parent / "bpf" / "prebuilt" / "core_demo.bpf.o"
SECTIONS = ("tracepoint/syscalls/sys_enter_execve", ".maps", "license")


def _sections(path: Path) -> dict[str, object]:
    """Code, maps and license bytes, plus .BTF.ext decoded: its records point into .BTF's
    string table, whose offsets move with the checkout's path, so the records are compared
    by content (file base names, not full paths)."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        found: dict[str, object] = {name: elf.get_section_by_name(name).data()
                                    for name in SECTIONS}
        spec = Spec.from_bytes(elf.get_section_by_name(".BTF").data())
        ext = parse_ext(elf.get_section_by_name(".BTF.ext").data(), spec)
    found["func_info"] = {sec: [(i.insn_off, i.type.name) for i in infos]
                          for sec, infos in ext.func_infos.items()}
    found["line_info"] = {sec: [(i.insn_off, os.path.basename(i.file_name), i.line_text,
                                 i.line, i.column) for i in infos]
                          for sec, infos in ext.line_infos.items()}
    found["core_relos"] = {sec: [(r.insn_off, r.type.name, r.access_str, r.kind)
                                 for r in relos]
                           for sec, relos in ext.core_relos.items()}
    return found


@pytest.mark.clang
def test_prebuilt_object_matches_its_source():
    # code and relocation records must be what clang makes of core_demo.bpf.c today
    assert _sections(PREBUILT) == _sections(build_object("core_demo")), (
        "tests/bpf/prebuilt/core_demo.bpf.o is stale: copy build_object('core_demo') there")


@pytest.mark.skipif(not os.path.exists("/sys/kernel/btf/vmlinux"),
                    reason="the running kernel exposes no BTF")
def test_prebuilt_demo_relocates_against_the_running_kernel():
    coll = load_collection_spec(PREBUILT)
    relocated, results = relocate_collection(coll, load_kernel_spec())
    [prog_results] = results.values()
    assert len(prog_results) == 13
    # the invented field is poisoned, everything else found in the kernel's task_struct
    poisoned = [r for r in prog_results if r.poisoned]
    assert [r.local.accessors[-1].name for r in poisoned] == ["pybpf_optional"]
    assert all(r.target is not None for r in prog_results
               if r.local.accessors[-1].name != "pybpf_optional")
    text = format_results(prog_results)
    assert "struct task_struct.comm" in text and "poisoned" in text
    original = coll.programs["trace_exec"].instructions
    assert relocated.programs["trace_exec"].instructions != original
    assert sum(i.slots for i in relocated.programs["trace_exec"].instructions) == \
        sum(i.slots for i in original)
