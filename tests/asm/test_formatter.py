"""Instruction text, kind by kind, in llvm-objdump syntax (decimal and --print-imm-hex).

The LLVM 14 forms were read off ``llvm-mc --disassemble``; the v4 and newer forms (which
LLVM 14 cannot decode) are spelled as newer LLVM's BPFInstrInfo.td spells them.
"""

from __future__ import annotations

import pytest

from pybpf.asm import Instruction, disassemble, format_instruction
from pybpf.errors import AsmError

# (opcode, dst, src, off, imm), decimal text, hex text
CASES = [
    # ALU64 / ALU
    ((0x07, 1, 0, 0, -4), "r1 += -4", "r1 += -0x4"),
    ((0x0F, 1, 2, 0, 0), "r1 += r2", "r1 += r2"),
    ((0x04, 1, 0, 0, 5), "w1 += 5", "w1 += 0x5"),
    ((0x1C, 1, 2, 0, 0), "w1 -= w2", "w1 -= w2"),
    ((0x27, 3, 0, 0, 7), "r3 *= 7", "r3 *= 0x7"),
    ((0x3F, 1, 2, 0, 0), "r1 /= r2", "r1 /= r2"),
    ((0x47, 1, 0, 0, 16), "r1 |= 16", "r1 |= 0x10"),
    ((0x5C, 1, 2, 0, 0), "w1 &= w2", "w1 &= w2"),
    ((0x67, 1, 0, 0, 32), "r1 <<= 32", "r1 <<= 0x20"),
    ((0x77, 1, 0, 0, 32), "r1 >>= 32", "r1 >>= 0x20"),
    ((0x87, 1, 0, 0, 0), "r1 = -r1", "r1 = -r1"),
    ((0x84, 1, 0, 0, 0), "w1 = -w1", "w1 = -w1"),
    ((0x97, 1, 0, 0, 10), "r1 %= 10", "r1 %= 0xa"),
    ((0x9C, 1, 2, 0, 0), "w1 %= w2", "w1 %= w2"),
    ((0xAF, 1, 2, 0, 0), "r1 ^= r2", "r1 ^= r2"),
    ((0xB7, 0, 0, 0, -2147483648), "r0 = -2147483648", "r0 = -0x80000000"),
    ((0xB4, 0, 0, 0, 1), "w0 = 1", "w0 = 0x1"),
    ((0xBF, 6, 1, 0, 0), "r6 = r1", "r6 = r1"),
    ((0xBC, 6, 1, 0, 0), "w6 = w1", "w6 = w1"),
    ((0xC7, 1, 0, 0, 3), "r1 s>>= 3", "r1 s>>= 0x3"),
    ((0xCC, 1, 2, 0, 0), "w1 s>>= w2", "w1 s>>= w2"),
    ((0xD4, 1, 0, 0, 16), "r1 = le16 r1", "r1 = le16 r1"),
    ((0xDC, 1, 0, 0, 64), "r1 = be64 r1", "r1 = be64 r1"),
    # cpu v4 (Linux 6.6): signed div/mod, movsx, bswap
    ((0x3F, 1, 2, 1, 0), "r1 s/= r2", "r1 s/= r2"),
    ((0x34, 1, 0, 1, -3), "w1 s/= -3", "w1 s/= -0x3"),
    ((0x9F, 1, 2, 1, 0), "r1 s%= r2", "r1 s%= r2"),
    ((0x97, 1, 0, 1, 7), "r1 s%= 7", "r1 s%= 0x7"),
    ((0xBF, 1, 2, 8, 0), "r1 = (s8)r2", "r1 = (s8)r2"),
    ((0xBF, 1, 2, 32, 0), "r1 = (s32)r2", "r1 = (s32)r2"),
    ((0xBC, 1, 2, 16, 0), "w1 = (s16)w2", "w1 = (s16)w2"),
    ((0xD7, 0, 0, 0, 16), "r0 = bswap16 r0", "r0 = bswap16 r0"),
    ((0xD7, 3, 0, 0, 64), "r3 = bswap64 r3", "r3 = bswap64 r3"),
    ((0xBF, 1, 2, 1, 0x10000), "r1 = addr_space_cast(r2, 1, 0)",
     "r1 = addr_space_cast(r2, 0x1, 0x0)"),
    # jumps
    ((0x05, 0, 0, 3, 0), "goto +3", "goto +0x3"),
    ((0x05, 0, 0, -1, 0), "goto -1", "goto -0x1"),
    ((0x15, 1, 0, 0, 0), "if r1 == 0 goto +0", "if r1 == 0x0 goto +0x0"),
    ((0x25, 1, 0, 3, 5), "if r1 > 5 goto +3", "if r1 > 0x5 goto +0x3"),
    ((0x2D, 1, 2, 1, 0), "if r1 > r2 goto +1", "if r1 > r2 goto +0x1"),
    ((0x3E, 1, 2, 1, 0), "if w1 >= w2 goto +1", "if w1 >= w2 goto +0x1"),
    ((0x45, 1, 0, 2, 8), "if r1 & 8 goto +2", "if r1 & 0x8 goto +0x2"),
    ((0x4E, 1, 2, 2, 0), "if w1 & w2 goto +2", "if w1 & w2 goto +0x2"),
    ((0x56, 1, 0, -5, -1), "if w1 != -1 goto -5", "if w1 != -0x1 goto -0x5"),
    ((0x65, 1, 0, 1, -1), "if r1 s> -1 goto +1", "if r1 s> -0x1 goto +0x1"),
    ((0x7E, 1, 2, 1, 0), "if w1 s>= w2 goto +1", "if w1 s>= w2 goto +0x1"),
    ((0xA5, 1, 0, 1, 9), "if r1 < 9 goto +1", "if r1 < 0x9 goto +0x1"),
    ((0xBD, 1, 2, 1, 0), "if r1 <= r2 goto +1", "if r1 <= r2 goto +0x1"),
    ((0xC6, 1, 0, 1, 0), "if w1 s< 0 goto +1", "if w1 s< 0x0 goto +0x1"),
    ((0xDD, 1, 2, 1, 0), "if r1 s<= r2 goto +1", "if r1 s<= r2 goto +0x1"),
    ((0x06, 0, 0, 0, 70000), "gotol +70000", "gotol +0x11170"),
    ((0xE5, 0, 0, 4, 0), "may_goto +4", "may_goto +0x4"),
    ((0x85, 0, 0, 0, 14), "call 14", "call 0xe"),
    ((0x85, 0, 1, 0, -1), "call -1", "call -0x1"),
    ((0x85, 0, 2, 0, 1234), "call 1234", "call 0x4d2"),
    ((0x95, 0, 0, 0, 0), "exit", "exit"),
    # loads and stores
    ((0x61, 0, 1, 4, 0), "r0 = *(u32 *)(r1 + 4)", "r0 = *(u32 *)(r1 + 0x4)"),
    ((0x69, 0, 1, -2, 0), "r0 = *(u16 *)(r1 - 2)", "r0 = *(u16 *)(r1 - 0x2)"),
    ((0x71, 0, 1, 0, 0), "r0 = *(u8 *)(r1 + 0)", "r0 = *(u8 *)(r1 + 0x0)"),
    ((0x79, 0, 10, -8, 0), "r0 = *(u64 *)(r10 - 8)", "r0 = *(u64 *)(r10 - 0x8)"),
    ((0x91, 0, 1, 0, 0), "r0 = *(s8 *)(r1 + 0)", "r0 = *(s8 *)(r1 + 0x0)"),
    ((0x89, 0, 1, 2, 0), "r0 = *(s16 *)(r1 + 2)", "r0 = *(s16 *)(r1 + 0x2)"),
    ((0x81, 0, 1, 4, 0), "r0 = *(s32 *)(r1 + 4)", "r0 = *(s32 *)(r1 + 0x4)"),
    ((0x63, 10, 1, -4, 0), "*(u32 *)(r10 - 4) = r1", "*(u32 *)(r10 - 0x4) = r1"),
    ((0x7B, 10, 6, -16, 0), "*(u64 *)(r10 - 16) = r6", "*(u64 *)(r10 - 0x10) = r6"),
    ((0x62, 10, 0, -4, 7), "*(u32 *)(r10 - 4) = 7", "*(u32 *)(r10 - 0x4) = 0x7"),
    ((0x7A, 1, 0, 0, -1), "*(u64 *)(r1 + 0) = -1", "*(u64 *)(r1 + 0x0) = -0x1"),
    ((0x20, 0, 0, 0, 12), "r0 = *(u32 *)skb[12]", "r0 = *(u32 *)skb[0xc]"),
    ((0x30, 0, 0, 0, 23), "r0 = *(u8 *)skb[23]", "r0 = *(u8 *)skb[0x17]"),
    ((0x48, 0, 3, 0, 0), "r0 = *(u16 *)skb[r3]", "r0 = *(u16 *)skb[r3]"),
    ((0x40, 0, 3, 0, 4), "r0 = *(u32 *)skb[r3 + 4]", "r0 = *(u32 *)skb[r3 + 0x4]"),
    # atomics
    ((0xDB, 0, 6, 0, 0x00), "lock *(u64 *)(r0 + 0) += r6", "lock *(u64 *)(r0 + 0x0) += r6"),
    ((0xDB, 1, 2, 8, 0x40), "lock *(u64 *)(r1 + 8) |= r2", "lock *(u64 *)(r1 + 0x8) |= r2"),
    ((0xDB, 1, 2, 0, 0x51), "r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)",
     "r2 = atomic_fetch_and((u64 *)(r1 + 0x0), r2)"),
    ((0xDB, 1, 2, 0, 0xE1), "r2 = xchg_64(r1 + 0, r2)", "r2 = xchg_64(r1 + 0x0, r2)"),
    ((0xDB, 1, 2, 0, 0xF1), "r0 = cmpxchg_64(r1 + 0, r0, r2)",
     "r0 = cmpxchg_64(r1 + 0x0, r0, r2)"),
    ((0xC3, 1, 2, 0, 0x00), "lock *(u32 *)(r1 + 0) += r2", "lock *(u32 *)(r1 + 0x0) += r2"),
    ((0xC3, 1, 2, 0, 0xA0), "lock *(u32 *)(r1 + 0) ^= w2", "lock *(u32 *)(r1 + 0x0) ^= w2"),
    ((0xC3, 1, 2, 0, 0x01), "w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)",
     "w2 = atomic_fetch_add((u32 *)(r1 + 0x0), w2)"),
    ((0xC3, 1, 2, 0, 0xE1), "w2 = xchg32_32(r1 + 0, w2)", "w2 = xchg32_32(r1 + 0x0, w2)"),
    ((0xC3, 1, 2, 0, 0xF1), "w0 = cmpxchg32_32(r1 + 0, w0, w2)",
     "w0 = cmpxchg32_32(r1 + 0x0, w0, w2)"),
    ((0xDB, 1, 2, 0, 0x100), "r1 = load_acquire((u64 *)(r2 + 0))",
     "r1 = load_acquire((u64 *)(r2 + 0x0))"),
    ((0xD3, 1, 2, 0, 0x100), "w1 = load_acquire((u8 *)(r2 + 0))",
     "w1 = load_acquire((u8 *)(r2 + 0x0))"),
    ((0xDB, 1, 2, 0, 0x110), "store_release((u64 *)(r1 + 0), r2)",
     "store_release((u64 *)(r1 + 0x0), r2)"),
    ((0xCB, 1, 2, 0, 0x110), "store_release((u16 *)(r1 + 0), w2)",
     "store_release((u16 *)(r1 + 0x0), w2)"),
    # lddw with every pseudo source
    ((0x18, 1, 0, 0, 0), "r1 = 0 ll", "r1 = 0x0 ll"),
    ((0x18, 1, 0, 0, 0x123456789ABCDEF0), "r1 = 1311768467463790320 ll",
     "r1 = 0x123456789abcdef0 ll"),
    ((0x18, 1, 0, 0, -1), "r1 = -1 ll", "r1 = -0x1 ll"),
    ((0x18, 1, 1, 0, 5), "ld_pseudo\tr1, 1, 5", "ld_pseudo\tr1, 0x1, 0x5"),
    ((0x18, 1, 2, 0, 5 | 16 << 32), "ld_pseudo\tr1, 2, 68719476741",
     "ld_pseudo\tr1, 0x2, 0x1000000005"),
    ((0x18, 2, 3, 0, 777), "ld_pseudo\tr2, 3, 777", "ld_pseudo\tr2, 0x3, 0x309"),
    ((0x18, 2, 4, 0, 3), "ld_pseudo\tr2, 4, 3", "ld_pseudo\tr2, 0x4, 0x3"),
    ((0x18, 2, 5, 0, 0), "ld_pseudo\tr2, 5, 0", "ld_pseudo\tr2, 0x5, 0x0"),
    ((0x18, 2, 6, 0, 1), "ld_pseudo\tr2, 6, 1", "ld_pseudo\tr2, 0x6, 0x1"),
]


@pytest.mark.parametrize("fields, decimal, hexa", CASES, ids=[c[1] for c in CASES])
def test_each_kind_prints_like_llvm(fields: tuple[int, ...], decimal: str, hexa: str) -> None:
    insn = Instruction(*fields)
    assert format_instruction(insn) == decimal
    assert format_instruction(insn, imm_hex=True) == hexa
    # the bytes decode back to the same instruction
    assert Instruction.decode(insn.encode()) == [insn]


def test_alu32_names_w_registers_of_narrow_loads_and_stores() -> None:
    assert format_instruction(Instruction(0x61, 1, 2, 3, 0), alu32=True) == \
        "w1 = *(u32 *)(r2 + 3)"
    assert format_instruction(Instruction(0x73, 1, 2, 3, 0), alu32=True) == \
        "*(u8 *)(r1 + 3) = w2"
    assert format_instruction(Instruction(0x79, 1, 2, 3, 0), alu32=True) == \
        "r1 = *(u64 *)(r2 + 3)"
    assert format_instruction(Instruction(0xC3, 1, 2, 0, 0), alu32=True) == \
        "lock *(u32 *)(r1 + 0) += w2"


@pytest.mark.parametrize("fields", [
    (0x00, 0, 0, 0, 0),      # class LD, mode IMM, size W: no such instruction
    (0x95, 0, 0, 0, 1),      # exit with an immediate
    (0x07, 1, 2, 0, 5),      # ALU|K with a source register
    (0xD7, 1, 0, 0, 8),      # bswap8
    (0xBF, 1, 2, 2, 0),      # mov with off=2
    (0x8D, 0, 1, 0, 0),      # callx: rejected by the kernel
    (0xE5, 1, 0, 0, 0),      # may_goto with a register
    (0x18, 1, 7, 0, 0),      # lddw source 7
    (0xD3, 1, 2, 0, 0x00),   # 8-bit atomic add
    (0xDB, 1, 2, 0, 0x02),   # atomic op 2
    (0x07, 11, 0, 0, 0),     # r11
    (0xF7, 1, 0, 0, 0),      # ALU op 0xf0
])
def test_invalid_instructions_raise_asm_error(fields: tuple[int, ...]) -> None:
    with pytest.raises(AsmError, match=f"unknown instruction: opcode {fields[0]:#04x}"):
        format_instruction(Instruction(*fields))


def test_unknown_opcode_error_names_the_byte_offset() -> None:
    code = Instruction(0xB7).encode() + bytes.fromhex("18 01 00 00 00 00 00 00") + \
        bytes(8) + bytes.fromhex("ff 00 00 00 00 00 00 00")
    with pytest.raises(AsmError) as info:
        disassemble(code, source="prog")
    assert info.value.offset == 24
    assert "prog, offset 0x18: unknown instruction: opcode 0xff" in str(info.value)
