"""The spelling type checkers accept, ``Annotated[python_type, lang_type]``, declares the same
struct fields as the lang type alone; to a type checker pybpf.lang's scalars are ints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, assert_type

from pybpf.lang import bytes16, string, struct, u8, u16, u32
from pybpf.lang.types import ArrayType, IntType, type_of


class Plain(struct):
    pid: u32
    comm: bytes16
    path: string(64)  # the older spelling, which type checkers reject
    daddr: u8[16]
    port: u16


class Checked(struct):
    pid: u32
    comm: bytes16
    path: Annotated[bytes, string(64)]
    daddr: Annotated[list[int], u8[16]]
    port: u16


def test_annotated_fields_lay_out_as_the_lang_types_do() -> None:
    plain, checked = Plain.__bpf_type__, Checked.__bpf_type__
    assert [(f.name, f.type.name, f.offset) for f in plain.fields.values()] == \
        [(f.name, f.type.name, f.offset) for f in checked.fields.values()]
    assert (plain.size, plain.align) == (checked.size, checked.align) == (104, 4)
    daddr = checked.fields["daddr"].type
    assert isinstance(daddr, ArrayType) and daddr.count == 16 and not daddr.is_string
    assert isinstance(checked.fields["path"].type, ArrayType)
    assert checked.fields["path"].type.is_string


def test_a_record_decodes_to_the_annotated_python_types() -> None:
    raw = Checked(pid=7, comm=b"sh", path=b"/bin/sh", daddr=list(range(16)), port=80).pack()
    value = Checked.unpack(raw)
    assert (value.pid, value.comm, value.path, value.daddr, value.port) == \
        (7, b"sh", b"/bin/sh", list(range(16)), 80)


def test_scalars_are_lang_types_at_run_time() -> None:
    assert isinstance(type_of(u32), IntType) and u32(-1) == 0xFFFF_FFFF
    assert type_of(Annotated[bytes, string(8)]).size == 8
    if TYPE_CHECKING:
        assert_type(u32(5), int)
