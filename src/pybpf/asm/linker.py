"""Resolve symbolic labels into branch offsets: the last step before encoding.

Producers (the builder, the assembler, later the compiler) emit branches, bpf-to-bpf calls
and ``ld_func`` loads that name a label in ``reference``; :func:`link` computes every offset
at once, so a rewrite that inserts instructions only has to link again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import AsmError
from ._codes import BPF_PSEUDO_FUNC
from .builder import Label
from .instruction import Instruction

_INT16 = range(-(1 << 15), 1 << 15)
_INT32 = range(-(1 << 31), 1 << 31)


def _links_to_label(insn: Instruction) -> bool:
    """True for instructions whose ``reference`` is a label inside the program."""
    if insn.is_jump or insn.is_pseudo_call:
        return True
    return insn.is_wide and insn.src == BPF_PSEUDO_FUNC


def link(items: Iterable[Instruction | Label], *, source: str | None = None
         ) -> list[Instruction]:
    """The instructions with labels attached and label references turned into offsets.

    ``items`` mixes instructions and :class:`Label` markers; a marker names the next
    instruction (it becomes that instruction's ``symbol`` unless it has one). References of
    other instructions (map names on lddw, kfunc names) are left for a loader.

    Raises :class:`AsmError` for an undefined or duplicate label, a label at the end of the
    program, or an offset that does not fit its field.
    """
    insns: list[Instruction] = []
    labels: dict[str, int] = {}   # label -> slot
    symbol_at: dict[int, str] = {}   # slot -> symbol of the instruction there
    to_link: list[tuple[int, int]] = []   # (index, slot) of the references to labels
    pending: list[str] = []
    slot = 0
    for item in items:
        if isinstance(item, Label):
            if item.name in labels or item.name in pending:
                raise AsmError(f"label {item.name!r} defined twice", source=source)
            pending.append(item.name)
            continue
        if item.symbol is not None:
            if item.symbol in labels or item.symbol in pending:
                raise AsmError(f"label {item.symbol!r} defined twice", source=source)
            labels[item.symbol] = slot
        if pending:
            for name in pending:
                labels[name] = slot
            if item.symbol is None:
                item = item.with_(symbol=pending[0])
            pending = []
        if item.symbol is not None:
            symbol_at[slot] = item.symbol
        if item.reference is not None and _links_to_label(item):
            to_link.append((len(insns), slot))
        insns.append(item)
        slot += item.slots
    if pending:
        raise AsmError(f"label {pending[0]!r} names no instruction (end of program)",
                       source=source)

    # every labelled instruction carries one name, its symbol; a reference to another label
    # of it is renamed to that symbol, so linking the result again gives the same program
    # (only the references change: a decoded program is mostly other instructions)
    for index, slot in to_link:
        insn = insns[index]
        target = labels.get(insn.reference)  # type: ignore[arg-type]
        if target is None:
            raise AsmError(f"instruction {index}: undefined label {insn.reference!r}",
                           source=source)
        if symbol_at.get(target, insn.reference) != insn.reference:
            insn = insn.with_(reference=symbol_at[target])
        offset = target - slot - 1
        if insn.is_wide:
            # a function address (lddw src=FUNC) keeps its offset in the first slot's
            # imm only, as clang emits it: the second slot's imm stays zero
            insn = insn.with_(imm=offset & 0xFFFF_FFFF)
        else:
            fits = _INT32 if (insn.is_long_jump or insn.is_call) else _INT16
            if offset not in fits:
                raise AsmError(f"instruction {index}: jump to {insn.reference!r} "
                               f"({offset:+d} slots) does not fit; use gotol",
                               source=source)
            insn = insn.with_jump_offset(offset)
        insns[index] = insn
    return insns
