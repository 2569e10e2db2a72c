"""The eBPF instruction set: opcodes, instructions, assembler and disassembler.

* :class:`Instruction` with exact ``encode``/``decode``; the opcode enums of RFC 9669;
* :func:`format_instruction` and :func:`disassemble`: llvm-objdump's BPF syntax;
* :func:`assemble`: that syntax back to instructions, labels linked;
* a builder (``asm.mov(R0, 1)``, ``asm.jeq(R1, 0, "out")``, ``asm.exit()``, ...) whose
  symbolic targets :func:`link` resolves last.
"""

from .builder import (
    Label,
    add,
    add32,
    addr_space_cast,
    and32,
    and_,
    arsh,
    arsh32,
    atomic_add,
    atomic_and,
    atomic_or,
    atomic_xor,
    bswap,
    call,
    call_func,
    call_kfunc,
    cmpxchg,
    div,
    div32,
    exit,
    gotol,
    ja,
    jeq,
    jeq32,
    jge,
    jge32,
    jgt,
    jgt32,
    jle,
    jle32,
    jlt,
    jlt32,
    jne,
    jne32,
    jset,
    jset32,
    jsge,
    jsge32,
    jsgt,
    jsgt32,
    jsle,
    jsle32,
    jslt,
    jslt32,
    label,
    ld_abs,
    ld_btf_id,
    ld_func,
    ld_ind,
    ld_map_fd,
    ld_map_idx,
    ld_map_idx_value,
    ld_map_value,
    lddw,
    ldx,
    ldxsx,
    load_acquire,
    lsh,
    lsh32,
    may_goto,
    mod,
    mod32,
    mov,
    mov32,
    mov_reg,
    movsx,
    movsx32,
    mul,
    mul32,
    neg,
    neg32,
    or32,
    or_,
    rsh,
    rsh32,
    sdiv,
    sdiv32,
    smod,
    smod32,
    st,
    store_release,
    stx,
    sub,
    sub32,
    to_be,
    to_le,
    xchg,
    xor,
    xor32,
)
from .instruction import Instruction, encode_all
from .instructions import Instructions
from .linker import link
from .registers import R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, RFP, Register

# not typing's constant: `pybpf trace` compiles a script without importing typing
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .assembler import assemble, parse_instruction
    from .formatter import format_instruction
    from .listing import check_program, disassemble
    from .opcodes import ALUOp, AtomicOp, CallSrc, Class, JumpOp, Mode, PseudoSrc, Size, Source
del TYPE_CHECKING

__all__ = [
    "Instruction", "Instructions", "encode_all", "ALUOp", "AtomicOp", "CallSrc", "Class",
    "JumpOp", "Mode",
    "PseudoSrc", "Size", "Source",
    "Register", "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "RFP",
    "format_instruction", "disassemble", "check_program", "assemble", "parse_instruction",
    "link", "Label", "label",
    # builder
    "add", "add32", "sub", "sub32", "mul", "mul32", "div", "div32", "sdiv", "sdiv32",
    "mod", "mod32", "smod", "smod32", "or_", "or32", "and_", "and32", "lsh", "lsh32",
    "rsh", "rsh32", "arsh", "arsh32", "xor", "xor32", "mov", "mov32", "mov_reg", "neg",
    "neg32", "movsx", "movsx32", "addr_space_cast", "to_le", "to_be", "bswap",
    "ja", "gotol", "may_goto", "jeq", "jeq32", "jgt", "jgt32", "jge", "jge32", "jset",
    "jset32", "jne", "jne32", "jsgt", "jsgt32", "jsge", "jsge32", "jlt", "jlt32", "jle",
    "jle32", "jslt", "jslt32", "jsle", "jsle32", "call", "call_func", "call_kfunc", "exit",
    "ldx", "ldxsx", "stx", "st", "atomic_add", "atomic_or", "atomic_and", "atomic_xor",
    "xchg", "cmpxchg", "load_acquire", "store_release", "ld_abs", "ld_ind", "lddw",
    "ld_map_fd", "ld_map_value", "ld_btf_id", "ld_func", "ld_map_idx", "ld_map_idx_value",
]


# loaded on first use (PEP 562): the assembler (a grammar of regular expressions), the
# disassembler and the opcode enums (enum): most users of pybpf.asm build or decode
# instructions (a compiler, a loader), and never parse or print text
_LAZY = {"assemble": ".assembler", "parse_instruction": ".assembler",
         "format_instruction": ".formatter", "check_program": ".listing",
         "disassemble": ".listing",
         **dict.fromkeys(("ALUOp", "AtomicOp", "CallSrc", "Class", "JumpOp", "Mode",
                          "PseudoSrc", "Size", "Source"), ".opcodes")}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pybpf.asm' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
