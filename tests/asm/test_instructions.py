"""asm.Instructions: slots and indexes counted in one place (an lddw takes two slots)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybpf.asm import Instruction, Instructions, exit, ja, lddw, mov


def _program() -> Instructions:
    return Instructions([mov(0, 1), lddw(1, 1 << 40), ja(0), lddw(2, 7), exit()])


def test_iterate_gives_raw_slot_offsets() -> None:
    insns = _program()
    assert [slot for slot, _ in insns.iterate()] == [0, 1, 3, 4, 6]
    assert insns.offsets() == [0, 1, 3, 4, 6]
    assert [(i, s) for i, s, _ in insns.enumerate()] == [(0, 0), (1, 1), (2, 3), (3, 4), (4, 6)]
    assert insns.slot_count == 7 == len(b"".join(i.encode() for i in insns)) // 8


def test_slot_and_index_map_both_ways() -> None:
    insns = _program()
    assert insns.slot_to_index() == {0: 0, 1: 1, 3: 2, 4: 3, 6: 4}
    assert insns.by_slot()[4] is insns[3]
    assert [insns.slot_of(i) for i in range(len(insns) + 1)] == [0, 1, 3, 4, 6, 7]
    assert [insns.index_at(s) for s in (0, 1, 3, 4, 6)] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("slot", [2, 5, 7, -1])
def test_no_instruction_starts_inside_an_lddw_or_past_the_end(slot: int) -> None:
    with pytest.raises(IndexError):
        _program().index_at(slot)


def test_slot_of_refuses_an_index_outside() -> None:
    with pytest.raises(IndexError):
        _program().slot_of(6)


@given(st.lists(st.booleans(), max_size=40))
def test_slots_match_the_encoding(wide: list[bool]) -> None:
    insns = Instructions(lddw(1, n) if w else mov(0, n) for n, w in enumerate(wide))
    raw = b"".join(i.encode() for i in insns)
    decoded = Instruction.decode(raw)
    assert insns.slot_count * 8 == len(raw)
    for index, slot, insn in insns.enumerate():
        assert raw[slot * 8:slot * 8 + 8] == insn.encode()[:8]
        assert decoded[index] == insn
        assert insns.index_at(slot) == index
