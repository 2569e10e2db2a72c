"""Linking is idempotent: a linked program links again to itself, also when two labels
name one instruction (the second label used to vanish, so a loader's second link failed)."""

from __future__ import annotations

from pybpf import asm
from pybpf.asm import R0, R1


def test_two_labels_on_one_instruction_link_again() -> None:
    linked = asm.link([
        asm.mov(R0, 0),
        asm.jeq(R1, 1, "first"),
        asm.jeq(R1, 2, "second"),
        asm.mov(R0, 1),
        asm.label("first"),
        asm.label("second"),
        asm.exit(),
    ])
    assert [i.off for i in linked if i.is_jump and not i.is_exit] == [2, 1]
    assert asm.link(linked) == linked
    assert {i.reference for i in linked if i.reference} == {"first"}
