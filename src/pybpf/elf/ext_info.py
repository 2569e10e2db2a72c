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

from ..asm.instruction import SLOT_BYTES, Instruction
from ..asm.instructions import Instructions
from ..btf.ext import CORERelo, FuncInfo, LineInfo
from .linker import LinkedProgram, Placement


def _move(records: list[Any], offsets: list[int], place: Placement) -> list[Any]:
    """The records of one placed function (``offsets`` are the sorted records' byte
    offsets), their ``insn_off`` turned into program slots."""
    func = place.function
    lo = bisect.bisect_left(offsets, func.byte_start)
    hi = bisect.bisect_left(offsets, func.byte_end)
    base = place.start_slot - func.byte_start // SLOT_BYTES
    return [_with_insn_off(record, base + record.insn_off // SLOT_BYTES)
            for record in records[lo:hi]]


def _with_insn_off(record: Any, slot: int) -> Any:
    # direct construction of the three known record types: dataclasses.replace costs
    # several times more and runs for every line of every program
    if isinstance(record, LineInfo):
        return LineInfo(slot, record.file_name, record.line_text, record.line, record.column)
    if isinstance(record, FuncInfo):
        return FuncInfo(slot, record.type)
    if isinstance(record, CORERelo):
        return CORERelo(slot, record.type, record.access_str, record.kind)
    return dataclasses.replace(record, insn_off=slot)


def _records_by_section(ext_area: dict[str, list[Any]], section_name: str
                        ) -> tuple[list[Any], list[int]]:
    records = sorted(ext_area.get(section_name, ()), key=lambda r: r.insn_off)
    return records, [r.insn_off for r in records]


def program_ext_info(ext: Any, program: LinkedProgram,
                     cache: dict[tuple[int, str], tuple[list[Any], list[int]]] | None = None
                     ) -> tuple[list[Any], list[Any], list[Any]]:
    """(func_info, line_info, core_relos) of ``program``, offsets in instruction slots.

    ``ext`` is a :class:`pybpf.btf.ext.ExtInfo`; records of functions not in the program
    are left out. ``cache`` (one dict shared by the programs of one object) keeps each
    section's records sorted once.
    """
    if cache is None:
        cache = {}
    results = []
    for area in (ext.func_infos, ext.line_infos, ext.core_relos):
        collected: list[Any] = []
        for place in program.placements:
            name = place.function.section.name
            key = (id(area), name)
            if key not in cache:
                cache[key] = _records_by_section(area, name)
            records, offsets = cache[key]
            collected.extend(_move(records, offsets, place))
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
    for index, slot, insn in Instructions(insns).enumerate():
        while record_pos < len(line_info) and line_info[record_pos].insn_off <= slot:
            current = line_info[record_pos]
            record_pos += 1
        if current is not None:
            # the constructor, not dataclasses.replace: this runs for every instruction
            insns[index] = Instruction(insn.opcode, insn.dst, insn.src, insn.off, insn.imm,
                                       insn.symbol, insn.reference, current)
