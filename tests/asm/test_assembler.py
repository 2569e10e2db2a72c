"""The assembler: llvm-objdump syntax, labels, comments, pasted objdump output, errors."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R6, R10, Instruction, assemble, encode_all, parse_instruction
from pybpf.errors import AsmError


def test_labels_and_numeric_offsets_both_work() -> None:
    text = """
    entry:
        r0 = 0                 # comment
        if r1 > 0x5 goto out   // another comment
        if w1 s< -1 goto +1
        r0 += 1
    out:
        exit
    """
    insns = assemble(text)
    assert insns[0].symbol == "entry"
    assert insns[1] == Instruction(0x25, 1, 0, 2, 5, reference="out")
    assert insns[2] == Instruction(0xC6, 1, 0, 1, -1)
    assert insns[4].symbol == "out" and insns[4].is_exit


def test_lddw_counts_two_slots_in_offsets() -> None:
    insns = assemble("goto done\nr1 = 0x100000000 ll\ndone:\nexit")
    assert insns[0].off == 2
    assert insns[1].imm == 1 << 32


def test_backward_jump_and_long_jump() -> None:
    insns = assemble("top:\nr0 += 1\nmay_goto out\ngotol top\nout:\nexit")
    assert insns[1].off == 1
    assert insns[2].opcode == 0x06 and insns[2].imm == -3 and insns[2].off == 0


def test_calls_by_label_are_bpf_to_bpf() -> None:
    insns = assemble("call helper_like\nexit\nhelper_like:\nr0 = 0\nexit")
    assert insns[0].is_pseudo_call and insns[0].imm == 1
    assert assemble("call 1")[0].is_helper_call


def test_call_annotations_set_the_source() -> None:
    assert assemble("call -1 # BPF_PSEUDO_CALL")[0] == Instruction(0x85, 0, 1, 0, -1)
    assert assemble("call 77 # BPF_PSEUDO_KFUNC_CALL")[0] == Instruction(0x85, 0, 2, 0, 77)
    with pytest.raises(AsmError, match="numeric call"):
        assemble("exit # BPF_PSEUDO_CALL")


def test_ld_pseudo_func_takes_a_label() -> None:
    insns = assemble("ld_pseudo r2, 4, cb\nexit\ncb:\nr0 = 0\nexit")
    assert insns[0].src == 4 and insns[0].imm == 2  # from the slot after the lddw


def test_pasted_llvm_objdump_output_assembles() -> None:
    text = """
/tmp/x.o:\tfile format elf64-bpf

Disassembly of section xdp:

0000000000000000 <xdp_pass>:
       0:\t61 12 04 00 00 00 00 00\tr2 = *(u32 *)(r1 + 4)
       1:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0 ll
       3:\t2d 21 01 00 00 00 00 00\tif r1 > r2 goto +1 <LBB2_2>
       4:\tb4 00 00 00 02 00 00 00\tw0 = 2

0000000000000028 <LBB2_2>:
       5:\t95 00 00 00 00 00 00 00\texit
"""
    insns = assemble(text)
    assert insns[0].symbol == "xdp_pass" and insns[4].symbol == "LBB2_2"
    assert encode_all(insns).hex() == (
        "6112040000000000" "1801000000000000" "0000000000000000" "2d21010000000000"
        "b400000002000000" "9500000000000000")


@pytest.mark.parametrize("text, message", [
    ("r11 = 1", "no register r11"),
    ("frobnicate r1", "not an instruction"),
    ("w1 = r2", "expected a w register"),
    ("r1 = 0x100000000", "does not fit in 32 bits"),
    ("*(u64 *)(r1 + 0) = w2", "needs an r register"),
    ("r1 = *(u32 *)(r2 + 40000)", "does not fit in 16 bits"),
    ("goto nowhere", "undefined label 'nowhere'"),
    ("a:\nexit\na:\nexit", "defined twice"),
    ("exit\nend:", "names no instruction"),
    ("lock *(u8 *)(r1 + 0) += w2", "4 or 8 bytes"),
    ("r1 = bswap8 r1", "not an instruction"),
    ("r1 = le16 r2", "same register"),
])
def test_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(AsmError, match=message):
        assemble(text, source="t.s")


def test_error_names_source_and_line() -> None:
    with pytest.raises(AsmError) as info:
        assemble("exit\n\n  bogus line\n", source="prog.s")
    assert str(info.value).startswith("prog.s: line 3: not an instruction")


def test_parse_instruction_is_one_line() -> None:
    assert parse_instruction("r0 = *(u32 *)(r1 + 0x4)") == Instruction(0x61, 0, 1, 4, 0)
    assert parse_instruction("w0 = cmpxchg32_32(r1 - 8, w0, w3)") == \
        Instruction(0xC3, 1, 3, -8, 0xF1)


# -- the builder --------------------------------------------------------------------------

def test_builder_program_links_and_disassembles() -> None:
    prog = asm.link([
        asm.mov(R6, R1),
        asm.ldx(4, R2, R6, 4),
        asm.stx("u64", R10, R2, -8),
        asm.st(8, R10, 0, -16),
        asm.jeq32(R2, 0, "zero"),
        asm.atomic_add(8, R10, R2, -8, fetch=True),
        asm.call_func("sub"),
        asm.ja("out"),
        asm.label("zero"),
        asm.mov32(R0, -1),
        asm.label("out"),
        asm.exit(),
        asm.label("sub"),
        asm.lddw(R0, 0x1122334455667788),
        asm.exit(),
    ])
    text = asm.disassemble(prog, show_index=False, annotate=False)
    assert text.splitlines() == [
        "\tr6 = r1",
        "\tr2 = *(u32 *)(r6 + 4)",
        "\t*(u64 *)(r10 - 8) = r2",
        "\t*(u64 *)(r10 - 16) = 0",
        "\tif w2 == 0 goto +3 <zero>",
        "\tr2 = atomic_fetch_add((u64 *)(r10 - 8), r2)",
        "\tcall 3",
        "\tgoto +1 <out>",
        "zero:",
        "\tw0 = -1",
        "out:",
        "\texit",
        "sub:",
        "\tr0 = 1234605616436508552 ll",
        "\texit",
    ]
    assert asm.assemble(asm.disassemble(prog)) == [i.with_(reference=None) for i in prog]


def test_relinking_after_an_insert_keeps_branches_right() -> None:
    prog = [asm.jne(R1, R2, "end"), asm.mov(R0, 1), asm.exit(symbol="end")]
    assert asm.link(prog)[0].off == 1
    prog.insert(1, asm.mov(R0, 2))
    assert asm.link(prog)[0].off == 2


def test_builder_covers_every_family() -> None:
    insns = [
        asm.sdiv(R1, R2), asm.smod32(R1, 3), asm.movsx(R1, R2, 16), asm.movsx32(R1, R2, 8),
        asm.bswap(R1, 32), asm.to_be(R1, 16), asm.to_le(R1, 64), asm.neg(R1), asm.neg32(R1),
        asm.addr_space_cast(R1, R2, 1, 0), asm.ldxsx(1, R0, R1), asm.xchg(4, R1, R2),
        asm.cmpxchg(8, R1, R2), asm.load_acquire(2, R1, R2), asm.store_release(8, R1, R2),
        asm.ld_abs(2, 12), asm.ld_ind(1, R2, 4), asm.ld_map_fd(R1, 5),
        asm.ld_map_value(R1, 5, 16), asm.ld_btf_id(R1, 99), asm.ld_map_idx(R1, 0),
        asm.ld_map_idx_value(R1, 1, 8), asm.call_kfunc(1234), asm.gotol(0),
        asm.may_goto(0), asm.jset(R1, 1, 0), asm.jsle32(R1, R2, 0), asm.exit(),
    ]
    text = asm.disassemble(insns)
    assert asm.assemble(text) == insns
    assert asm.ld_map_fd(R1, "events").reference == "events"


@pytest.mark.parametrize("call", [
    lambda: asm.mov(11, 1), lambda: asm.ldx(3, R0, R1), lambda: asm.movsx32(R1, R2, 32),
    lambda: asm.ja(1 << 15), lambda: asm.ldxsx(8, R0, R1), lambda: asm.ld_abs(8, 0),
    lambda: asm.lddw(R0, 1 << 64), lambda: asm.jeq(R0, 0, 3.5),
])
def test_builder_rejects_bad_operands(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AsmError):
        call()


def test_jump_out_of_range_suggests_gotol() -> None:
    prog = [asm.ja("far")] + [asm.mov(R0, 0)] * 40000 + [asm.exit(symbol="far")]
    with pytest.raises(AsmError, match="use gotol"):
        asm.link(prog)
    assert asm.link([asm.gotol("far")] + prog[1:])[0].imm == 40000
