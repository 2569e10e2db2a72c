"""The prebuilt CO-RE demo object: up to date with its source, and relocatable as is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pybpf.btf import load_kernel_spec
from pybpf.btf.core import format_results, relocate_collection
from pybpf.elf import load_collection_spec
from tests.bpfobjs import build_object

PREBUILT = Path(__file__).parent.parent / "bpf" / "prebuilt" / "core_demo.bpf.o"
SECTIONS = ("tracepoint/syscalls/sys_enter_execve", ".BTF.ext", ".maps", "license")


def _sections(path: Path) -> dict[str, bytes]:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        return {name: elf.get_section_by_name(name).data() for name in SECTIONS}


@pytest.mark.clang
def test_prebuilt_object_matches_its_source():
    # code and relocation records must be what clang makes of core_demo.bpf.c today
    # (.BTF itself holds build paths, so it is left out)
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
