"""pybpf.btf.values: BTF-typed bytes to Python objects and back.

Layouts here are built by hand (offsets as clang lays them out on x86-64); the kernel test
tests/kernel/test_typed_maps.py checks the same codec against code clang compiled.
"""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.btf import (
    BOOL,
    SIGNED,
    Array,
    Datasec,
    Enum,
    EnumValue,
    Float,
    FuncProto,
    Int,
    Member,
    Ptr,
    Struct,
    Typedef,
    Union,
    Var,
    VarSecinfo,
    Void,
)
from pybpf.btf.values import BTFCodec, EnumInt, StructValue, UnionValue, decode, encode, to_python
from pybpf.errors import BTFError, InvalidInputError
from tests.btf.helpers import object_btf

U8 = Int("unsigned char", 1)
U16 = Int("unsigned short", 2)
S16 = Int("short", 2, SIGNED)
U32 = Int("unsigned int", 4)
S32 = Int("int", 4, SIGNED)
U64 = Int("unsigned long long", 8)
CHAR_T = Int("char", 1, SIGNED)
STATE = Enum("state", 4, [EnumValue("IDLE", 0), EnumValue("BUSY", 2), EnumValue("ALIAS", 2)])
POINT = Struct("point", 4, [Member("x", S16, 0), Member("y", S16, 16)])


def _record() -> Struct:
    """struct record { u64 count; char comm[8]; enum state state; unsigned flag:1;
    unsigned level:5; int delta:6; struct point where; union { u32 word; u8 b[4]; };
    u8 mac[6]; u16 ports[3]; } — 48 bytes."""
    anon_union = Union("", 4, [Member("word", U32, 0), Member("b", Array(U8, U32, 4), 0)])
    return Struct("record", 48, [
        Member("count", U64, 0),
        Member("comm", Array(CHAR_T, U32, 8), 64),
        Member("state", STATE, 128),
        Member("flag", U32, 160, 1), Member("level", U32, 161, 5),
        Member("delta", S32, 166, 6),
        Member("where", Typedef("point_t", POINT), 192),
        Member("", anon_union, 224),
        Member("mac", Array(U8, U32, 6), 256),
        Member("ports", Array(U16, U32, 3), 304),
    ])


RECORD = _record()


def test_struct_decodes_to_an_object_with_attributes_and_a_readable_repr():
    raw = struct.pack("=Q8sIIhhI6s3H4x", 41, b"bash\0zz\0", 2, 1 | 3 << 1 | (0x3F & -5) << 6,
                      -7, 3, 0x01020304, b"\1\2\3\4\5\6", 80, 443, 0)
    assert len(raw) == 48
    value = BTFCodec(RECORD).decode(raw)
    assert isinstance(value, StructValue)
    assert (value.count, value.comm, value.flag, value.level, value.delta) == \
        (41, "bash", 1, 3, -5)
    assert value.state == 2 and value.state.name == "BUSY"  # the first name of a value
    assert (value.where.x, value.where.y) == (-7, 3)
    assert value.word == 0x01020304 and value.b == b"\4\3\2\1"  # anonymous union, C-style
    assert value.mac == b"\1\2\3\4\5\6" and value.ports == [80, 443, 0]
    assert value["comm"] == "bash" and "where" in value and "nope" not in value
    assert repr(value) == ("record(count=41, comm='bash', state=<state.BUSY: 2>, flag=1, "
                           "level=3, delta=-5, where=point(x=-7, y=3), word=16909060, "
                           "b=b'\\x04\\x03\\x02\\x01', mac=b'\\x01\\x02\\x03\\x04\\x05\\x06', "
                           "ports=[80, 443, 0])")
    assert value.members() == ["count", "comm", "state", "flag", "level", "delta", "where",
                               "word", "b", "mac", "ports"]
    with pytest.raises(AttributeError, match="record has no member 'nope'.*count, comm"):
        _ = value.nope


def test_decoded_value_edited_and_encoded_changes_only_what_was_assigned():
    codec = BTFCodec(RECORD)
    raw = bytes(range(48))
    value = codec.decode(raw)
    assert isinstance(codec.decode(raw), StructValue)
    assert codec.encode(value)[:8] == raw[:8]
    value.count += 1
    value.level = 31
    value.where.y = -1
    out = codec.encode(value)
    again = codec.decode(out)
    assert again.count == value.count and again.level == 31 and again.where.y == -1
    assert again.flag == value.flag and again.delta == value.delta  # neighbouring bits kept
    assert out[28:32] == raw[28:32]  # the union, untouched, keeps its bytes
    value.b = b"\xaa"  # assigning a union member makes it the one written
    assert codec.decode(codec.encode(value)).word & 0xFF == 0xAA


def test_mappings_encode_with_missing_members_zero_and_flattened_anonymous_members():
    codec = BTFCodec(RECORD)
    out = codec.encode({"count": 5, "comm": "sh", "state": "BUSY", "delta": -32,
                        "where": {"y": 9}, "word": 0xDEADBEEF, "ports": [1]})
    value = codec.decode(out)
    assert value.count == 5 and value.comm == "sh" and value.state.name == "BUSY"
    assert value.delta == -32 and value.where == StructValue("struct point", {"x": 0, "y": 9})
    assert value.word == 0xDEADBEEF and value.ports == [1, 0, 0] and value.mac == bytes(6)
    assert codec.encode({}) == bytes(48)
    # a dataclass-like object with the members as attributes works as well
    point = BTFCodec(POINT)

    class Where:
        def __init__(self) -> None:
            self.x, self.y = 1, -1
    assert point.encode(Where()) == struct.pack("=hh", 1, -1)


@pytest.mark.parametrize("value, match", [
    ({"count": -1 << 64}, r"record\.count.*does not fit in 64"),
    ({"level": 32}, r"record\.level.*32 does not fit in 5 unsigned bits"),
    ({"delta": 32}, r"record\.delta.*does not fit in 6 signed bits"),
    ({"comm": "123456789"}, r"record\.comm.*9 bytes do not fit in 8"),
    ({"ports": [1, 2, 3, 4]}, r"record\.ports.*4 items do not fit in 3"),
    ({"ports": [1, "x"]}, r"record\.ports\[1\].*needs an int, not str"),
    ({"state": "GONE"}, r"record\.state.*'GONE' is not a value of enum state.*IDLE, BUSY"),
    ({"where": 3}, r"record\.where.*needs a mapping"),
    ({"mac": "ab"}, r"record\.mac.*needs bytes, not str"),
    ({"colour": 1}, r"struct record has no member 'colour'"),
    ([1, 2], r"struct record needs a mapping"),
])
def test_bad_values_raise_invalid_input_naming_the_member(value, match):
    with pytest.raises(InvalidInputError, match=match):
        BTFCodec(RECORD).encode(value)


def test_scalars_enums_floats_pointers_and_bytes_pass_through():
    assert decode(U32, b"\x05\0\0\0") == 5 and encode(U32, 5) == b"\x05\0\0\0"
    assert encode(U32, -1) == b"\xff" * 4  # C's conversion to unsigned
    assert encode(U32, b"\1\2\3\4") == b"\1\2\3\4"  # raw bytes of the right size as they are
    assert decode(Int("_Bool", 1, BOOL), b"\x01") is True
    assert encode(Int("_Bool", 1, BOOL), True) == b"\x01"
    assert decode(Float("double", 8), struct.pack("=d", 1.5)) == 1.5
    assert encode(Float("float", 4), 2) == struct.pack("=f", 2.0)
    assert decode(Ptr(Void()), struct.pack("=Q", 0xFFFF8000)) == 0xFFFF8000
    signed_enum = Enum("delta", 4, [EnumValue("DOWN", -1)], signed=True)
    down = decode(signed_enum, b"\xff" * 4)
    assert isinstance(down, EnumInt) and down == -1 and str(down) == "DOWN"
    assert repr(decode(STATE, b"\x09\0\0\0")) == "9"  # a value without a name
    assert encode(signed_enum, "DOWN") == b"\xff" * 4
    with pytest.raises(InvalidInputError, match="2 bytes, unsigned int needs 4"):
        decode(U32, b"\0\0")


def test_text_keeps_any_bytes_before_the_nul_across_a_round_trip():
    comm = Array(Typedef("char_t", CHAR_T), U32, 8)
    raw = b"a\xffb\0junk"
    text = decode(comm, raw)
    assert text == "a\udcffb"
    assert encode(comm, text) == b"a\xffb" + bytes(5)
    assert encode(comm, b"12345678") == b"12345678"  # a full array needs no NUL
    assert to_python(comm, raw) == "a\ufffdb"  # JSON-safe for the CLI


def test_union_mapping_writes_the_member_given():
    u = Union("u", 8, [Member("small", U16, 0), Member("big", U64, 0)])
    assert encode(u, {"small": 0x1234}) == b"\x34\x12" + bytes(6)
    value = decode(u, struct.pack("=Q", 0x1111111122223333))
    assert isinstance(value, UnionValue) and value.small == 0x3333
    assert encode(u, value) == struct.pack("=Q", 0x1111111122223333)
    value.small = 0
    assert encode(u, value) == struct.pack("=Q", 0x1111111122220000)


def test_datasec_and_arrays_of_structs():
    section = Datasec(".bss", 12, [VarSecinfo(Var("hits", U64), 0, 8),
                                   VarSecinfo(Var("last", POINT), 8, 4)])
    codec = BTFCodec(section)
    value = codec.decode(struct.pack("=Qhh", 3, 1, 2))
    assert value.hits == 3 and value.last.y == 2
    assert codec.encode({"last": {"x": 5}}) == struct.pack("=Qhh", 0, 5, 0)
    points = Array(POINT, U32, 2)
    assert decode(points, struct.pack("=4h", 1, 2, 3, 4))[1].x == 3
    assert encode(points, [{"y": 1}]) == struct.pack("=4h", 0, 1, 0, 0)


def test_types_without_a_value_raise_btf_error():
    for t in (Void(), FuncProto(Void())):
        with pytest.raises(BTFError):
            BTFCodec(t)


def test_struct_values_hash_by_content_so_struct_keys_go_into_dicts():
    codec = BTFCodec(POINT)
    a, b = codec.decode(b"\1\0\2\0"), codec.decode(b"\1\0\2\0")
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert a != codec.decode(b"\0\0\0\0")
    assert a.to_dict() == {"x": 1, "y": 2}


def test_to_python_is_the_json_data_the_cli_prints():
    raw = struct.pack("=Q8sIIhhI6s3H4x", 1, b"sh", 9, 1, 2, 3, 4, b"\1" * 6, 5, 6, 7)
    data = to_python(RECORD, raw)
    assert data["state"] == 9 and data["comm"] == "sh" and data["mac"] == [1] * 6
    assert data["where"] == {"x": 2, "y": 3} and data["word"] == 4 and data["b"] == [4, 0, 0, 0]
    assert json.loads(json.dumps(data)) == data
    assert to_python(STATE, b"\2\0\0\0") == "BUSY"
    assert to_python(RECORD, b"\1")["count"] == 1  # short data reads as zeros
    assert to_python(Void(), b"\xab\xcd") == "ab cd"


def test_clang_bitfields_anonymous_members_and_tags_from_a_real_object():
    from pybpf.btf import Spec

    _, btf, _ = object_btf("btf_kinds")
    bits = Spec.from_bytes(btf).find("btf_bits", Struct)
    codec = BTFCodec(bits)
    value = codec.zero()
    value.low, value.mid, value.signed_part = 5, 100, -3
    value.as_float = 1.5
    value.pair.b = -2
    value.name = ["a", "bc", "", ""]
    value.color = "BTF_GREEN"
    raw = codec.encode(value)
    # unsigned low:3, mid:7 and int signed_part:6 share the first 4 bytes, as C packs them
    assert struct.unpack_from("=I", raw)[0] == 5 | 100 << 3 | (-3 & 0x3F) << 10
    assert struct.unpack_from("=f", raw, 16)[0] == 1.5
    again = codec.decode(raw)
    assert (again.low, again.mid, again.signed_part, again.pair.b) == (5, 100, -3, -2)
    assert again.name == ["a", "bc", "", ""] and again.color.name == "BTF_GREEN"


# -- properties ---------------------------------------------------------------------------

# every byte of this struct is a member's (no padding, no text, no bool): decode then
# encode must give back the same bytes whatever they are
DENSE = Struct("dense", 24, [
    Member("a", S32, 0, 3), Member("b", U32, 3, 29),
    Member("state", STATE, 32),
    Member("", Union("", 4, [Member("w", U32, 0), Member("h", Array(U16, U32, 2), 0)]), 64),
    Member("where", POINT, 96),
    Member("raw", Array(U8, U32, 4), 128),
    Member("pair", Array(S16, U32, 2), 160),
])


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=24, max_size=24))
def test_decode_then_encode_gives_the_same_bytes(raw):
    codec = BTFCodec(DENSE)
    value = codec.decode(raw)
    rebuilt = value.to_dict()
    del rebuilt["h"]  # a union takes one member from a mapping
    assert codec.encode(value) == raw
    assert codec.encode(rebuilt) == raw


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({
    "count": st.integers(0, 2**64 - 1), "comm": st.text(
        st.characters(min_codepoint=1, max_codepoint=0x7F), max_size=8),
    "state": st.sampled_from(["IDLE", "BUSY", 0, 2, 77]), "flag": st.integers(0, 1),
    "level": st.integers(0, 31), "delta": st.integers(-32, 31),
    "where": st.fixed_dictionaries({"x": st.integers(-2**15, 2**15 - 1)}),
    "word": st.integers(0, 2**32 - 1), "mac": st.binary(max_size=6),
    "ports": st.lists(st.integers(0, 2**16 - 1), max_size=3)}))
def test_encode_then_decode_gives_the_values_back(fields):
    codec = BTFCodec(RECORD)
    value = codec.decode(codec.encode(fields))
    for name in ("count", "comm", "flag", "level", "delta", "word"):
        assert value[name] == fields[name], name
    assert value.state == (2 if fields["state"] == "BUSY" else
                           0 if fields["state"] == "IDLE" else fields["state"])
    assert value.where.x == fields["where"]["x"] and value.where.y == 0
    assert value.mac == fields["mac"].ljust(6, b"\0")
    assert value.ports == fields["ports"] + [0] * (3 - len(fields["ports"]))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_invalid_input(raw):
    try:
        BTFCodec(RECORD).decode(raw)
    except InvalidInputError:
        assert len(raw) < 48
