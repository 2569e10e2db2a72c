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
def _kallsyms() -> bytes | None:
    try:
        with open(KALLSYMS, "rb") as f:
            return f.read()
    except OSError:
        return None


@functools.cache
def has_address(name: str) -> bool | None:
    """Whether the running kernel's kallsyms lists ``name`` (None: cannot tell).

    A search of the text for the name as a line's third field ("address type name", then
    a tab and the module, or the line's end): a program asks for a few names, and making a
    set of all 100k+ of them took twice as long as reading the file."""
    text = _kallsyms()
    if text is None:
        return None
    needle = b" " + name.encode()
    i = text.find(needle)
    while i >= 0:
        after = text[i + len(needle):i + len(needle) + 1]
        if i >= 2 and text[i - 2] == _SPACE and after in (b"\n", b"\t", b""):
            return True
        i = text.find(needle, i + 1)
    return False


_SPACE = ord(" ")


def unresolved_ksym(insns: Sequence[Instruction]) -> tuple[int, str] | None:
    """(slot, name) of the first typed ksym the running kernel has no address for, or
    None (also when there is no /proc/kallsyms to tell: nothing is claimed then)."""
    wide = 0   # lddw before this one: the slot is the index plus those
    for index, insn in enumerate(insns):
        if insn.opcode == LDDW_OPCODE:
            if insn.src == _BTF_ID and insn.reference and \
                    has_address(insn.reference) is False:
                return index + wide, insn.reference
            wide += 1
    return None


_BTF_ID = int(PseudoSrc.BTF_ID)


__all__: list[str] = []
