"""Parsing and lookups: hand-built blobs for every kind, and the running kernel's BTF."""

from __future__ import annotations

import os
import struct

import pytest

from pybpf import btf
from pybpf.btf import (
    Array,
    Builder,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Float,
    Func,
    FuncLinkage,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Member,
    Param,
    Ptr,
    Restrict,
    Spec,
    Struct,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarLinkage,
    VarSecinfo,
    Void,
    Volatile,
)
from pybpf.errors import BTFError

VMLINUX = "/sys/kernel/btf/vmlinux"
needs_vmlinux = pytest.mark.skipif(not os.path.exists(VMLINUX),
                                   reason="the running kernel exposes no BTF")


def _header(type_len: int, str_len: int) -> bytes:
    return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, type_len, type_len, str_len)


def _raw_blob(types: list[int], strings: bytes) -> bytes:
    body = struct.pack(f"<{len(types)}I", *types)
    return _header(len(body), len(strings)) + body + strings


def test_hand_encoded_records_decode_to_every_field():
    # strings: 0 "", 1 "int", 5 "s", 7 "a", 9 "b", 11 "E", 13 "X", 15 "fn"
    strings = b"\0int\0s\0a\0b\0E\0X\0fn\0"
    words = [
        1, 1 << 24, 4, (1 << 24) | 32,                        # [1] INT int size 4 signed
        5, (4 << 24) | (1 << 31) | 2, 4,                      # [2] STRUCT s, kind_flag, 2 members
        7, 1, (3 << 24) | 0,                                  #   a: int:3 at bit 0
        9, 1, (5 << 24) | 3,                                  #   b: int:5 at bit 3
        11, (6 << 24) | (1 << 31) | 1, 4, 13, 0xFFFF_FFFF,    # [3] ENUM E signed, X = -1
        0, (13 << 24) | 1, 1, 0, 0,                           # [4] FUNC_PROTO int (...)
        15, (12 << 24) | 1, 4,                                # [5] FUNC fn global
        5, (7 << 24) | (1 << 31), 0,                          # [6] FWD union s
    ]
    spec = Spec.from_bytes(_raw_blob(words, strings))
    assert len(spec) == 7
    i = spec.type_by_id(1)
    assert (i.name, i.size, i.bits, i.offset, i.encoding) == ("int", 4, 32, 0, btf.SIGNED)
    s = spec.type_by_id(2)
    assert isinstance(s, Struct) and s.kind == Kind.STRUCT
    assert [(m.name, m.bit_offset, m.bitfield_size) for m in s.members] == [("a", 0, 3),
                                                                             ("b", 3, 5)]
    assert s.members[0].type is i
    e = spec.type_by_id(3)
    assert e.signed and e.values == [EnumValue("X", -1)]
    proto = spec.type_by_id(4)
    assert proto.return_type is i and proto.variadic
    fn = spec.type_by_id(5)
    assert fn.linkage == FuncLinkage.GLOBAL and fn.type is proto
    fwd = spec.type_by_id(6)
    assert fwd.kind == "union" and fwd.kind == Kind.FWD
    assert spec.type_by_id(0) is Void()
    assert spec.type_id(s) == 2 and spec.type_id(Void()) == 0
    assert [spec.type_id(t) for t in spec] == list(range(7))


def _every_kind() -> list:
    u32 = Int("unsigned int", 4)
    s64 = Int("long long", 8, btf.SIGNED)
    node = Struct("node", 16, [])
    node_ptr = Ptr(node)
    node.members = [Member("next", node_ptr, 0), Member("flag", u32, 64, 1),
                    Member("rest", u32, 65, 31), Member("", Union("", 4, [Member("x", u32)]), 96)]
    proto = FuncProto(s64, [Param("n", Const(node_ptr)), Param("", Void())])
    var = Var("counter", Volatile(u32), VarLinkage.GLOBAL_ALLOCATED)
    return [
        node, Typedef("node_t", node), Array(Restrict(node_ptr), u32, 3),
        Enum("color", 4, [EnumValue("RED", 0), EnumValue("BLUE", 7)]),
        Enum64("big", 8, [EnumValue("HUGE", 1 << 40)], signed=False),
        Fwd("later", "union"), Func("do_it", proto, FuncLinkage.STATIC), var,
        Datasec(".bss", 4, [VarSecinfo(var, 0, 4)]), Float("double", 8),
        DeclTag("user", node, 1), Ptr(TypeTag("percpu", u32)),
    ]


def test_every_kind_round_trips_through_builder():
    b = Builder()
    for t in _every_kind():
        b.add(t)
    spec = b.spec()
    node = spec.find("node", Struct)
    assert [m.name for m in node.members] == ["next", "flag", "rest", ""]
    assert node.members[0].type.target is node
    assert node.members[1].bitfield_size == 1 and node.members[2].bit_offset == 65
    assert isinstance(node.members[3].type, Union)
    assert spec.find("node_t").type is node
    assert spec.find("big", Enum64).values == [EnumValue("HUGE", 1 << 40)]
    assert spec.find("later").kind == "union"
    fn = spec.find("do_it", Func)
    assert fn.type.params[0].name == "n" and fn.type.variadic
    assert spec.find("counter", Var).linkage == VarLinkage.GLOBAL_ALLOCATED
    sec = spec.find(".bss", Datasec)
    assert sec.vars[0].type is spec.find("counter") and sec.vars[0].size == 4
    tag = spec.find("user", DeclTag)
    assert tag.type is node and tag.component_idx == 1
    assert spec.find("percpu", TypeTag).type.name == "unsigned int"
    assert spec.find("double", Float).size == 8
    arr = next(t for t in spec if isinstance(t, Array))
    assert arr.nelems == 3 and isinstance(arr.type, Restrict)
    # encode() again gives the same ids
    again = Spec.from_bytes(spec.encode())
    assert [type(t) for t in again] == [type(t) for t in spec]


def test_find_and_lookup_errors():
    spec = Builder().spec() if False else _small_spec()
    with pytest.raises(KeyError):
        spec.find("nope")
    with pytest.raises(KeyError):
        spec.find("node", Enum)
    assert spec.types_by_name("nope") == []
    with pytest.raises(BTFError, match="out of range"):
        spec.type_by_id(len(spec))
    with pytest.raises(KeyError):
        spec.type_id(Int("int", 4))


def _small_spec() -> Spec:
    b = Builder()
    for t in _every_kind():
        b.add(t)
    return b.spec()


def test_name_lookups_agree_before_and_after_the_dict_index():
    spec = _small_spec()
    first = [spec.type_id(t) for t in spec.types_by_name("node")]
    for _ in range(40):  # crosses the threshold where the dict index is built
        assert [spec.type_id(t) for t in spec.types_by_name("node")] == first
    assert spec._name_index is not None


def test_a_spec_with_a_record_index_answers_from_it_and_builds_no_name_dict():
    # (the kernel's BTF has a record index: a name dict built beside it went unused, and
    # building it for 100k+ types cost ~30 ms of the first kfunc program's verification)
    plain = _small_spec()
    indexed = Spec.from_bytes(plain.encode(), index=plain.record_index())
    for name in ("node", "int", "no_such_name"):
        want = [plain.type_id(t) for t in plain.types_by_name(name)]
        for _ in range(40):
            assert [indexed.type_id(t) for t in indexed.types_by_name(name)] == want
    assert indexed._name_index is None


def test_split_btf_continues_base_ids_and_strings():
    base = _small_spec()
    node = base.find("node", Struct)
    b = Builder(base=base)
    wrapper = Struct("wrapper", 16, [Member("inner", node, 0)])
    new_id = b.add(wrapper)
    assert new_id == len(base)
    split = Spec.from_bytes(b.encode(), base=base, name="module")
    w = split.find("wrapper", Struct)
    assert split.type_id(w) == len(base)
    assert w.members[0].type is node  # resolved through the base
    assert split.find("node") is node
    assert split.type_by_id(1) is base.type_by_id(1)


def test_skip_qualifiers_sizeof_alignof():
    spec = _small_spec()
    node = spec.find("node", Struct)
    td = spec.find("node_t", Typedef)
    assert btf.skip_qualifiers(Const(Volatile(td))) is node
    assert btf.sizeof(td) == 16 and btf.alignof(td) == 8
    arr = next(t for t in spec if isinstance(t, Array))
    assert btf.sizeof(arr) == 24
    with pytest.raises(BTFError):
        btf.sizeof(Void())
    loop = Typedef("loop", Void())
    loop.type = loop
    with pytest.raises(BTFError, match="cycle"):
        btf.skip_qualifiers(loop)


@pytest.mark.parametrize("blob, problem", [
    (b"\x9f\xeb\x01", "truncated"),
    (b"\x00\x00" + bytes(30), "magic"),
    (_header(12, 1) + struct.pack("<3I", 0, 25 << 24, 0) + b"\0", "unknown BTF kind 25"),
    (_header(12, 1) + struct.pack("<3I", 0, 4 << 24 | 1, 4) + b"\0", "truncated"),
    (_header(16, 1) + bytes(8) + b"\0", "past the end"),
])
def test_bad_blobs_name_the_problem(blob, problem):
    with pytest.raises(BTFError, match=problem):
        Spec.from_bytes(blob, name="bad.btf")


@needs_vmlinux
def test_kernel_btf_lookups():
    spec = btf.load_kernel_spec()
    task = spec.find("task_struct", Struct)
    assert btf.sizeof(task) == task.size > 1000
    names = {m.name for m in task.members}
    assert {"pid", "tgid", "comm", "mm"} <= names
    comm = next(m for m in task.members if m.name == "comm")
    assert isinstance(btf.skip_qualifiers(comm.type), Array) and btf.sizeof(comm.type) == 16
    assert spec.find("u64", Typedef).type.name == "__u64"
    assert all(spec.type_id(t) == spec.type_id(t) for t in spec.types_by_name("pid"))
