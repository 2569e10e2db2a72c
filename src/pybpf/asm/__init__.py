"""The eBPF instruction set: opcodes, instructions, assembler and disassembler."""

from .instruction import Instruction, encode_all
from .opcodes import ALUOp, AtomicOp, CallSrc, Class, JumpOp, Mode, PseudoSrc, Size, Source

__all__ = ["Instruction", "encode_all", "ALUOp", "AtomicOp", "CallSrc", "Class", "JumpOp",
           "Mode", "PseudoSrc", "Size", "Source"]
