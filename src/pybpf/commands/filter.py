"""``pybpf filter EXPR``: compile a pcap-filter expression and print the program as
``tcpdump -d`` does (``-dd``: C array, ``-ddd``: decimal; ``--ebpf``: the eBPF translation;
``-y``: link type; ``-O``: unoptimised). As tcpdump, an expression the optimiser proves
false is refused ("expression rejects all packets"), unless ``-O``.
"""

from __future__ import annotations

import argparse
import sys

from ..asm import disassemble
from ..cbpf import (
    FilterSyntaxError,
    SockFilter,
    compile_filter,
    format_c_array,
    format_decimal,
    format_listing,
    to_ebpf,
)
from ..cbpf.isa import Class, RetSrc


def refuse_rejecting_all(program: list[SockFilter], expression: str) -> None:
    """Raise FilterSyntaxError when the optimised ``program`` is the lone ``ret #0``: tcpdump
    refuses such an expression, while compile_filter returns the program (a library caller
    may build expressions that happen to match nothing)."""
    if len(program) == 1 and program[0].code == Class.RET | RetSrc.K and program[0].k == 0:
        raise FilterSyntaxError("expression rejects all packets", expression=expression)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", nargs="+", help="pcap-filter expression (words are "
                        "joined with spaces, as tcpdump does)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("-d", dest="form", action="store_const", const="d",
                      help="listing like tcpdump -d (default)")
    form.add_argument("--dd", "-dd", dest="form", action="store_const", const="dd",
                      help="C array like tcpdump -dd")
    form.add_argument("--ddd", "-ddd", dest="form", action="store_const", const="ddd",
                      help="decimal like tcpdump -ddd")
    form.add_argument("--ebpf", choices=("socket", "xdp", "tc"),
                      help="print the eBPF translation for this program type instead")
    parser.add_argument("-y", dest="linktype", default="EN10MB",
                        help="link type as tcpdump names it: EN10MB (default), LINUX_SLL, "
                        "LINUX_SLL2, RAW, NULL, LOOP")
    parser.add_argument("-O", dest="optimize", action="store_false",
                        help="do not optimise the program (as tcpdump -O)")
    parser.add_argument("-s", "--snaplen", type=int, default=262144,
                        help="value returned for accepted packets (default 262144)")


def run(args: argparse.Namespace) -> int:
    expression = " ".join(args.expression)
    program = compile_filter(expression, snaplen=args.snaplen, linktype=args.linktype,
                             optimize=args.optimize)
    if args.optimize:
        refuse_rejecting_all(program, expression)
    if args.ebpf:
        sys.stdout.write(disassemble(to_ebpf(program, target=args.ebpf)) + "\n")
        return 0
    formatter = {"dd": format_c_array, "ddd": format_decimal}.get(args.form or "d",
                                                                  format_listing)
    sys.stdout.write(formatter(program))
    return 0
