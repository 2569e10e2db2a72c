"""A compiled collection as a BPF ELF object, the shape clang gives libbpf.

The writing is :mod:`pybpf.elf.writer`'s, which takes any CollectionSpec. What this module
adds is the spec an object needs beyond what loading needs (see :mod:`.btfgen`): BTF with
the ``.maps`` DATASEC of BTF-defined map structs, and CO-RE relocation records for the
kernel-type field accesses, whose local types are shadows of the kernel's structs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..asm.opcodes import LDDW_OPCODE
from ..elf import writer
from ..elf.writer import EM_BPF, R_BPF_64_64
from ..errors import ELFError
from ..spec import CollectionSpec
from .btfgen import build_program_btf

__all__ = ["write_object", "object_spec", "ObjectLayout", "EM_BPF", "R_BPF_64_64"]


@dataclass
class ObjectLayout(writer.ObjectLayout):
    """Where each program landed, and how many kernel-type accesses got no CO-RE record
    (their offsets are this kernel's)."""

    skipped_core: int = 0


def object_spec(compiled: Any, programs: list[str] | None = None
                ) -> tuple[CollectionSpec, int]:
    """The spec of ``compiled`` (a :class:`~.compiler.CompiledCollection`) to write as an
    object, with only ``programs`` if given and the maps they use; and the number of
    kernel-type accesses no CO-RE record could describe."""
    names = programs or list(compiled.programs)
    missing = [n for n in names if n not in compiled.programs]
    if missing:
        raise ELFError(f"no program named {missing[0]!r} (have: "
                       f"{', '.join(compiled.programs)})")
    chosen = {n: compiled.programs[n] for n in names}
    used = {i.reference for p in chosen.values() for i in p.spec.instructions
            if i.opcode == LDDW_OPCODE and i.reference}
    maps = {n: m for n, m in compiled.spec.maps.items() if n in used}
    pbtf = build_program_btf(chosen, maps, with_map_defs=True)
    spec = CollectionSpec(btf=pbtf.spec, license=compiled.spec.license,
                          kernel_version=compiled.spec.kernel_version)
    for name, prog in chosen.items():
        spec.programs[name] = dataclasses.replace(
            prog.spec, btf=pbtf.spec, func_info=pbtf.func_info[name],
            line_info=pbtf.line_info[name], core_relos=pbtf.core_relos[name])
    for name, m in maps.items():
        key_type, value_type = pbtf.map_types[name]
        spec.maps[name] = dataclasses.replace(m, key_type=key_type, value_type=value_type)
    return spec, pbtf.skipped_core


def write_object(compiled: Any, programs: list[str] | None = None) -> tuple[bytes, ObjectLayout]:
    """The ELF object bytes of ``compiled``, with only ``programs`` if given; and where
    each program went.

    Raises :class:`ELFError` for a program name that is not in the collection or an
    instruction that references something the object cannot name.
    """
    spec, skipped = object_spec(compiled, programs)
    data, layout = writer.write_object(spec)
    return data, ObjectLayout(layout.program_offsets, skipped_core=skipped)
