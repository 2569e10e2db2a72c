"""``pybpf spec FILE.o``: print the CollectionSpec of a BPF ELF object.

Shows license and kernel version, maps (with initial contents), externs, and programs
(type, attach point, instruction count, relocation count) with their CO-RE relocations and
access strings. ``--insns`` adds each program's instructions with their references;
``--core`` resolves the CO-RE relocations against the running kernel's BTF (or ``--btf``)
and prints each result, as libbpf's debug log does.
"""

from __future__ import annotations

import argparse
import sys

from ..asm.formatter import format_instruction
from ..asm.instructions import Instructions
from ..btf import load_kernel_spec
from ..btf.core import format_results, relocate_collection
from ..elf import load_collection_spec
from ..errors import AsmError, InvalidInputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("object", help="a clang -target bpf object file (.o)")
    parser.add_argument("--insns", action="store_true",
                        help="also list each program's instructions and references")
    parser.add_argument("--core", action="store_true",
                        help="resolve CO-RE relocations against the kernel's BTF and print "
                             "each result")
    parser.add_argument("--btf", default="/sys/kernel/btf/vmlinux", metavar="FILE",
                        help="target BTF for --core (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    spec = load_collection_spec(args.object)  # a missing file: cli.main says so in one line
    out = sys.stdout
    print(spec, file=out)
    if args.core:
        _print_core(spec, args.btf)
    if args.insns:
        for program in spec.programs.values():
            print(f"\n{program.name}:", file=out)
            for slot, insn in Instructions(program.instructions).iterate():
                label = f"{insn.symbol}:" if insn.symbol else ""
                ref = f" -> {insn.reference}" if insn.reference else ""
                try:
                    text = format_instruction(insn)
                except AsmError:  # fields LLVM would not print: show the bytes instead
                    text = f".insn {insn.encode().hex(' ')}"
                print(f"{label:>24} {slot:5}: {text}{ref}", file=out)
    return 0


def _print_core(spec, btf_path: str) -> None:
    try:
        target = load_kernel_spec(btf_path)
    except OSError as err:
        raise InvalidInputError(f"cannot read target BTF: {err.strerror}",
                                source=btf_path) from None
    _, results = relocate_collection(spec, target)
    for name, program_results in results.items():
        if not program_results:
            continue
        print(f"\nCO-RE relocations of {name} against {btf_path}:")
        print(format_results(program_results))
