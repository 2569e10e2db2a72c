"""Object BTF made loadable (sanitised, line strings appended) and kernel externs resolved."""

from __future__ import annotations

import struct

import pytest

from pybpf import load_collection_spec
from pybpf.btf import (
    Builder,
    Datasec,
    Func,
    FuncProto,
    Int,
    Param,
    Ptr,
    Spec,
    Var,
    VarSecinfo,
    Void,
)
from pybpf.btf.loadable import line_strings, pack_line_info, prepare_btf, with_strings
from pybpf.btf.types import FuncLinkage, VarLinkage
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.collection import load
from pybpf.kernel.ksyms import read_kallsyms
from tests.bpfobjs import build_object


def _ksyms_btf() -> Spec:
    """BTF shaped like clang's for ``extern`` kfuncs and untyped ksyms in ``.ksyms``."""
    u32 = Int("unsigned int", 4)
    kfunc = Func("bpf_some_kfunc", FuncProto(u32, [Param("", Ptr(u32))]), FuncLinkage.EXTERN)
    untyped = Var("some_symbol", Void(), VarLinkage.GLOBAL_EXTERN)
    b = Builder()
    b.add(Datasec(".ksyms", 0, [VarSecinfo(kfunc, 0, 0), VarSecinfo(untyped, 0, 1)]))
    return b.spec("ksyms test")


def test_strings_are_appended_without_moving_the_others():
    spec = _ksyms_btf()
    blob, offsets = with_strings(spec.encode(), ["file.c", "return 0;", "some_symbol", ""])
    again = Spec.from_bytes(blob)
    for text, offset in offsets.items():
        assert again.string_at(offset) == text
    assert offsets["some_symbol"] < len(spec.encode())  # an existing string is reused
    assert again.find("bpf_some_kfunc", Func).name == "bpf_some_kfunc"


def test_sanitising_leaves_the_users_spec_alone():
    spec = _ksyms_btf()
    loadable = prepare_btf(spec)
    assert loadable.sanitized
    kfunc = spec.find("bpf_some_kfunc", Func)
    assert kfunc.linkage == FuncLinkage.EXTERN and kfunc.type.params[0].name == ""
    fixed = Spec.from_bytes(loadable.blob)
    fixed_kfunc = fixed.find("bpf_some_kfunc", Func)
    assert fixed_kfunc.linkage == FuncLinkage.GLOBAL
    assert fixed_kfunc.type.params[0].name == "arg0"
    ksyms = fixed.find(".ksyms", Datasec)
    assert all(isinstance(v.type, Var) for v in ksyms.vars)
    assert [(v.offset, v.size) for v in ksyms.vars] == [(0, 4), (4, 4)]


def test_line_info_records_point_at_their_strings():
    spec = load_collection_spec(build_object("coll_bad"))
    programs = list(spec.programs.values())
    loadable = prepare_btf(spec.btf, line_strings(programs))
    parsed = Spec.from_bytes(loadable.blob)
    records = programs[0].line_info
    packed = pack_line_info(records, loadable.string_offsets)
    assert len(packed) == 16 * len(records)
    insn_off, file_off, line_off, line_col = struct.unpack_from("<IIII", packed)
    assert insn_off == records[0].insn_off
    assert parsed.string_at(file_off) == records[0].file_name
    assert parsed.string_at(line_off) == records[0].line_text
    assert line_col >> 10 == records[0].line


@pytest.mark.kernel
def test_kfuncs_and_ksyms_resolve_and_the_btf_loads():
    with load(build_object("coll_externs")) as coll:
        assert coll.warnings == [] and coll.btf_fd is not None
        assert coll.programs["ksym_addresses"].test_run(bytes(64)).retval == 1
        addresses = coll.maps["addresses"]
        assert struct.unpack("<Q", addresses[0])[0] == read_kallsyms()["schedule_tail"]
        assert addresses[1] == bytes(8)  # the weak symbol the kernel lacks
        # the BTF the programs carry is ours: the kernel knows its id
        assert coll.programs["use_kfuncs"].info().btf_id > 0
        assert bpfsys.btf_get_next_id(0) is not None
