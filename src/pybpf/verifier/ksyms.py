"""Typed kernel symbols (``lddw rX, sym`` with BPF_PSEUDO_BTF_ID): the kernel resolves
each one's address by kallsyms before it walks a single instruction
(check_pseudo_btf_id), and refuses the program when the symbol has none (a variable of a
kernel built without CONFIG_KALLSYMS_ALL, say). /proc/kallsyms lists the same names."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ..asm.instruction import Instruction
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc

KALLSYMS = "/proc/kallsyms"


@functools.cache
def _names() -> frozenset[str] | None:
    try:
        with open(KALLSYMS, encoding="ascii", errors="replace") as f:
            # "address type name [module]"
            return frozenset(parts[2] for line in f if len(parts := line.split()) >= 3)
    except OSError:
        return None


def has_address(name: str) -> bool | None:
    """Whether the running kernel's kallsyms lists ``name`` (None: cannot tell)."""
    names = _names()
    return None if names is None else name in names


def unresolved_ksym(insns: Sequence[Instruction]) -> tuple[int, str] | None:
    """(slot, name) of the first typed ksym the running kernel has no address for, or
    None (also when there is no /proc/kallsyms to tell: nothing is claimed then)."""
    slot = 0
    for insn in insns:
        if insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.BTF_ID and insn.reference:
            names = _names()
            if names is not None and insn.reference not in names:
                return slot, insn.reference
        slot += insn.slots
    return None


__all__: list[str] = []
