"""``pybpf spec FILE.o``: print the CollectionSpec of a BPF ELF object.

Shows license and kernel version, maps (with initial contents), externs, and programs
(type, attach point, instruction count, relocation count) with their CO-RE relocations and
access strings. ``--insns`` adds each program's instructions with their references.
"""

from __future__ import annotations

import argparse
import sys

from ..asm.formatter import format_instruction
from ..elf import load_collection_spec
from ..errors import AsmError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("object", help="a clang -target bpf object file (.o)")
    parser.add_argument("--insns", action="store_true",
                        help="also list each program's instructions and references")


def run(args: argparse.Namespace) -> int:
    try:
        spec = load_collection_spec(args.object)
    except OSError as err:  # a missing/unreadable file is the user's, not a pybpf bug
        print(f"pybpf spec: cannot read {args.object}: {err.strerror}", file=sys.stderr)
        return 1
    out = sys.stdout
    print(spec, file=out)
    if args.insns:
        for program in spec.programs.values():
            print(f"\n{program.name}:", file=out)
            slot = 0
            for insn in program.instructions:
                label = f"{insn.symbol}:" if insn.symbol else ""
                ref = f" -> {insn.reference}" if insn.reference else ""
                try:
                    text = format_instruction(insn)
                except AsmError:  # fields LLVM would not print: show the bytes instead
                    text = f".insn {insn.encode().hex(' ')}"
                print(f"{label:>24} {slot:5}: {text}{ref}", file=out)
                slot += insn.slots
    return 0
