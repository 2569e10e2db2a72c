"""Property tests: random type graphs survive encode/parse; bad bytes only raise BTFError."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    FuncProto,
    Fwd,
    Int,
    Member,
    Param,
    Ptr,
    Restrict,
    Spec,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarSecinfo,
    Void,
    Volatile,
)
from pybpf.btf.cformat import format_c
from pybpf.btf.raw import raw_lines
from pybpf.errors import BTFError
from tests.btf.helpers import object_btf

names = st.text(alphabet="abcdefgh_", min_size=0, max_size=6)
idents = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)


@st.composite
def type_graphs(draw) -> list[Type]:
    """A list of types where later ones refer to earlier ones, plus patched-in cycles."""
    types: list[Type] = [Int(draw(idents), draw(st.sampled_from([1, 2, 4, 8])),
                             draw(st.sampled_from([0, 1, 2, 4])))]
    pointers: list[Ptr] = []

    def earlier() -> Type:
        return draw(st.sampled_from(types + [Void()]))

    for _ in range(draw(st.integers(1, 12))):
        choice = draw(st.integers(0, 15))
        if choice == 0:
            t: Type = Ptr(earlier())
            pointers.append(t)
        elif choice == 1:
            t = Array(earlier(), types[0], draw(st.integers(0, 2**32 - 1)))
        elif choice in (2, 3):
            members = [Member(draw(names), earlier(), draw(st.integers(0, 2**24 - 1)),
                              draw(st.integers(0, 255))) for _ in range(draw(st.integers(0, 4)))]
            t = (Struct if choice == 2 else Union)(draw(names), draw(st.integers(0, 2**32 - 1)),
                                                  members)
        elif choice == 4:
            t = Enum(draw(names), 4, [EnumValue(draw(idents), draw(st.integers(0, 2**32 - 1)))
                                      for _ in range(draw(st.integers(0, 3)))])
        elif choice == 5:
            signed = draw(st.booleans())
            low, high = (-(2**63), 2**63 - 1) if signed else (0, 2**64 - 1)
            t = Enum64(draw(names), 8, [EnumValue(draw(idents), draw(st.integers(low, high)))],
                       signed=signed)
        elif choice == 6:
            t = Fwd(draw(idents), draw(st.sampled_from(["struct", "union"])))
        elif choice == 7:
            t = Typedef(draw(idents), earlier())
        elif choice == 8:
            t = draw(st.sampled_from([Const, Volatile, Restrict]))(earlier())
        elif choice == 9:
            t = TypeTag(draw(idents), earlier())
        elif choice == 10:
            t = FuncProto(earlier(), [Param(draw(names), earlier())
                                      for _ in range(draw(st.integers(0, 3)))])
        elif choice == 11:
            t = Func(draw(idents), FuncProto(earlier()), draw(st.integers(0, 2)))
        elif choice == 12:
            var = Var(draw(idents), earlier(), draw(st.integers(0, 2)))
            types.append(var)
            t = Datasec(draw(idents), 8, [VarSecinfo(var, 0, 8)])
        elif choice == 13:
            t = Float(draw(idents), draw(st.sampled_from([4, 8, 16])))
        elif choice == 14:
            t = DeclTag(draw(idents), earlier(), draw(st.integers(-1, 3)))
        else:
            signed = draw(st.booleans())
            t = Enum(draw(names), 4, [EnumValue("v", draw(st.integers(-(2**31), -1)))],
                     signed=True) if signed else Int(draw(idents), 16, 1, 128, 0)
        types.append(t)
    for p in pointers:  # close some cycles
        if draw(st.booleans()):
            p.target = draw(st.sampled_from(types))
    return types


def same_type(a: Type, b: Type, seen: dict[int, int]) -> bool:
    """Structural equality of two type graphs (cycles allowed)."""
    if id(a) in seen:
        return seen[id(a)] == id(b)
    seen[id(a)] = id(b)
    if type(a) is not type(b):
        return False
    for attr in ("name", "size", "encoding", "bits", "offset", "nelems", "signed", "linkage",
                 "fwd_kind", "value", "component_idx"):
        if hasattr(a, attr) and getattr(a, attr) != getattr(b, attr):
            return False
    if isinstance(a, Enum) and a.values != b.values:
        return False
    for attr in ("target", "type", "index_type", "return_type"):
        if hasattr(a, attr) and not same_type(getattr(a, attr), getattr(b, attr), seen):
            return False
    for attr, fields in (("members", ("name", "bit_offset", "bitfield_size")),
                         ("params", ("name",)), ("vars", ("offset", "size"))):
        xs, ys = getattr(a, attr, None), getattr(b, attr, None)
        if xs is None:
            continue
        if len(xs) != len(ys):
            return False
        for x, y in zip(xs, ys):
            if any(getattr(x, f) != getattr(y, f) for f in fields):
                return False
            if not same_type(x.type, y.type, seen):
                return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_graphs())
def test_random_type_graphs_round_trip(types):
    builder = Builder()
    for t in types:
        builder.add(t)
    data = builder.encode()
    spec = Spec.from_bytes(data)
    seen: dict[int, int] = {}
    for t in types:
        parsed = spec.type_by_id(builder.type_id(t))
        assert same_type(t, parsed, seen), t
    assert spec.encode() == data  # ids and strings come out the same a second time


def _walk(spec: Spec) -> None:
    """Touch every type, lazy reference and printer a user could reach."""
    for type_id in range(len(spec)):
        t = spec.type_by_id(type_id)
        raw_lines(spec, type_id)
        for attr in ("target", "type", "index_type", "return_type"):
            getattr(t, attr, None)
        for entry in (getattr(t, "members", None) or getattr(t, "params", None)
                      or getattr(t, "vars", None) or ()):
            _ = entry.type  # resolving the reference must not fail
        try:
            btf.sizeof(t)
        except BTFError:
            pass
        format_c(t)
    spec.types_by_name("btf_bits")
    spec.encode()


def _only_btf_errors(data: bytes) -> None:
    try:
        spec = Spec.from_bytes(data, name="fuzz")
        _walk(spec)
    except BTFError as err:
        assert "fuzz" in str(err) or err.message  # names the object or says the problem


def test_clang_object_walks_cleanly():
    _, btf_bytes, _ = object_btf("btf_kinds")
    _walk(Spec.from_bytes(btf_bytes))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_btf_error(data):
    _only_btf_errors(data)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(data) & ~3, len(data) & ~3, 0)
    _only_btf_errors(header + data[: len(data) & ~3])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_clang_btf_raises_only_btf_error(data):
    _, btf_bytes, _ = object_btf("btf_kinds")
    blob = bytearray(btf_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    _only_btf_errors(bytes(blob[:cut]) if data.draw(st.booleans()) else bytes(blob))


def test_zero_sized_member_type_is_no_division_by_zero():
    # found by fuzzing: alignof() of an int of size 0 used to reach `offset % 0`
    odd = Struct("odd", 4, [Member("z", Int("zero", 0), 8), Member("x", Int("int", 4), 0)])
    assert btf.alignof(odd) == 0
    assert "struct odd {" in format_c(odd)
