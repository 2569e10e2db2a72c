"""``.BTF.ext`` from a clang object, and our raw text against ``bpftool btf dump``."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pybpf import btf
from pybpf.btf import Func, Spec, Struct
from pybpf.btf.ext import CORERelocKind, parse_ext
from pybpf.btf.raw import raw_lines
from pybpf.errors import BTFError
from tests.btf.helpers import VMLINUX, bpftool_dump, needs_vmlinux, object_btf

PROG_SECTION = "tracepoint/syscalls/sys_enter_getpid"


def _spec_and_ext():
    path, btf_bytes, ext_bytes = object_btf("btf_kinds")
    spec = Spec.from_bytes(btf_bytes, name=str(path))
    return spec, ext_bytes


def test_func_line_and_core_infos_of_a_clang_object():
    spec, ext_bytes = _spec_and_ext()
    ext = parse_ext(ext_bytes, spec)
    funcs = ext.func_infos[PROG_SECTION]
    assert next((f.insn_off % 8, f.type.name) for f in funcs) == (0, "btf_prog")
    assert [f.type.name for f in ext.func_infos[".text"]] == ["btf_helper"]  # subprogram
    assert all(isinstance(f.type, Func) for f in funcs)
    lines = ext.line_infos[PROG_SECTION]
    assert lines[0].insn_off == 0 and lines[0].file_name.endswith("btf_kinds.bpf.c")
    assert any("bpf_get_current_task" in li.line_text for li in lines)
    source = (Path(__file__).parents[1] / "bpf" / "btf_kinds.bpf.c").read_text().splitlines()
    for li in lines:  # line numbers count from 1; clang marks compiler-made code line 0
        assert li.line == 0 or source[li.line - 1] == li.line_text
    assert (lines[0].line, lines[0].column) == (50, 45)
    relos = ext.core_relos[PROG_SECTION]
    kinds = {r.kind for r in relos}
    assert {CORERelocKind.FIELD_BYTE_OFFSET, CORERelocKind.FIELD_EXISTS,
            CORERelocKind.TYPE_SIZE, CORERelocKind.ENUMVAL_VALUE} <= kinds
    pid = next(r for r in relos if r.kind == CORERelocKind.FIELD_BYTE_OFFSET)
    assert isinstance(pid.type, Struct) and pid.type.name == "task_struct___local"
    assert pid.access_str == "0:0" and pid.insn_off % 8 == 0
    enumval = next(r for r in relos if r.kind == CORERelocKind.ENUMVAL_VALUE)
    assert enumval.type.name == "btf_color" and enumval.access_str == "1"


def _patched(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4:]


def test_bad_ext_records_raise_btf_error_with_offsets():
    spec, ext_bytes = _spec_and_ext()
    hdr_len, func_off = struct.unpack_from("<II", ext_bytes, 4)
    func_area = hdr_len + func_off
    with pytest.raises(BTFError, match="record size 4"):
        parse_ext(_patched(ext_bytes, func_area, 4), spec)
    with pytest.raises(BTFError, match="run past"):
        parse_ext(_patched(ext_bytes, func_area + 8, 1000), spec)  # num_info of block 1
    with pytest.raises(BTFError, match="type reference"):
        parse_ext(_patched(ext_bytes, func_area + 16, 99999), spec)  # first record's type
    with pytest.raises(BTFError, match="offset 0x0: header truncated"):
        parse_ext(ext_bytes[:10], spec)
    for cut in range(len(ext_bytes)):
        try:
            parse_ext(ext_bytes[:cut], spec)
        except BTFError:
            pass


def test_raw_lines_match_bpftool_on_a_clang_object():
    path, btf_bytes, _ = object_btf("btf_kinds")
    spec = Spec.from_bytes(btf_bytes)
    ours = [line for i in range(1, len(spec)) for line in raw_lines(spec, i)]
    assert ours == bpftool_dump(str(path)).splitlines()


@needs_vmlinux
def test_raw_lines_match_bpftool_on_vmlinux():
    spec = btf.load_kernel_spec()
    ours = [line for i in range(1, len(spec)) for line in raw_lines(spec, i)]
    theirs = bpftool_dump(VMLINUX).splitlines()
    assert len(ours) == len(theirs)
    mismatches = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert mismatches == []
