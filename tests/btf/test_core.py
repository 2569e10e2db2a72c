"""CO-RE relocation rules on small BTF built in Python: the cases vmlinux cannot show.

Flavors, ambiguity, missing types, candidate narrowing, anonymous members, flexible arrays,
load-size changes, poisoning, the checks on the old value, and the errors.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.asm.instruction import Instruction
from pybpf.btf import (
    SIGNED,
    Array,
    Builder,
    Enum,
    Enum64,
    EnumValue,
    Fwd,
    Int,
    Member,
    Ptr,
    Spec,
    Struct,
    Typedef,
    Union,
)
from pybpf.btf.core import (
    POISON_HELPER,
    CandidateCache,
    format_results,
    relocate,
    relocate_program,
    relocate_with_results,
    resolve,
)
from pybpf.btf.core_compat import essential_name, types_are_compat, types_match
from pybpf.btf.ext import CORERelo
from pybpf.btf.ext import CORERelocKind as K
from pybpf.errors import CORERelocationError
from pybpf.spec import ProgramSpec

INT = Int("int", 4, SIGNED)
UINT = Int("unsigned int", 4)
ULONG = Int("long unsigned int", 8)
LONG = Int("long int", 8, SIGNED)
CHAR = Int("char", 1, SIGNED)

MOV_R1 = 0xB7     # ALU64 | MOV | K
MOV_R1_X = 0xBF   # ALU64 | MOV | X
LDX_W = 0x61
LDX_DW = 0x79
LDDW = 0x18


def mov(imm: int) -> Instruction:
    return Instruction(MOV_R1, dst=1, imm=imm)


def ldx(off: int, opcode: int = LDX_W) -> Instruction:
    return Instruction(opcode, dst=0, src=1, off=off)


def lddw(imm: int) -> Instruction:
    return Instruction(LDDW, dst=1, imm=imm)


def struct(name: str, *fields: tuple[str, object, int], size: int | None = None) -> Struct:
    """``fields`` are (name, type, byte offset); a 4th item makes a bitfield (bits)."""
    members = []
    for f in fields:
        bits = f[3] if len(f) > 3 else 0  # type: ignore[misc]
        bit_off = f[2] * 8 if not bits else f[2]  # bitfields give their bit offset
        members.append(Member(f[0], f[1], bit_off, bits))
    return Struct(name, size if size is not None else 64, members)


def spec_of(*types) -> Spec:
    b = Builder()
    for t in types:
        b.add(t)
    return b.spec()


def relo(spec: Spec, name: str, access: str, kind: K, insn: int = 0, cls=None) -> CORERelo:
    t = spec.find(name, cls) if cls else spec.find(name)
    return CORERelo(insn * 8, t, access, kind)


# ---- names and compatibility ------------------------------------------------------------

@pytest.mark.parametrize("name, essential", [
    ("task_struct", "task_struct"), ("task_struct___v2", "task_struct"),
    ("a___b___c", "a___b"), ("__u32", "__u32"), ("x____y", "x____y"), ("x___", "x___"),
    ("___x", "___x"), ("", "")])
def test_essential_name_strips_the_last_flavor_suffix(name, essential):
    assert essential_name(name) == essential


def test_type_compat_and_match_differ_where_libbpf_says():
    s_fwd = spec_of(Ptr(Fwd("foo", "struct")))
    s_def = spec_of(Ptr(struct("foo", ("a", INT, 0))))
    fwd_ptr, def_ptr = s_fwd.type_by_id(1), s_def.type_by_id(1)
    # behind a pointer, a struct matches a forward declaration of a struct...
    assert types_match(def_ptr, fwd_ptr) and types_match(fwd_ptr, def_ptr)
    # ...but not of a union
    s_ufwd = spec_of(Ptr(Fwd("foo", "union")))
    assert not types_match(def_ptr, s_ufwd.type_by_id(1))
    # ints: compat ignores size and sign, match does not
    assert types_are_compat(INT, ULONG) and not types_match(INT, UINT)
    assert types_match(INT, Int("int", 4, SIGNED))
    # struct match: every local member must exist by name with a matching type
    a = struct("s", ("x", INT, 0))
    b = struct("s", ("y", INT, 0), ("x", INT, 4))
    c = struct("s", ("x", UINT, 0))
    assert types_match(a, b) and not types_match(b, a) and not types_match(a, c)
    # enums: same size, every local name in the target (values may differ)
    e1 = Enum("e", 4, [EnumValue("A", 1)])
    e2 = Enum64("e", 4, [EnumValue("B", 0), EnumValue("A", 7)])
    assert types_match(e1, e2) and not types_match(e2, e1)
    assert not types_match(e1, Enum("e", 8, [EnumValue("A", 1)]))


# ---- field relocations ------------------------------------------------------------------

def test_flavor_finds_the_plain_kernel_type_and_moves_the_offset():
    local = spec_of(struct("task___old", ("pid", INT, 4)))
    target = spec_of(struct("task", ("comm", Array(CHAR, INT, 16), 0), ("pid", INT, 16)))
    out = relocate([ldx(4)], [relo(local, "task___old", "0:0", K.FIELD_BYTE_OFFSET)],
                   local, target)
    assert out == [ldx(16)]


def test_member_is_found_through_anonymous_unions_of_the_target():
    local = spec_of(struct("skb", ("mark", UINT, 4)))
    inner = struct("", ("prio", UINT, 0), ("mark", UINT, 4), size=8)
    anon = Union("", 8, [Member("", inner, 0), Member("whole", ULONG, 0)])
    target = spec_of(struct("skb", ("len", UINT, 0), ("", anon, 8)))
    [result] = resolve([relo(local, "skb", "0:0", K.FIELD_BYTE_OFFSET)], local, target)
    assert result.new_value == 12
    assert result.target.access_string == "0:1:0:1"


def test_array_elements_and_root_index_scale_with_target_sizes():
    local = spec_of(struct("s", ("arr", Array(LONG, INT, 4), 8), size=40))
    target = spec_of(struct("s", ("pad", ULONG, 0), ("x", INT, 8),
                            ("arr", Array(LONG, INT, 4), 16), size=48))
    relos = [relo(local, "s", "0:0:2", K.FIELD_BYTE_OFFSET, 0),
             relo(local, "s", "1:0:1", K.FIELD_BYTE_OFFSET, 1),  # &p[1].arr[1]
             relo(local, "s", "0:0:5", K.FIELD_EXISTS, 2)]
    with pytest.raises(CORERelocationError, match="element 5 out of range"):
        resolve(relos, local, target)
    results = resolve(relos[:2], local, target)
    assert [r.new_value for r in results] == [16 + 16, 48 + 16 + 8]


def test_flexible_array_member_may_be_indexed_past_zero():
    local = spec_of(struct("buf", ("len", UINT, 0), ("data", Array(CHAR, INT, 0), 4)))
    target = spec_of(struct("buf", ("cap", UINT, 0), ("len", UINT, 4),
                            ("data", Array(CHAR, INT, 0), 8)))
    [r] = resolve([relo(local, "buf", "0:1:9", K.FIELD_BYTE_OFFSET)], local, target)
    assert r.new_value == 17


def test_missing_field_gives_zero_exists_and_poisons_offsets():
    local = spec_of(struct("s", ("gone", INT, 0), ("here", INT, 4)))
    target = spec_of(struct("s", ("here", INT, 0)))
    insns = [mov(1), ldx(0), lddw(0)]
    relos = [relo(local, "s", "0:0", K.FIELD_EXISTS, 0),
             relo(local, "s", "0:0", K.FIELD_BYTE_OFFSET, 1)]
    out, results = relocate_with_results(insns, relos, local, target)
    assert out[0] == mov(0)
    assert out[1] == Instruction(0x85, imm=POISON_HELPER)
    assert results[1].poisoned and results[1].target is None


def test_poisoned_lddw_becomes_two_calls_and_keeps_its_label():
    local = spec_of(Enum("e", 4, [EnumValue("GONE", 5)]))
    target = spec_of(Enum("e", 4, [EnumValue("OTHER", 1)]))
    insns = [lddw(5).with_(symbol="here"), mov(0)]
    out = relocate(insns, [relo(local, "e", "0", K.ENUMVAL_VALUE)], local, target)
    assert [(i.opcode, i.imm) for i in out] == [(0x85, POISON_HELPER)] * 2 + [(MOV_R1, 0)]
    assert out[0].symbol == "here"
    assert sum(i.slots for i in out) == sum(i.slots for i in insns)


def test_incompatible_member_type_does_not_match():
    local = spec_of(struct("s", ("f", INT, 0)))
    target = spec_of(struct("s", ("f", struct("inner", ("x", INT, 0), size=4), 8)))
    [r] = resolve([relo(local, "s", "0:0", K.FIELD_EXISTS)], local, target)
    assert r.new_value == 0


def test_load_size_follows_an_unsigned_field_but_poisons_a_signed_one():
    local = spec_of(struct("s", ("flags", ULONG, 0), ("count", LONG, 8)))
    target = spec_of(struct("s", ("flags", UINT, 4), ("count", INT, 0)))
    relos = [relo(local, "s", "0:0", K.FIELD_BYTE_OFFSET, 0),
             relo(local, "s", "0:1", K.FIELD_BYTE_OFFSET, 1),
             relo(local, "s", "0:1", K.FIELD_BYTE_OFFSET, 2)]
    out, results = relocate_with_results([ldx(0, LDX_DW), ldx(8, LDX_DW), mov(8)], relos,
                                         local, target)
    assert out[0] == ldx(4, LDX_W) and results[0].patch == "off 0 -> 4, mem_sz 8 -> 4"
    assert out[1].imm == POISON_HELPER  # reading an 8-byte signed value as 4 would lie
    assert out[2] == mov(0)  # an ALU use of the same offset is fine


def test_bitfield_shifts_and_size():
    local = spec_of(struct("s", ("a", UINT, 3, 2), ("b", UINT, 5, 3), size=4))
    target = spec_of(struct("s", ("x", ULONG, 0), ("b", UINT, 64 + 30, 4), size=16))
    kinds = [K.FIELD_BYTE_OFFSET, K.FIELD_BYTE_SIZE, K.FIELD_LSHIFT_U64,
             K.FIELD_RSHIFT_U64, K.FIELD_SIGNED]
    results = resolve([relo(local, "s", "0:1", k, i) for i, k in enumerate(kinds)],
                      local, target)
    # bits 94..97 straddle the u32 at byte 8: an 8-byte load at byte 8 holds them
    assert [r.new_value for r in results] == [8, 8, 64 - (94 + 4 - 64), 60, 0]
    assert [r.orig_value for r in results] == [0, 4, 56, 61, 0]


# ---- type and enum relocations ----------------------------------------------------------

def test_type_relocations_on_present_missing_and_typedef_types():
    local = spec_of(struct("present", ("a", INT, 0), size=4), struct("absent", size=4),
                    Typedef("u32", UINT))
    target = spec_of(INT, struct("present", ("a", INT, 0), ("b", INT, 4), size=8),
                     Typedef("u32", UINT))
    relos = [relo(local, "present", "0", K.TYPE_EXISTS, 0),
             relo(local, "present", "0", K.TYPE_SIZE, 1),
             relo(local, "absent", "0", K.TYPE_SIZE, 2),
             relo(local, "present", "0", K.TYPE_ID_TARGET, 3),
             relo(local, "present", "0", K.TYPE_ID_LOCAL, 5),
             relo(local, "u32", "0", K.TYPE_MATCHES, 7),
             relo(local, "absent", "0", K.TYPE_EXISTS, 8)]
    local_id = local.type_id(local.find("present"))
    insns = [mov(1), mov(4), mov(4), lddw(local_id), lddw(local_id), mov(1), mov(1)]
    out = relocate(insns, relos, local, target)
    target_id = target.type_id(target.find("present"))
    assert [i.imm for i in out] == [1, 8, 0, target_id, local_id, 1, 0]


def test_enum_values_sign_extend_32_bit_and_keep_64_bit():
    local = spec_of(Enum("e", 4, [EnumValue("NEG", 1)]),
                    Enum64("big", 8, [EnumValue("HUGE", 1)]))
    target = spec_of(Enum("e", 4, [EnumValue("NEG", -2)], signed=True),
                     Enum64("big", 8, [EnumValue("HUGE", 1 << 40)]))
    relos = [relo(local, "e", "0", K.ENUMVAL_VALUE, 0),
             relo(local, "big", "0", K.ENUMVAL_VALUE, 2),
             relo(local, "e", "0", K.ENUMVAL_EXISTS, 4)]
    out = relocate([lddw(1), lddw(1), mov(1)], relos, local, target)
    assert [i.imm for i in out] == [-2, 1 << 40, 1]


# ---- several candidates ---------------------------------------------------------------

def test_candidates_that_disagree_are_an_error_naming_the_relocation():
    local = spec_of(struct("dev", ("id", INT, 0)))
    target = spec_of(struct("dev", ("id", INT, 0)), struct("dev___new", ("id", INT, 8)))
    with pytest.raises(CORERelocationError) as err:
        relocate([ldx(0)], [relo(local, "dev", "0:0", K.FIELD_BYTE_OFFSET)], local, target,
                 program="probe")
    text = str(err.value)
    for part in ("program 'probe'", "relocation #0", "insn #0", "'0:0'", "dev", "ambiguity"):
        assert part in text


def test_candidates_that_agree_are_fine():
    local = spec_of(struct("dev", ("id", INT, 0)))
    target = spec_of(struct("dev", ("id", INT, 8)), struct("dev___new", ("id", INT, 8)))
    assert relocate([ldx(0)], [relo(local, "dev", "0:0", K.FIELD_BYTE_OFFSET)], local,
                    target) == [ldx(8)]


def test_candidates_are_narrowed_by_earlier_matches_of_the_same_type():
    local = spec_of(struct("dev", ("only_in_a", INT, 0), ("id", INT, 4)))
    target = spec_of(struct("dev", ("only_in_a", INT, 0), ("id", INT, 4)),
                     struct("dev___b", ("id", INT, 12)))
    relos = [relo(local, "dev", "0:0", K.FIELD_BYTE_OFFSET, 0),
             relo(local, "dev", "0:1", K.FIELD_BYTE_OFFSET, 1)]
    # alone, the second relocation is ambiguous (4 vs 12)...
    with pytest.raises(CORERelocationError, match="ambiguity"):
        resolve(relos[1:], local, target)
    # ...after the first one ruled out dev___b it is not (as in libbpf)
    cache = CandidateCache()
    results = resolve(relos, local, target, cache=cache)
    assert [r.new_value for r in results] == [0, 4]
    assert [t.name for t in results[1].candidates] == ["dev"]


# ---- instruction checks and errors ------------------------------------------------------

@pytest.mark.parametrize("insn, problem", [
    (mov(99), "holds immediate 99, expected 0"),
    (Instruction(MOV_R1_X, dst=1, src=2), "register operand"),
    (Instruction(0x05, off=1), "cannot carry"),  # a jump
])
def test_instruction_that_does_not_fit_the_relocation_is_an_error(insn, problem):
    local = spec_of(struct("s", ("a", INT, 0)))
    with pytest.raises(CORERelocationError, match=problem):
        relocate([insn], [relo(local, "s", "0:0", K.FIELD_BYTE_OFFSET)], local, local,
                 program="p")


def test_offset_beyond_16_bits_is_an_error():
    local = spec_of(struct("s", ("a", INT, 0)))
    target = spec_of(struct("s", ("pad", Array(CHAR, INT, 40000), 0), ("a", INT, 40000),
                            size=40004))
    with pytest.raises(CORERelocationError, match="16-bit"):
        relocate([ldx(0)], [relo(local, "s", "0:0", K.FIELD_BYTE_OFFSET)], local, target)


@pytest.mark.parametrize("access, kind, problem", [
    ("0:7", K.FIELD_BYTE_OFFSET, "member index 7 out of range"),
    ("0:x", K.FIELD_BYTE_OFFSET, "malformed access string"),
    ("1", K.TYPE_SIZE, "needs access string '0'"),
    ("0:0:1", K.FIELD_BYTE_OFFSET, "neither struct, union nor array"),
])
def test_bad_access_strings_are_errors_naming_them(access, kind, problem):
    local = spec_of(struct("s", ("a", INT, 0)))
    with pytest.raises(CORERelocationError, match=problem) as err:
        resolve([relo(local, "s", access, kind)], local, local, program="p")
    assert f"'{access}'" in str(err.value)


def test_insn_off_must_start_an_instruction():
    local = spec_of(struct("s", ("a", INT, 0)))
    bad = CORERelo(8, local.find("s"), "0:0", K.FIELD_BYTE_OFFSET)  # 2nd slot of the lddw
    with pytest.raises(CORERelocationError, match="not the start of an instruction"):
        relocate([lddw(0)], [bad], local, local)


def test_anonymous_local_type_cannot_be_relocated():
    anon = struct("", ("a", INT, 0))
    local = spec_of(Ptr(anon))
    r = CORERelo(0, local.type_by_id(2), "0:0", K.FIELD_BYTE_OFFSET)
    with pytest.raises(CORERelocationError, match="anonymous"):
        resolve([r], local, local)


# ---- ProgramSpec convenience and formatting ---------------------------------------------

def test_relocate_program_uses_slot_offsets_and_leaves_the_input_alone():
    local = spec_of(struct("s", ("a", INT, 0), ("b", INT, 4)))
    target = spec_of(struct("s", ("b", INT, 0), ("a", INT, 4)))
    s = local.find("s")
    prog = ProgramSpec(name="p", section="x", btf=local,
                       instructions=[lddw(0), ldx(4), Instruction(0x95)],
                       core_relos=[CORERelo(2, s, "0:1", K.FIELD_BYTE_OFFSET)])
    patched, results = relocate_program(prog, target)
    assert patched.instructions[1] == ldx(0)
    assert prog.instructions[1] == ldx(4)
    text = format_results(results)
    assert text.startswith("#0 insn 2 FIELD_BYTE_OFFSET ")
    assert "s.b (0:1 @ offset 4)" in text and "(0:0 @ offset 0): off 4 -> 0" in text


def test_type_from_another_btf_is_an_error_not_a_key_error():
    local = spec_of(struct("s", ("a", INT, 0)))
    other = spec_of(struct("s", ("a", INT, 0)))
    with pytest.raises(CORERelocationError, match="not a type of the local BTF"):
        resolve([relo(other, "s", "0:0", K.FIELD_BYTE_OFFSET)], local, other)


@settings(max_examples=150, deadline=None)
@given(access=st.lists(st.integers(0, 5), min_size=1, max_size=6).map(
           lambda xs: ":".join(map(str, xs))) | st.text(max_size=8),
       kind=st.integers(0, 14), type_index=st.integers(1, 6),
       insn=st.sampled_from([mov(4), ldx(4), lddw(4), Instruction(0x95)]))
def test_any_relocation_resolves_or_raises_core_errors_only(access, kind, type_index, insn):
    local = _FUZZ_LOCAL
    r = CORERelo(0, local.type_by_id(type_index), access, kind)
    try:
        relocate([insn], [r], local, _FUZZ_TARGET)
    except CORERelocationError:
        pass


_FUZZ_INNER = struct("inner", ("x", INT, 0), ("y", Array(CHAR, INT, 0), 4), size=8)
_FUZZ_LOCAL = spec_of(struct("outer", ("a", INT, 0), ("in", _FUZZ_INNER, 8),
                             ("arr", Array(LONG, INT, 3), 16), size=40),
                      Enum("e", 4, [EnumValue("A", 1), EnumValue("B", 2)]),
                      Typedef("t", UINT), Fwd("outer", "union"))
_FUZZ_TARGET = spec_of(struct("outer", ("in", _FUZZ_INNER, 0), ("a", UINT, 12),
                              ("arr", Array(LONG, INT, 2), 16), size=32),
                       struct("outer___x", ("a", INT, 12), size=16),
                       Enum64("e", 8, [EnumValue("B", 1 << 40)]), Typedef("t", INT))
