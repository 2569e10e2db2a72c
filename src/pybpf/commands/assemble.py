"""``pybpf asm FILE.s [-o OUT.bin]``: assemble llvm-objdump-syntax text to raw bytecode.

Without ``-o`` the bytes go to stdout as hex, one instruction (8 or 16 bytes) per line.
``-`` reads the text from stdin.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO

from ..asm.assembler import assemble
from ..errors import AsmError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="assembly text (llvm-objdump syntax), or - for stdin")
    parser.add_argument("-o", "--output", help="write raw bytecode to this file")


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    if args.file == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            with open(args.file, encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            raise AsmError(f"cannot read: {err.strerror}", source=args.file) from None
        except UnicodeDecodeError as err:
            raise AsmError("not a UTF-8 text file", source=args.file,
                           offset=err.start) from None
        name = args.file
    insns = assemble(text, source=name)
    if args.output:
        try:
            with open(args.output, "wb") as f:
                f.write(b"".join(i.encode() for i in insns))
        except OSError as err:
            raise AsmError(f"cannot write: {err.strerror}", source=args.output) from None
        return 0
    stream = out or sys.stdout
    for insn in insns:
        stream.write(insn.encode().hex(" ") + "\n")
    return 0
