"""USDT probes (``SEC("usdt/<path>:<provider>:<name>")``): static probe points that
programs compile in with ``<sys/sdt.h>``, each a ``nop`` described by an ELF note.

The notes (section ``.note.stapsdt``, owner ``stapsdt``, type 3) hold per probe site: the
address of the nop, the link-time address of ``.stapsdt.base`` (to correct for prelinking),
the address of the probe's semaphore (0 if none), then provider, name and argument spec as
C strings. Each site becomes a uprobe; a semaphore is handed to the kernel as the uprobe's
``ref_ctr_offset`` so the program sees it non-zero while the probe is attached.

Argument decoding (``bpf_usdt_arg()``: the spec map libbpf fills from the argument strings)
is not done yet: programs see the raw registers (pt_regs) at the probe.
"""

from __future__ import annotations

import contextlib
import os
import struct
from dataclasses import dataclass

from ...errors import ELFError, InvalidInputError
from ...spec import ProgramType
from .base import Link
from .perf import attach_to_perf_event, checked_program_fd
from .uprobe import _open_elf, address_to_offset, open_uprobe_event, resolve_binary

__all__ = ["UsdtProbe", "read_usdt_probes", "attach_usdt"]

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


def attach_usdt(prog: object, path: str | os.PathLike[str], provider: str, name: str, *,
                pid: int | None = None, cookie: int = 0) -> Link:
    """Run KPROBE program ``prog`` at every site of USDT probe ``provider:name`` in ``path``.

    ``pid`` limits it to one process. Raises InvalidInputError (wrong program, missing file,
    no such probe), ELFError, NotSupportedError without uprobes, KernelError when refused.
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
        for site in sites:
            description = f"{what} at {site.file_offset:#x}"
            perf_fd = open_uprobe_event(binary, site.file_offset, pid=pid,
                                        ref_ctr_offset=site.semaphore_offset,
                                        description=description)
            stack.enter_context(attach_to_perf_event(prog_fd, perf_fd,
                                                     description=description, cookie=cookie))
        owned = stack.pop_all()
    return Link(None, description=f"{what} ({len(sites)} sites)", detach=owned.close)
