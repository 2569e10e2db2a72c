"""``pybpf verify OBJ.o [--program P] [--log]``: run pybpf's verifier on an object's programs.

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
    parser.add_argument("object", metavar="OBJ.o", help="clang -target bpf object file")
    parser.add_argument("--program", metavar="P", action="append",
                        help="only this program (repeatable; default: all)")
    parser.add_argument("--log", action="store_true",
                        help="print the verifier state after every instruction")


def _relocated(spec):  # type: ignore[no-untyped-def]
    """CO-RE relocations applied against the running kernel's BTF, when there are any."""
    if not any(p.core_relos for p in spec.programs.values()):
        return spec
    from ..btf.core import relocate_collection
    from ..kernel.kernel_btf import KernelBTF
    relocated, _ = relocate_collection(spec, KernelBTF().spec)
    return relocated


def run(args: argparse.Namespace) -> int:
    from ..elf import load_collection_spec
    from ..verifier import verify
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
            result = verify(spec.programs[name], maps=spec.maps, log=args.log)
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
