"""``pybpf btf dump TYPE`` / ``pybpf btf list [PATTERN]``: look into BTF.

``dump`` prints one type as C, with what it needs first (the text ``bpftool btf dump file F
format c`` has for it); ``list`` prints ``[id] KIND 'name'`` lines like bpftool's raw dump.
``--file`` takes raw BTF (``/sys/kernel/btf/*``, the default is vmlinux) or a BPF ELF object
(its ``.BTF`` section). A module's split BTF under /sys/kernel/btf is read over vmlinux.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys

from ..btf import Enum, Fwd, Spec, Struct, Type, Typedef, Union, load_kernel_spec
from ..btf.cformat import format_c
from ..btf.raw import summary_line
from ..errors import BTFError

VMLINUX = "/sys/kernel/btf/vmlinux"
_KINDS: dict[str, tuple[type[Type], ...]] = {
    "struct": (Struct,), "union": (Union,), "enum": (Enum,), "typedef": (Typedef,),
}
# when a name is both, e.g. `struct foo` and `typedef ... foo`, dump the definition first
_PREFERENCE: tuple[type[Type], ...] = (Struct, Union, Enum, Typedef)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="btf_command", metavar="SUBCOMMAND")
    sub.required = True
    dump = sub.add_parser("dump", help="print a type and its dependencies as C")
    dump.add_argument("type", metavar="TYPE", help="type name, or a numeric type id")
    dump.add_argument("--file", default=VMLINUX, help="BTF file or BPF ELF object "
                      "(default: %(default)s)")
    dump.add_argument("--kind", choices=sorted(_KINDS), help="which kind of TYPE")
    listing = sub.add_parser("list", help="list types: [id] KIND 'name'")
    listing.add_argument("pattern", nargs="?", help="shell-style name pattern (fnmatch)")
    listing.add_argument("--file", default=VMLINUX, help="BTF file or BPF ELF object "
                         "(default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    spec = open_spec(args.file)
    out = sys.stdout
    if args.btf_command == "list":
        for type_id in range(1, len(spec)):
            t = spec.type_by_id(type_id)
            if args.pattern is None or fnmatch.fnmatchcase(t.name, args.pattern):
                out.write(summary_line(spec, type_id) + "\n")
        return 0
    out.write(format_c(pick_type(spec, args.type, args.kind)))
    return 0


def pick_type(spec: Spec, name: str, kind: str | None) -> Type:
    """The type named by the command line; BTFError naming what was missing."""
    if name.isdigit():
        return spec.type_by_id(int(name))
    candidates = [t for t in spec.types_by_name(name) if not isinstance(t, Fwd)]
    if kind is not None:
        candidates = [t for t in candidates if isinstance(t, _KINDS[kind])]
    if not candidates:
        what = f"{kind} " if kind else ""
        raise BTFError(f"no {what}type named {name!r}", source=spec.name)
    for preferred in _PREFERENCE:
        for t in candidates:
            if isinstance(t, preferred):
                return t
    return candidates[0]


def open_spec(path: str) -> Spec:
    """Raw BTF, a module's split BTF (over vmlinux) or the ``.BTF`` of an ELF object."""
    if path == VMLINUX:
        return load_kernel_spec(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise BTFError(f"cannot read: {err.strerror}", source=path) from None
    if data[:4] == b"\x7fELF":
        return Spec.from_bytes(_elf_btf_section(path), name=f"{path}:.BTF")
    if os.path.dirname(os.path.abspath(path)) == os.path.dirname(VMLINUX):
        return Spec.from_bytes(data, base=load_kernel_spec(VMLINUX), name=path)
    return Spec.from_bytes(data, name=path)


def _elf_btf_section(path: str) -> bytes:
    from elftools.common.exceptions import ELFError as PyELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            section = ELFFile(f).get_section_by_name(".BTF")
            if section is None:
                raise BTFError("ELF object has no .BTF section", source=path)
            return section.data()
    except (PyELFError, OSError, ValueError) as err:
        if isinstance(err, BTFError):
            raise
        raise BTFError(f"cannot read ELF object: {err}", source=path) from None
