"""Carry ``.BTF.ext`` records (func/line info, CO-RE relocations) into linked programs.

In the file every record names an ELF section and a BYTE offset within it. A linked program
(:mod:`pybpf.elf.linker`) is a list of functions copied from several sections, so each
record is moved with its function: the result's ``insn_off`` is an instruction SLOT index
(8-byte units, an lddw counts two) into ``ProgramSpec.instructions``, which is what
BPF_PROG_LOAD's ``func_info``/``line_info`` and CO-RE relocation want after linking.

Each instruction that has a line-info record also gets it as ``Instruction.source``.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Any

from ..asm.instruction import SLOT_BYTES
from .linker import LinkedProgram


def _move(records: list[Any], program: LinkedProgram) -> list[Any]:
    """Records of every placed function, their ``insn_off`` turned into program slots."""
    moved = []
    for place in program.placements:
        func = place.function
        offsets = [r.insn_off for r in records]
        lo = bisect.bisect_left(offsets, func.byte_start)
        hi = bisect.bisect_left(offsets, func.byte_end)
        for record in records[lo:hi]:
            slot = place.start_slot + (record.insn_off - func.byte_start) // SLOT_BYTES
            moved.append(dataclasses.replace(record, insn_off=slot))
    return moved


def _records_by_section(ext_area: dict[str, list[Any]], section_name: str) -> list[Any]:
    return sorted(ext_area.get(section_name, ()), key=lambda r: r.insn_off)


def program_ext_info(ext: Any, program: LinkedProgram) -> tuple[list[Any], list[Any], list[Any]]:
    """(func_info, line_info, core_relos) of ``program``, offsets in instruction slots.

    ``ext`` is a :class:`pybpf.btf.ext.ExtInfo`; records of functions not in the program
    are left out.
    """
    results = []
    for area in (ext.func_infos, ext.line_infos, ext.core_relos):
        by_section: dict[str, list[Any]] = {}
        collected: list[Any] = []
        for place in program.placements:
            name = place.function.section.name
            if name not in by_section:
                by_section[name] = _records_by_section(area, name)
            collected.extend(_move(by_section[name], LinkedProgram([], [place])))
        collected.sort(key=lambda r: r.insn_off)
        results.append(collected)
    return results[0], results[1], results[2]


def attach_line_sources(program: LinkedProgram, line_info: list[Any]) -> None:
    """Set ``Instruction.source`` to the line-info record covering each instruction.

    A record covers its instruction and those after it up to the next record (that is how
    line tables work; clang emits a record only where the line changes).
    """
    if not line_info:
        return
    insns = program.instructions
    record_pos = 0
    current = None
    slot = 0
    for index, insn in enumerate(insns):
        while record_pos < len(line_info) and line_info[record_pos].insn_off <= slot:
            current = line_info[record_pos]
            record_pos += 1
        if current is not None:
            insns[index] = insn.with_(source=current)
        slot += insn.slots
