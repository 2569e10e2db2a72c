"""``pybpf compile FILE.py [-o FILE.bpf.o] [--program P ...]``: Python eBPF to an ELF object.

The file is run as a module (its ``if __name__ == "__main__"`` part does not run) and every
``@bpf.<type>`` program it defines is compiled against the running kernel's BTF, then
written as a BPF ELF object with BTF, Python line info and CO-RE relocations that libbpf,
bpftool and ``pybpf load`` can load (see :mod:`pybpf.lang.objfile`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO

from ..errors import ELFError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a Python file defining @bpf.<type> programs")
    parser.add_argument("-o", "--output",
                        help="the object to write (default: FILE with .bpf.o for .py)")
    parser.add_argument("-p", "--program", action="append", default=None,
                        help="only this program (repeatable; default: all of them)")


def default_output(path: str) -> str:
    root, ext = os.path.splitext(path)
    return (root if ext == ".py" else path) + ".bpf.o"


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    from ..lang.files import compile_file
    from ..lang.objfile import write_object

    compiled = compile_file(args.file)
    data, layout = write_object(compiled, args.program)
    output = args.output or default_output(args.file)
    try:
        with open(output, "wb") as f:
            f.write(data)
    except OSError as err:
        raise ELFError(f"cannot write: {err.strerror}", source=output) from None
    stream = out or sys.stdout
    insns = sum(len(compiled.programs[n].spec.instructions) for n in layout.program_offsets)
    stream.write(f"{output}: {len(layout.program_offsets)} program(s) "
                 f"({', '.join(f'{n} in {s}' for n, (s, _) in layout.program_offsets.items())})"
                 f", {insns} instructions, {len(data)} bytes\n")
    if layout.skipped_core:
        stream.write(f"note: {layout.skipped_core} kernel-type access(es) got no CO-RE "
                     "relocation (offsets from this kernel)\n")
    return 0
