"""Split code sections into functions by their FUNC symbols, and decode their instructions.

A code section (``.text`` or a program section such as ``xdp``) holds one or more functions,
each named by an ``STT_FUNC`` symbol at a byte offset with a byte size. Jumps never cross a
function boundary, so a function's instructions can be moved as a block: the linker
(:mod:`pybpf.elf.linker`) relies on that.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..asm.instruction import SLOT_BYTES, Instruction
from ..asm.instructions import Instructions
from ..errors import AsmError
from .reader import STB_LOCAL, STT_FUNC, ObjectFile, Section, Symbol


@dataclass
class Function:
    """One function of a code section.

    ``start_slot``/``end_slot`` are instruction slots (8 bytes each) within ``section``;
    ``insns`` are its decoded instructions (an lddw counts as one instruction, two slots),
    with relocations applied by :mod:`pybpf.elf.relocations`. ``slot_to_index`` maps a slot
    offset *within the function* to the index of the instruction starting there.
    """

    name: str
    section: Section
    start_slot: int
    end_slot: int
    is_static: bool
    insns: list[Instruction] = field(default_factory=list)
    slot_to_index: dict[int, int] = field(default_factory=dict)

    @property
    def byte_start(self) -> int:
        return self.start_slot * SLOT_BYTES

    @property
    def byte_end(self) -> int:
        return self.end_slot * SLOT_BYTES

    @property
    def in_text(self) -> bool:
        return self.section.name == ".text"


@dataclass
class CodeLayout:
    """Every function of the object, findable by name and by (section, slot)."""

    functions: dict[str, Function] = field(default_factory=dict)
    # section index -> (sorted start slots, functions in the same order)
    _by_section: dict[int, tuple[list[int], list[Function]]] = field(default_factory=dict)

    def add(self, func: Function) -> None:
        self.functions[func.name] = func
        starts, funcs = self._by_section.setdefault(func.section.index, ([], []))
        pos = bisect.bisect_left(starts, func.start_slot)
        starts.insert(pos, func.start_slot)
        funcs.insert(pos, func)

    def at(self, section_index: int, slot: int) -> Function | None:
        """The function starting exactly at ``slot`` of a section, if any."""
        starts, funcs = self._by_section.get(section_index, ([], []))
        pos = bisect.bisect_left(starts, slot)
        if pos < len(starts) and starts[pos] == slot:
            return funcs[pos]
        return None

    def containing(self, section_index: int, slot: int) -> Function | None:
        """The function whose slot range holds ``slot``, if any."""
        starts, funcs = self._by_section.get(section_index, ([], []))
        pos = bisect.bisect_right(starts, slot) - 1
        if pos >= 0 and funcs[pos].start_slot <= slot < funcs[pos].end_slot:
            return funcs[pos]
        return None

    def in_section(self, section_index: int) -> list[Function]:
        return list(self._by_section.get(section_index, ([], []))[1])


def split_functions(obj: ObjectFile, code_sections: list[Section]) -> CodeLayout:
    """Find and decode every function of ``code_sections``.

    Raises :class:`ELFError` for a function symbol that is misaligned, overlaps another or
    runs past its section, and for instructions that do not decode (a cut lddw).
    """
    layout = CodeLayout()
    wanted = {sec.index: sec for sec in code_sections}
    func_symbols: dict[int, list[Symbol]] = {}
    for sym in obj.symbols:
        if sym.type == STT_FUNC and sym.section in wanted:
            func_symbols.setdefault(sym.section, []).append(sym)
    for sec_index, symbols in func_symbols.items():
        section = wanted[sec_index]
        symbols.sort(key=lambda s: s.value)
        previous_end = 0
        for sym in symbols:
            _check_function_symbol(obj, section, sym, previous_end)
            previous_end = sym.value + sym.size
            name = sym.name
            if name in layout.functions:
                # two static functions of one name can meet in a linked object: keep both
                name = f"{sym.name}@{section.name}"
            func = Function(name, section, sym.value // SLOT_BYTES,
                            (sym.value + sym.size) // SLOT_BYTES, sym.bind == STB_LOCAL)
            _decode_function(obj, func)
            layout.add(func)
    return layout


def _check_function_symbol(obj: ObjectFile, section: Section, sym: Symbol,
                           previous_end: int) -> None:
    if sym.value % SLOT_BYTES or sym.size % SLOT_BYTES or not sym.size:
        raise obj.error(f"function {sym.name!r} is not a whole number of 8-byte instructions "
                        f"(offset {sym.value}, size {sym.size})", section=section,
                        offset=sym.value)
    if sym.value + sym.size > section.size:
        raise obj.error(f"function {sym.name!r} runs past the end of its section "
                        f"({sym.value}+{sym.size} > {section.size})", section=section,
                        offset=sym.value)
    if sym.value < previous_end:
        raise obj.error(f"function {sym.name!r} overlaps the function before it",
                        section=section, offset=sym.value)


def _decode_function(obj: ObjectFile, func: Function) -> None:
    body = func.section.data[func.byte_start:func.byte_end]
    try:
        insns = Instruction.decode(body)
    except AsmError as err:
        offset = func.byte_start + (err.offset or 0)
        raise obj.error(f"function {func.name!r}: {err.message}", section=func.section,
                        offset=offset) from None
    func.slot_to_index.update(Instructions(insns).slot_to_index())
    func.insns = insns
