"""Complete the DATASECs of an object file's BTF, as a static linker would; mark hidden
global subprograms static, as libbpf does.

clang cannot know where the assembler places global variables, so in a ``.o`` every DATASEC
has size 0 and most variables offset 0: the real numbers are the ELF section sizes and the
symbols' values (``.rel.BTF`` carries R_BPF_64_NODYLD32 entries for exactly those slots). The
kernel rejects such a DATASEC, so the reader fills them in before anyone uses the BTF.

``.kconfig``/``.ksyms`` DATASECs describe externs: their offsets are assigned by
:mod:`pybpf.elf.externs` instead.
"""

from __future__ import annotations

from typing import Any

from ..btf import Datasec, Func, FuncLinkage, Var
from .reader import STB_GLOBAL, STB_WEAK, STT_FUNC, STT_SECTION, ObjectFile

# ELF symbol visibilities that keep a function inside its object (STV_INTERNAL, STV_HIDDEN)
_RESTRICTED_VISIBILITY = (1, 2)


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


def mark_hidden_subprograms_static(obj: ObjectFile, btf: Any) -> list[str]:
    """Give each global subprogram of ``.text`` with hidden or internal visibility (the
    ``__hidden`` helpers of libbpf's ``usdt.bpf.h``, ``bpf_usdt_arg``...) static linkage in
    ``btf``, as libbpf does; returns their names.

    A global BPF function is verified on its own, knowing nothing of its callers'
    arguments, which such helpers do not survive; a static one is verified inline at each
    call. Hidden visibility says the function is not meant to be linked against from
    outside, so nothing is lost.
    """
    text = obj.section_by_name(".text")
    if text is None:
        return []
    hidden = {sym.name for sym in obj.symbols
              if sym.type == STT_FUNC and sym.section == text.index
              and sym.bind in (STB_GLOBAL, STB_WEAK)
              and sym.visibility in _RESTRICTED_VISIBILITY}
    marked = []
    for t in btf:
        if isinstance(t, Func) and t.name in hidden and t.linkage == FuncLinkage.GLOBAL:
            t.linkage = FuncLinkage.STATIC
            marked.append(t.name)
    return marked
