"""A program's instructions with their raw slot offsets counted in one place.

Jump offsets, line info, CO-RE relocations, verifier messages and ``bpftool`` all count
8-byte *slots*; a list counts instructions, and an ``lddw`` is one instruction in two slots.
:class:`Instructions` is a list of :class:`~.instruction.Instruction` that also knows each
one's slot (as cilium/ebpf's ``Instructions.Iterate()`` and ``RawInstructionOffset``), so
no caller keeps its own ``slot += insn.slots`` loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .instruction import Instruction

__all__ = ["Instructions"]


class Instructions(list[Instruction]):
    """A list of instructions that maps between instruction indexes and raw slot offsets.

    ``Instructions(insns)`` wraps any iterable of instructions (a copy of the list, not of
    the instructions, which are immutable values). The mapping is computed when asked, so
    the list may be edited freely in between.
    """

    __slots__ = ()

    def __init__(self, insns: Iterable[Instruction] = ()) -> None:
        super().__init__(insns)

    def iterate(self) -> Iterator[tuple[int, Instruction]]:
        """Each instruction with its raw slot offset: ``(slot, insn)`` in order."""
        slot = 0
        for insn in self:
            yield slot, insn
            slot += 2 if insn.is_wide else 1

    def enumerate(self) -> Iterator[tuple[int, int, Instruction]]:
        """Each instruction with its index and slot: ``(index, slot, insn)``."""
        for index, (slot, insn) in enumerate(self.iterate()):
            yield index, slot, insn

    @property
    def slot_count(self) -> int:
        """How many 8-byte slots the instructions take (what the kernel calls insn_cnt)."""
        return sum(2 if insn.is_wide else 1 for insn in self)

    def offsets(self) -> list[int]:
        """The slot of every instruction, by index."""
        return [slot for slot, _ in self.iterate()]

    def slot_to_index(self) -> dict[int, int]:
        """Index of the instruction starting at each slot (the second slot of an lddw
        starts none, so it is absent)."""
        return {slot: index for index, slot, _ in self.enumerate()}

    def by_slot(self) -> dict[int, Instruction]:
        """The instruction starting at each slot."""
        return dict(self.iterate())

    def slot_of(self, index: int) -> int:
        """The slot where instruction ``index`` starts (``len(self)`` gives the end)."""
        if not 0 <= index <= len(self):
            raise IndexError(f"instruction index {index} is outside 0..{len(self)}")
        return sum(2 if insn.is_wide else 1 for insn in self[:index])

    def index_at(self, slot: int) -> int:
        """The index of the instruction starting at ``slot``. Raises IndexError for a slot
        past the end or inside an lddw."""
        for index, start, _ in self.enumerate():
            if start == slot:
                return index
            if start > slot:
                break
        raise IndexError(f"no instruction starts at slot {slot}")
