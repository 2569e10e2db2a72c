"""Complete the DATASECs of an object file's BTF, as a static linker would.

clang cannot know where the assembler places global variables, so in a ``.o`` every DATASEC
has size 0 and most variables offset 0: the real numbers are the ELF section sizes and the
symbols' values (``.rel.BTF`` carries R_BPF_64_NODYLD32 entries for exactly those slots). The
kernel rejects such a DATASEC, so the reader fills them in before anyone uses the BTF.

``.kconfig``/``.ksyms`` DATASECs describe externs: their offsets are assigned by
:mod:`pybpf.elf.externs` instead.
"""

from __future__ import annotations

from typing import Any

from ..btf import Datasec, Var
from .reader import STT_SECTION, ObjectFile


def fix_datasecs(obj: ObjectFile, btf: Any) -> None:
    """Set each DATASEC's size to its section's and each variable's offset to its symbol's.

    Mutates the (mutable) type objects of ``btf``; ``btf.encode()`` then emits the fixed
    values. A DATASEC naming no ELF section (e.g. ``.kconfig``) is left alone.
    """
    sections = {s.name: s for s in obj.sections}
    for t in btf:
        if not isinstance(t, Datasec) or t.name not in sections:
            continue
        section = sections[t.name]
        t.size = section.size
        offsets = {sym.name: sym.value for sym in obj.symbols
                   if sym.section == section.index and sym.type != STT_SECTION}
        for info in t.vars:
            var = info.type
            if isinstance(var, Var) and var.name in offsets:
                info.offset = offsets[var.name]
