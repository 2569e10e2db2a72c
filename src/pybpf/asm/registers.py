"""The eleven eBPF registers (RFC 9669 section 2.4), named as llvm-objdump prints them.

``R0`` holds return values, ``R1``-``R5`` arguments, ``R6``-``R9`` are callee-saved and
``R10`` is the read-only frame pointer. In 32-bit (ALU/JMP32) instructions the same register
is written ``w0``..``w10``.
"""

from __future__ import annotations

from enum import IntEnum


class Register(IntEnum):
    R0 = 0
    R1 = 1
    R2 = 2
    R3 = 3
    R4 = 4
    R5 = 5
    R6 = 6
    R7 = 7
    R8 = 8
    R9 = 9
    R10 = 10

    def __str__(self) -> str:
        return f"r{self.value}"


R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = Register
RFP = R10  # the frame pointer, under the name cilium/ebpf and the kernel docs also use

MAX_REGISTER = 10
