"""Turn the relocations of code sections into symbolic instruction references.

clang leaves four kinds of holes in BPF code, each with a REL entry:

* ``lddw`` of a map (``R_BPF_64_64`` against a symbol in ``.maps``/``maps``): becomes
  ``src=MAP_FD, reference=<map name>``; the backend puts the map's fd in the low imm.
* ``lddw`` of global data (against ``.data``/``.rodata``/``.bss``/``.data.*``... or a
  variable in one): ``src=MAP_VALUE, reference=<section name>`` and the variable's byte
  offset within the section in the upper 32 bits of ``imm`` (the second slot's imm, which
  the kernel adds to the map value address). ``.kconfig`` externs work the same way, at the
  offset :mod:`pybpf.elf.externs` gave them.
* ``lddw`` of a function address (a callback for ``bpf_loop``...): ``src=PSEUDO_FUNC,
  reference=<function>``; ``call`` of a function in another section (``R_BPF_64_32``):
  ``src=PSEUDO_CALL, reference=<function>``. The linker fixes their imm.
* ``call`` of an extern function (a kfunc): ``src=KFUNC, reference=<name>``; ``lddw`` of a
  typed extern ``__ksym`` variable: ``src=BTF_ID, reference=<name>``; resolved against the
  kernel's BTF at load. An untyped (``void``) ksym keeps ``src=0`` with its reference: the
  loader writes its /proc/kallsyms address.

Calls between functions of one section carry no relocation (the offset is final within the
section); :func:`resolve_local_calls` names their targets too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..asm.instruction import SLOT_BYTES, Instruction
from ..asm.instructions import Instructions
from ..asm.opcodes import LDDW_OPCODE, CallSrc, Class, JumpOp, PseudoSrc, Source
from .functions import CodeLayout, Function
from .reader import (
    R_BPF_64_32,
    R_BPF_64_64,
    RELOCATION_NAMES,
    STT_SECTION,
    ObjectFile,
    Relocation,
    Section,
    Symbol,
)

CALL_OPCODE = Class.JMP | JumpOp.CALL | Source.K  # 0x85


@dataclass
class RelocationTargets:
    """What a relocated symbol can stand for, gathered before code is relocated.

    ``maps`` maps (section index, byte offset) of a map definition to the map's name;
    ``data_sections`` maps a global-data section index to its map's name;
    ``kconfig_offsets`` maps a ``__kconfig`` extern to its byte offset in ``.kconfig``;
    ``ksyms`` holds the names of ``__ksym`` extern variables and kfuncs, and
    ``untyped_ksyms`` those declared ``void`` (the loader writes their kallsyms address).
    """

    maps: dict[tuple[int, int], str] = field(default_factory=dict)
    data_sections: dict[int, str] = field(default_factory=dict)
    kconfig_offsets: dict[str, int] = field(default_factory=dict)
    ksyms: set[str] = field(default_factory=set)
    untyped_ksyms: set[str] = field(default_factory=set)

    @property
    def map_sections(self) -> set[int]:
        return {sec for sec, _offset in self.maps}


KCONFIG_MAP = ".kconfig"


def apply_relocations(obj: ObjectFile, layout: CodeLayout, targets: RelocationTargets,
                      code_sections: list[Section]) -> set[tuple[str, int]]:
    """Rewrite every relocated instruction of ``code_sections`` in place.

    Returns the (function name, instruction index) pairs that were relocated, so that
    :func:`resolve_local_calls` leaves them alone. Raises :class:`ELFError` naming the
    section and byte offset for a relocation that points between instructions, at the wrong
    kind of instruction, or at a symbol that is neither a map, data, code nor a known extern.
    """
    done: set[tuple[str, int]] = set()
    map_sections = targets.map_sections
    for section in code_sections:
        for rel in obj.relocations.get(section.index, ()):
            func, index = _instruction_at(obj, layout, section, rel.offset)
            insn = func.insns[index]
            func.insns[index] = _relocate(obj, layout, targets, map_sections, section, rel,
                                          insn)
            done.add((func.name, index))
    return done


def resolve_local_calls(obj: ObjectFile, layout: CodeLayout,
                        relocated: set[tuple[str, int]]) -> None:
    """Name the callee of each bpf-to-bpf call that had no relocation (same section).

    Such a call's imm counts slots from the next instruction to the callee's first one.
    Raises :class:`ELFError` when no function starts at the target.
    """
    for func in list(layout.functions.values()):
        for index, slot, insn in Instructions(func.insns).enumerate():
            if (insn.opcode == CALL_OPCODE and insn.src == CallSrc.PSEUDO_CALL
                    and (func.name, index) not in relocated):
                target_slot = func.start_slot + slot + insn.imm + 1
                callee = layout.at(func.section.index, target_slot)
                if callee is None:
                    raise obj.error(f"function {func.name!r}: call to slot {target_slot}, "
                                    f"where no function starts", section=func.section,
                                    offset=(func.start_slot + slot) * SLOT_BYTES)
                func.insns[index] = insn.with_(reference=callee.name)


def _instruction_at(obj: ObjectFile, layout: CodeLayout, section: Section,
                    offset: int) -> tuple[Function, int]:
    if offset % SLOT_BYTES:
        raise obj.error("relocation is not at an instruction boundary", section=section,
                        offset=offset)
    slot = offset // SLOT_BYTES
    func = layout.containing(section.index, slot)
    if func is None:
        raise obj.error("relocation outside any function", section=section, offset=offset)
    index = func.slot_to_index.get(slot - func.start_slot)
    if index is None:
        raise obj.error("relocation points into the second half of an lddw",
                        section=section, offset=offset)
    return func, index


def _relocate(obj: ObjectFile, layout: CodeLayout, targets: RelocationTargets,
              map_sections: set[int], section: Section, rel: Relocation,
              insn: Instruction) -> Instruction:
    sym = rel.symbol
    what = f"relocation {RELOCATION_NAMES.get(rel.type, rel.type)} against {sym.name!r}"

    def fail(problem: str) -> Exception:
        return obj.error(f"{what}: {problem}", section=section, offset=rel.offset)

    if rel.type == R_BPF_64_32:
        if insn.opcode != CALL_OPCODE:
            raise fail(f"expected a call instruction, found opcode {insn.opcode:#04x}")
        if sym.is_undefined:
            # an extern function: a kfunc the kernel's BTF resolves at load
            return insn.with_(src=CallSrc.KFUNC, imm=0, reference=sym.name)
        # the callee's slot: the symbol's slot plus the imm clang left (imm + 1 counts
        # from the next instruction; -1 when the symbol is the function itself)
        callee = _function_at(layout, sym, sym.value // SLOT_BYTES + insn.imm + 1)
        if callee is None:
            raise fail("the call target is not the start of a function")
        return insn.with_(src=CallSrc.PSEUDO_CALL, reference=callee.name)

    if rel.type != R_BPF_64_64:
        raise fail("unsupported relocation type in a code section")
    if insn.opcode != LDDW_OPCODE:
        raise fail(f"expected an lddw instruction, found opcode {insn.opcode:#04x}")
    low_imm = insn.imm & 0xFFFF_FFFF

    if sym.is_undefined:
        if sym.name in targets.kconfig_offsets:
            offset = targets.kconfig_offsets[sym.name] + low_imm
            return insn.with_(src=PseudoSrc.MAP_VALUE, imm=offset << 32, reference=KCONFIG_MAP)
        if sym.name in targets.untyped_ksyms:
            # no BTF type: a plain 64-bit constant, the symbol's kallsyms address
            return insn.with_(src=PseudoSrc.IMM64, imm=0, reference=sym.name)
        if sym.name in targets.ksyms:
            return insn.with_(src=PseudoSrc.BTF_ID, imm=0, reference=sym.name)
        raise fail("the symbol is undefined and not a known extern (__kconfig or __ksym)")
    if sym.section in map_sections:
        name = targets.maps.get((sym.section, sym.value + low_imm))
        if name is None:
            raise fail("no map is defined at this offset of the maps section")
        return insn.with_(src=PseudoSrc.MAP_FD, imm=0, reference=name)
    if sym.section in targets.data_sections:
        offset = sym.value + low_imm
        return insn.with_(src=PseudoSrc.MAP_VALUE, imm=offset << 32,
                          reference=targets.data_sections[sym.section])
    target_section = obj.sections[sym.section] if sym.section < len(obj.sections) else None
    if target_section is not None and target_section.is_code:
        byte_off = sym.value + low_imm if sym.type == STT_SECTION else sym.value
        callee = _function_at(layout, sym, byte_off // SLOT_BYTES)
        if callee is None or byte_off % SLOT_BYTES:
            raise fail("the function address is not the start of a function")
        return insn.with_(src=PseudoSrc.FUNC, imm=0, reference=callee.name)
    where = target_section.name if target_section is not None else f"#{sym.section}"
    raise fail(f"the symbol lives in section {where!r}, which is not a map, data or code "
               f"section")


def _function_at(layout: CodeLayout, sym: Symbol, slot: int) -> Function | None:
    return layout.at(sym.section, slot)
