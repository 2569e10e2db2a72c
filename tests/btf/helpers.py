"""Shared by the BTF tests: BTF bytes out of clang objects, bpftool's dumps of them."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from tests.bpfobjs import build_object

VMLINUX = "/sys/kernel/btf/vmlinux"
needs_vmlinux = pytest.mark.skipif(not os.path.exists(VMLINUX),
                                   reason="the running kernel exposes no BTF")


def elf_section(path: Path, name: str) -> bytes:
    """Raw bytes of one section of an ELF object (pyelftools, not our elf/ layer)."""
    with open(path, "rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        assert section is not None, f"{path} has no {name}"
        return section.data()


@cache
def object_btf(name: str) -> tuple[Path, bytes, bytes]:
    """(object path, .BTF bytes, .BTF.ext bytes) of tests/bpf/<name>.bpf.c."""
    path = build_object(name)
    return path, elf_section(path, ".BTF"), elf_section(path, ".BTF.ext")


def bpftool_or_skip() -> str:
    tool = shutil.which("bpftool")
    if tool is None:
        if os.environ.get("PYBPF_REQUIRE_KERNEL") == "1":
            pytest.fail("bpftool is missing: run scripts/setup.sh")
        pytest.skip("needs bpftool")
    return tool


@cache
def bpftool_dump(path: str, fmt: str = "raw") -> str:
    """``bpftool btf dump file PATH format FMT`` (once per session per file and format)."""
    proc = subprocess.run([bpftool_or_skip(), "btf", "dump", "file", path, "format", fmt],
                          capture_output=True, text=True, check=True)
    return proc.stdout
