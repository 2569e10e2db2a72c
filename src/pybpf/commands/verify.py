"""``pybpf verify OBJ.o|FILE.py [--program P] [--log] [--unprivileged]``: run pybpf's
verifier on programs.

An object is read as clang wrote it (CO-RE relocations applied against the running
kernel's BTF); a ``.py`` file is compiled with :mod:`pybpf.lang` first, as ``pybpf
compile`` would, and its programs verified without writing an object.

Prints one verdict line per program (instructions processed, states stored, time); a
rejected program prints the full explanation (instruction, source line, path, registers,
fix) and, with ``--log``, the state after every instruction. Exit status 1 when any program
is rejected.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import BPFError, VerifierError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("object", metavar="OBJ.o|FILE.py",
                        help="clang -target bpf object file, or a Python file defining "
                             "@bpf.<type> programs")
    parser.add_argument("--program", metavar="P", action="append",
                        help="only this program (repeatable; default: all)")
    parser.add_argument("--log", action="store_true",
                        help="print the verifier state after every instruction")
    parser.add_argument("--unprivileged", action="store_true",
                        help="judge by the kernel's rules for a loader without CAP_BPF "
                             "(default: root's rules)")


def _relocated(spec):
    """CO-RE relocations applied against the running kernel's BTF, when there are any."""
    if not any(p.core_relos for p in spec.programs.values()):
        return spec
    from ..btf.core import relocate_collection
    from ..kernel.kernel_btf import KernelBTF
    relocated, _ = relocate_collection(spec, KernelBTF().spec)
    return relocated


def _python_spec(path: str):
    """The CollectionSpec of a pybpf.lang source file (compiled, nothing written)."""
    from ..lang.files import compile_file
    return compile_file(path).spec


def run(args: argparse.Namespace) -> int:
    from ..elf import load_collection_spec
    from ..verifier import verify
    if args.object.endswith(".py"):
        spec = _python_spec(args.object)
    else:
        spec = load_collection_spec(args.object)
    names = args.program or list(spec.programs)
    missing = [n for n in names if n not in spec.programs]
    if missing:
        raise BPFError(f"{args.object}: no program named {', '.join(missing)} (programs: "
                       f"{', '.join(spec.programs) or 'none'})")
    spec = _relocated(spec)
    failed = 0
    for name in names:
        try:
            result = verify(spec.programs[name], maps=spec.maps, log=args.log,
                            unprivileged=args.unprivileged)
        except VerifierError as err:
            failed += 1
            print(f"{name}: REJECTED", file=sys.stdout)
            print(str(err))
            if args.log:
                print("\n".join(err.log))
            continue
        print(f"{name}: OK ({result.insns} insns, {result.insns_processed} processed, "
              f"{result.states_stored} states, {result.elapsed_s * 1e3:.1f} ms)")
        if args.log:
            print("\n".join(result.log))
    return 1 if failed else 0
