"""``pybpf disasm FILE.o``: the program sections of a BPF object, as ``llvm-objdump -d``.

The listing itself is :func:`pybpf.elf.listing.objdump_listing`.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO

from ..elf.listing import objdump_listing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a BPF ELF object (clang -target bpf)")
    parser.add_argument("--section", "-j", help="only this section")
    parser.add_argument("--print-imm-hex", action="store_true",
                        help="print immediates in hex (newer LLVM's default)")
    parser.add_argument("--alu32", action="store_true",
                        help="name 32-bit load/store registers w (llvm-objdump --mattr=+alu32)")


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    text = objdump_listing(args.file, section=args.section, imm_hex=args.print_imm_hex,
                           alu32=args.alu32)
    (out or sys.stdout).write(text)
    return 0

