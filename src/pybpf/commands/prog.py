"""``pybpf prog list|show|dump``: the programs loaded in the kernel, as ``bpftool prog``.

::

    pybpf prog list [--json]              every program
    pybpf prog show ID [--json]           one (ID, id ID, pinned PATH or name NAME)
    pybpf prog dump xlated ID [--json]    the instructions after the verifier's rewrites
    pybpf prog dump jited ID [--raw]      the JIT's machine code (x86 disassembly by GNU
                                          objdump when it is installed, hex otherwise)

The plain output follows bpftool's::

    3: xdp  name xdp_pass  tag 3b185187f1855c4c  gpl
            loaded_at 2024-01-01T10:00:00+0000  uid 0
            xlated 96B  jited 62B  memlock 4096B  map_ids 4
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from typing import IO

from ..asm.instructions import Instructions
from ..asm.listing import disassemble
from ..errors import InvalidInputError
from ..kernel import inventory
from ..kernel.inventory import ProgramRecord
from .kernel_objects import print_json, resolve_id, take_object_ref

_OBJDUMP_ARCH = {"x86_64": "i386:x86-64", "aarch64": "aarch64"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="prog_command", metavar="SUBCOMMAND")
    sub.required = True
    for name, help_text in (("list", "list every loaded program"),
                            ("show", "show one program (or all, without ID)")):
        p = sub.add_parser(name, help=help_text)
        if name == "show":
            p.add_argument("ref", nargs="*", metavar="PROG",
                           help="ID, id ID, pinned PATH or name NAME")
        _output_options(p)
    dump = sub.add_parser("dump", help="dump a program's instructions")
    dump.add_argument("what", choices=("xlated", "jited"))
    dump.add_argument("ref", nargs="+", metavar="PROG",
                      help="ID, id ID, pinned PATH or name NAME")
    dump.add_argument("--raw", action="store_true", help="jited: hex bytes only")
    _output_options(dump)


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--json", action="store_true", help="JSON output (like bpftool -j)")
    p.add_argument("-p", "--pretty", action="store_true", help="indented JSON")


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    as_json = args.json or args.pretty
    if args.prog_command == "dump":
        prog_id = _prog_id(list(args.ref))
        if args.what == "xlated":
            dump_xlated(prog_id, out, as_json=as_json, pretty=args.pretty)
        else:
            dump_jited(prog_id, out, raw=args.raw, as_json=as_json, pretty=args.pretty)
        return 0
    ref = getattr(args, "ref", None)
    records = [inventory.program(_prog_id(list(ref)))] if ref else inventory.programs()
    if as_json:
        docs = [r.to_json() for r in records]
        print_json(docs[0] if ref else docs, out, pretty=args.pretty)
    else:
        for record in records:
            out.write(format_program(record))
    return 0


def _prog_id(words: list[str]) -> int:
    ref = take_object_ref(words, "prog")
    if words:
        raise InvalidInputError(f"unexpected arguments after the program: {' '.join(words)}")
    return resolve_id(ref, "prog", list_ids=inventory.program_ids,
                      name_of=lambda i: inventory.program(i).name)


def format_loaded_at(epoch_s: int) -> str:
    """bpftool's ``loaded_at`` text: local time, ISO 8601 with the zone offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(epoch_s))


def format_program(p: ProgramRecord) -> str:
    """The three lines ``bpftool prog show`` prints for one program."""
    head = f"{p.id}: {p.type_name}  "
    if p.name:
        head += f"name {p.name}  "
    head += f"tag {p.tag}"
    if p.gpl_compatible:
        head += "  gpl"
    if p.run_cnt or p.run_time_ns:
        head += f" run_time_ns {p.run_time_ns} run_cnt {p.run_cnt}"
    if p.recursion_misses:
        head += f" recursion_misses {p.recursion_misses}"
    lines = [head, f"\tloaded_at {format_loaded_at(p.loaded_at)}  uid {p.uid}"]
    sizes = f"\txlated {p.xlated_bytes}B  "
    sizes += f"jited {p.jited_bytes}B" if p.jited else "not jited"
    sizes += f"  memlock {p.memlock_bytes}B"
    if p.map_ids:
        sizes += "  map_ids " + ",".join(str(i) for i in p.map_ids)
    lines.append(sizes)
    if p.btf_id:
        lines.append(f"\tbtf_id {p.btf_id}")
    return "\n".join(lines) + "\n"


def dump_xlated(prog_id: int, out: IO[str], *, as_json: bool = False,
                pretty: bool = False) -> None:
    """The translated instructions in llvm-objdump syntax (our disassembler), one per line;
    ``as_json`` gives ``[{"index", "raw", "text"}]``."""
    record = inventory.program(prog_id)
    insns = inventory.xlated_instructions(prog_id)
    if as_json:
        docs = []
        for slot, insn in Instructions(insns).iterate():
            text = disassemble([insn], show_index=False, annotate=False).strip()
            docs.append({"index": slot, "raw": insn.encode().hex(), "text": text})
        print_json(docs, out, pretty=pretty)
        return
    out.write(f"{record.name or 'prog_' + str(prog_id)}:\n")
    out.write(disassemble(insns, source=f"program id {prog_id}"))


def dump_jited(prog_id: int, out: IO[str], *, raw: bool = False, as_json: bool = False,
               pretty: bool = False) -> None:
    """The JIT's machine code: disassembled by GNU objdump when it is installed and knows
    this machine (unless ``raw``), else 16 hex bytes a line with their offset."""
    code = inventory.jited_bytes(prog_id)
    if not code:
        raise InvalidInputError("the program has no JIT image (is the JIT off? see "
                                "/proc/sys/net/core/bpf_jit_enable)",
                                source=f"program id {prog_id}")
    if as_json:
        print_json({"id": prog_id, "bytes_jited": len(code), "raw": code.hex()}, out,
                   pretty=pretty)
        return
    listing = None if raw else _objdump(code)
    if listing is not None:
        out.write(listing)
        return
    for offset in range(0, len(code), 16):
        chunk = code[offset:offset + 16]
        out.write(f"{offset:8x}:\t{' '.join(f'{b:02x}' for b in chunk)}\n")


def _objdump(code: bytes) -> str | None:
    """GNU objdump's disassembly of raw machine code, or None when it cannot help."""
    objdump = shutil.which("objdump")
    arch = _OBJDUMP_ARCH.get(platform.machine())
    if objdump is None or arch is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        try:
            proc = subprocess.run([objdump, "-D", "-b", "binary", "-m", arch, f.name],
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
    if proc.returncode != 0:
        return None
    # keep the instruction lines only (objdump's header names our temporary file)
    body = [ln for ln in proc.stdout.splitlines() if ln.startswith(" ") and ":\t" in ln]
    return "\n".join(body) + "\n" if body else None

