"""USDT probes (``SEC("usdt/<path>:<provider>:<name>")``): static probe points that
programs compile in with ``<sys/sdt.h>``, each a ``nop`` described by an ELF note.

The notes (section ``.note.stapsdt``, owner ``stapsdt``, type 3) hold per probe site: the
address of the nop, the link-time address of ``.stapsdt.base`` (to correct for prelinking),
the address of the probe's semaphore (0 if none), then provider, name and argument spec as
C strings. Each site becomes a uprobe; a semaphore is handed to the kernel as the uprobe's
``ref_ctr_offset`` so the program sees it non-zero while the probe is attached.

Arguments: a program built with libbpf's ``<bpf/usdt.bpf.h>`` reads them with
``bpf_usdt_arg(ctx, n, &value)`` (or ``BPF_USDT(...)``). That code looks up a *spec* in the
object's ``__bpf_usdt_specs`` array map: per argument, where it lives (a constant, a
register, memory at register + offset), its size and sign. The spec's index reaches the
program as the bpf cookie of each site's perf link. :class:`UsdtSpecTable` fills those
slots from the note's argument string (``-4@%edi 8@-16(%rbp) -4@$5``: x86-64 forms, as
libbpf reads them) and frees them when the link closes; :meth:`Collection.attach
<pybpf.kernel.Collection.attach>` hands the table of the collection to every ``usdt``
program. Kernels without bpf cookies (before 5.15) are refused: libbpf's fallback, a map
from instruction address to spec, is not implemented.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
from dataclasses import dataclass
from typing import Any

from ...errors import ELFError, InvalidInputError, NotSupportedError
from ...spec import ProgramType
from .base import Link
from .perf import attach_to_perf_event, checked_program_fd
from .uprobe import _open_elf, address_to_offset, open_uprobe_event, resolve_binary

__all__ = ["UsdtProbe", "UsdtArg", "UsdtSpecTable", "read_usdt_probes", "parse_usdt_args",
           "attach_usdt", "SPECS_MAP"]

_NOTE_OWNER = b"stapsdt"
_NOTE_TYPE = 3


@dataclass(frozen=True)
class UsdtProbe:
    """One USDT probe site of a binary, with file offsets ready for a uprobe."""

    provider: str
    name: str
    address: int
    file_offset: int
    semaphore_address: int
    semaphore_offset: int  # 0: no semaphore
    arguments: str  # e.g. "-4@%edi 8@%rsi", not decoded yet


def _align4(n: int) -> int:
    return (n + 3) & ~3


def read_usdt_probes(path: str) -> list[UsdtProbe]:
    """Every USDT probe site in ELF file ``path`` (empty when it has none).

    Raises InvalidInputError for a missing file, ELFError for a corrupt note or an address
    outside the file.
    """
    f, elf = _open_elf(path)
    with f:
        notes = elf.get_section_by_name(".note.stapsdt")
        if notes is None:
            return []
        data = notes.data()
        base_section = elf.get_section_by_name(".stapsdt.base")
        actual_base = base_section["sh_addr"] if base_section is not None else None
        word = "<" if elf.little_endian else ">"
        addr_fmt = word + ("QQQ" if elf.elfclass == 64 else "III")
        addr_size = struct.calcsize(addr_fmt)
        probes: list[UsdtProbe] = []
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, note_type = struct.unpack_from(word + "III", data, pos)
            name_at = pos + 12
            desc_at = name_at + _align4(namesz)
            end = desc_at + _align4(descsz)
            if end > len(data) or descsz < addr_size:
                raise ELFError("truncated .note.stapsdt record", source=path, offset=pos)
            owner = data[name_at:name_at + namesz].rstrip(b"\0")
            pos = end
            if owner != _NOTE_OWNER or note_type != _NOTE_TYPE:
                continue
            desc = data[desc_at:desc_at + descsz]
            pc, note_base, semaphore = struct.unpack_from(addr_fmt, desc)
            texts = desc[addr_size:].split(b"\0")
            if len(texts) < 3:
                raise ELFError("USDT note without provider/name/arguments", source=path,
                               offset=desc_at)
            provider, name, args = (t.decode(errors="replace") for t in texts[:3])
            if actual_base is not None and note_base:
                pc += actual_base - note_base  # the file was prelinked after the notes
            offset = address_to_offset(elf, pc, source=path)
            sema_offset = address_to_offset(elf, semaphore, source=path) if semaphore else 0
            probes.append(UsdtProbe(provider, name, pc, offset, semaphore, sema_offset, args))
        return probes


# -- arguments (x86-64) ------------------------------------------------------------------------

SPECS_MAP = "__bpf_usdt_specs"  # the array map of <bpf/usdt.bpf.h>

# enum __bpf_usdt_arg_type of usdt.bpf.h
ARG_CONST, ARG_REG, ARG_REG_DEREF = 0, 1, 2
MAX_ARGS = 12  # BPF_USDT_MAX_ARG_CNT
# struct __bpf_usdt_arg_spec {u64 val_off; enum arg_type; short reg_off; bool arg_signed;
# char arg_bitshift} and struct __bpf_usdt_spec {args[12]; u64 usdt_cookie; short arg_cnt}
_ARG_SPEC = struct.Struct("<QIh?b")
_SPEC_SIZE = _ARG_SPEC.size * MAX_ARGS + 8 + 8  # cookie, arg_cnt and its padding

# offsetof(struct pt_regs, reg) on x86-64 (arch/x86/include/asm/ptrace.h): what a uprobe
# program's ctx points at
_PT_REGS_X86_64 = {"r15": 0, "r14": 8, "r13": 16, "r12": 24, "bp": 32, "bx": 40, "r11": 48,
                   "r10": 56, "r9": 64, "r8": 72, "ax": 80, "cx": 88, "dx": 96, "si": 104,
                   "di": 112, "ip": 128, "sp": 152}


def _x86_registers() -> dict[str, int]:
    """Every x86-64 register name an argument string may use (any width) -> pt_regs offset."""
    names: dict[str, int] = {}
    for legacy in ("ax", "bx", "cx", "dx"):
        offset = _PT_REGS_X86_64[legacy]
        # not %ah & co: bits 8-15 of a register are no offset into pt_regs
        names.update({f"r{legacy}": offset, f"e{legacy}": offset, legacy: offset,
                      f"{legacy[0]}l": offset})
    for legacy in ("si", "di", "bp", "sp", "ip"):
        offset = _PT_REGS_X86_64[legacy]
        names.update({f"r{legacy}": offset, f"e{legacy}": offset, legacy: offset,
                      f"{legacy}l": offset})
    for n in range(8, 16):
        offset = _PT_REGS_X86_64[f"r{n}"]
        names.update({f"r{n}": offset, f"r{n}d": offset, f"r{n}w": offset, f"r{n}b": offset})
    return names


_REGISTERS = _x86_registers()
_ARG_FORMS = [
    (re.compile(r"^(-?\d+)@\$(-?(?:0x[0-9a-fA-F]+|\d+))$"), ARG_CONST),
    (re.compile(r"^(-?\d+)@%(\w+)$"), ARG_REG),
    (re.compile(r"^(-?\d+)@(-?(?:0x[0-9a-fA-F]+|\d+))?\(%(\w+)\)$"), ARG_REG_DEREF),
]


@dataclass(frozen=True)
class UsdtArg:
    """Where one USDT argument lives, as ``struct __bpf_usdt_arg_spec`` says it."""

    kind: int  # ARG_CONST, ARG_REG or ARG_REG_DEREF
    val_off: int  # the constant, or the offset added to the register for a deref
    reg_off: int  # offsetof(struct pt_regs, register)
    signed: bool
    size: int  # 1, 2, 4 or 8 bytes

    def encode(self) -> bytes:
        return _ARG_SPEC.pack(self.val_off & (1 << 64) - 1, self.kind, self.reg_off,
                              self.signed, 64 - 8 * self.size)


def parse_usdt_args(text: str, *, source: str = "USDT note") -> list[UsdtArg]:
    """The arguments of a note's argument string (``-4@%edi 8@-16(%rbp) -4@$5``).

    Raises NotSupportedError on a machine other than x86-64 and InvalidInputError for a
    form libbpf does not read either (a symbol relative to %rip, a scaled index).
    """
    if os.uname().machine != "x86_64":
        raise NotSupportedError("USDT arguments on " + os.uname().machine,
                                hint="pybpf reads x86-64 argument strings only")
    args = []
    for word in text.split():
        found = next(((m, kind) for pattern, kind in _ARG_FORMS
                      if (m := pattern.match(word)) is not None), None)
        if found is None:
            raise InvalidInputError(f"USDT argument {word!r}: not a form pybpf can read "
                                    "(SIZE@$CONST, SIZE@%REG, SIZE@OFF(%REG))", source=source)
        m, kind = found
        size = int(m.group(1))
        if abs(size) not in (1, 2, 4, 8):
            raise InvalidInputError(f"USDT argument {word!r}: size {size}", source=source)
        register = m.group(2) if kind == ARG_REG else m.group(3) if kind == ARG_REG_DEREF \
            else None
        if register is not None and register not in _REGISTERS:
            raise InvalidInputError(f"USDT argument {word!r}: unknown register", source=source)
        value = int(m.group(2), 0) if kind == ARG_CONST else \
            int(m.group(2) or "0", 0) if kind == ARG_REG_DEREF else 0
        args.append(UsdtArg(kind, value, _REGISTERS[register] if register else 0,
                            size < 0, abs(size)))
    if len(args) > MAX_ARGS:
        raise InvalidInputError(f"{len(args)} USDT arguments, usdt.bpf.h reads at most "
                                f"{MAX_ARGS}", source=source)
    return args


def _encode_spec(args: list[UsdtArg], cookie: int) -> bytes:
    body = b"".join(a.encode() for a in args).ljust(_ARG_SPEC.size * MAX_ARGS, b"\0")
    return body + struct.pack("<Qh", cookie & (1 << 64) - 1, len(args)).ljust(16, b"\0")


class UsdtSpecTable:
    """The ``__bpf_usdt_specs`` map of one collection and which of its slots are in use.

    Every usdt link of the collection takes a slot per distinct argument string of its
    sites (and cookie) and gives it back on close, so several probes share the one map.
    """

    def __init__(self, specs_map: Any):
        if specs_map.value_size != _SPEC_SIZE:
            raise InvalidInputError(f"{SPECS_MAP} has {specs_map.value_size}-byte values, "
                                    f"pybpf writes usdt.bpf.h's {_SPEC_SIZE}-byte "
                                    "struct __bpf_usdt_spec", source=f"map '{SPECS_MAP}'")
        self.map = specs_map
        self._used: set[int] = set()

    def add(self, args: list[UsdtArg], cookie: int) -> int:
        """Write a spec into a free slot; its index (the bpf cookie of its sites)."""
        free = next((i for i in range(self.map.max_entries) if i not in self._used), None)
        if free is None:
            raise InvalidInputError(f"all {self.map.max_entries} USDT spec slots are in use",
                                    source=f"map '{SPECS_MAP}'")
        self.map.update(free, _encode_spec(args, cookie))
        self._used.add(free)
        return free

    def release(self, spec_id: int) -> None:
        self._used.discard(spec_id)


def attach_usdt(prog: object, path: str | os.PathLike[str], provider: str, name: str, *,
                pid: int | None = None, cookie: int = 0,
                specs: UsdtSpecTable | None = None) -> Link:
    """Run KPROBE program ``prog`` at every site of USDT probe ``provider:name`` in ``path``.

    ``pid`` limits it to one process. With ``specs`` (the table of the collection's
    ``__bpf_usdt_specs``: programs using ``<bpf/usdt.bpf.h>``), each site's arguments are
    described there for ``bpf_usdt_arg`` and ``cookie`` is what ``bpf_usdt_cookie``
    returns; without, ``cookie`` is the sites' bpf cookie. Raises InvalidInputError (wrong
    program, missing file, no such probe, unreadable argument), ELFError,
    NotSupportedError without uprobes or bpf cookies, KernelError when refused.
    """
    prog_fd = checked_program_fd(prog, (ProgramType.KPROBE,), "a USDT probe")
    if pid is not None and (not isinstance(pid, int) or pid <= 0):
        raise InvalidInputError(f"bad pid {pid!r}: expected a process id > 0 (or None for all)")
    binary = resolve_binary(path)
    sites = [p for p in read_usdt_probes(binary) if p.provider == provider and p.name == name]
    if not sites:
        raise InvalidInputError(f"no USDT probe {provider}:{name}", source=binary)
    what = f"usdt {binary}:{provider}:{name}" + (f" pid {pid}" if pid is not None else "")
    with contextlib.ExitStack() as stack:
        spec_ids: dict[str, int] = {}
        if specs is not None:
            _require_cookies()
            for site in sites:
                if site.arguments not in spec_ids:
                    args = parse_usdt_args(site.arguments, source=f"{what} at "
                                                                   f"{site.file_offset:#x}")
                    spec_ids[site.arguments] = specs.add(args, cookie)
                    stack.callback(specs.release, spec_ids[site.arguments])
        for site in sites:
            description = f"{what} at {site.file_offset:#x}"
            perf_fd = open_uprobe_event(binary, site.file_offset, pid=pid,
                                        ref_ctr_offset=site.semaphore_offset,
                                        description=description)
            site_cookie = spec_ids[site.arguments] if specs is not None else cookie
            stack.enter_context(attach_to_perf_event(prog_fd, perf_fd,
                                                     description=description,
                                                     cookie=site_cookie))
        owned = stack.pop_all()
    return Link(None, description=f"{what} ({len(sites)} sites)", detach=owned.close)


def _require_cookies() -> None:
    """bpf_usdt_arg finds its spec through the bpf cookie (Linux 5.15)."""
    release = os.uname().release.split("-")[0].split(".")
    try:
        version = (int(release[0]), int(release[1]))
    except (IndexError, ValueError):
        return  # an odd release string: let the kernel say
    if version < (5, 15):
        raise NotSupportedError("bpf cookies (Linux 5.15)", hint="bpf_usdt_arg() needs "
                                "them to find each site's argument spec")
