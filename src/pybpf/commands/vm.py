"""``pybpf vm``: run eBPF in the userspace machine.

``pybpf vm exec --program HEX [MEMHEX]`` is the plugin contract of eBPF conformance suites
(bpf_conformance): the program is little-endian bytecode in hex (read from stdin when
``--program`` is absent), r1 points to a copy of the MEMHEX bytes and r2 holds their length;
r0 is printed as ``0x...`` and the exit status is 0. A bad program or a run-time fault is one
line on stderr and exit status 1. Hex may contain spaces and newlines.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import InvalidInputError
from ..vm import DEFAULT_BUDGET, load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="vm_action", metavar="ACTION")
    actions.required = True
    run = actions.add_parser("exec", help="run raw bytecode given in hex, print r0",
                             description="run raw bytecode given in hex and print r0 in hex")
    run.add_argument("--program", metavar="HEX",
                     help="little-endian bytecode in hex (default: read it from stdin)")
    run.add_argument("memory", nargs="*", metavar="MEMHEX",
                     help="bytes r1 points to, in hex (r2 holds their length)")
    run.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                     help=f"stop after this many instructions (default {DEFAULT_BUDGET})")
    run.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)  # from suites
    run.add_argument("--elf", action="store_true",
                     help="(conformance-suite option) the program is an ELF file: unsupported")


def parse_hex(text: str, what: str) -> bytes:
    """Bytes from hex that may be split by whitespace; InvalidInputError names the spot."""
    compact = "".join(text.split())
    if compact.startswith(("0x", "0X")):
        compact = compact[2:]
    try:
        return bytes.fromhex(compact)
    except ValueError as err:
        raise InvalidInputError(f"not hex: {err}", source=what) from None


def run(args: argparse.Namespace) -> int:
    if args.elf:
        raise InvalidInputError("--elf input is not supported yet; give raw bytecode",
                                source="--elf")
    text = args.program if args.program is not None else sys.stdin.read()
    program = load(parse_hex(text, "--program"))
    memory = parse_hex(" ".join(args.memory), "MEMHEX") if args.memory else None
    result = program.run(memory, budget=args.budget)
    print(f"{result.r0:#x}")
    return 0
