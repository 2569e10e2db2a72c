"""``pybpf btf dump TYPE`` / ``pybpf btf list [PATTERN]``: look into BTF.

``dump`` prints one type as C, with what it needs first (the text ``bpftool btf dump file F
format c`` has for it); ``list`` prints ``[id] KIND 'name'`` lines like bpftool's raw dump.
``--file`` takes raw BTF (``/sys/kernel/btf/*``, the default is vmlinux) or a BPF ELF object
(its ``.BTF`` section). A module's split BTF under /sys/kernel/btf is read over vmlinux.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys

from ..btf.cformat import format_c
from ..btf.queries import pick_type
from ..btf.raw import summary_line
from ..elf.btf_file import VMLINUX, load_btf_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="btf_command", metavar="SUBCOMMAND")
    sub.required = True
    dump = sub.add_parser("dump", help="print a type and its dependencies as C")
    dump.add_argument("type", metavar="TYPE", help="type name, or a numeric type id")
    dump.add_argument("--file", default=VMLINUX, help="BTF file or BPF ELF object "
                      "(default: %(default)s)")
    dump.add_argument("--kind", choices=["enum", "struct", "typedef", "union"],
                      help="which kind of TYPE")
    listing = sub.add_parser("list", help="list types: [id] KIND 'name'")
    listing.add_argument("pattern", nargs="?", help="shell-style name pattern (fnmatch)")
    listing.add_argument("--file", default=VMLINUX, help="BTF file or BPF ELF object "
                         "(default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    spec = load_btf_file(args.file)
    out = sys.stdout
    if args.btf_command == "list":
        for type_id in range(1, len(spec)):
            t = spec.type_by_id(type_id)
            if args.pattern is None or fnmatch.fnmatchcase(t.name, args.pattern):
                out.write(summary_line(spec, type_id) + "\n")
        return 0
    out.write(format_c(pick_type(spec, args.type, args.kind)))
    return 0
