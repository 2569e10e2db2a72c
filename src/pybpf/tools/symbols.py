"""Instruction addresses to function names, for the stack-printing tools.

* :class:`KernelSymbols`: the text symbols of ``/proc/kallsyms`` (root sees real
  addresses), looked up by bisection.
* :class:`ProcessSymbols`: one process's executable mappings from ``/proc/PID/maps``, each
  file's ELF function symbols (``.symtab``, else ``.dynsym``) read with pyelftools. An
  address maps to a file offset through its mapping, and the file offset to the ELF virtual
  address through the PT_LOAD segment that holds it (so PIE executables and shared
  libraries resolve wherever they were loaded).
* :class:`Symbolizer`: both, with per-process and per-file caches a tool keeps for its run.

Names that cannot be found print as ``[unknown]``, as BCC does. Nothing here raises for a
missing or unreadable file: a profile of a process that exited still prints.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable

from ..dataclass_compat import FrozenValue

__all__ = ["KernelSymbols", "ElfSymbols", "ProcessSymbols", "Symbolizer", "Mapping",
           "read_maps", "UNKNOWN"]

UNKNOWN = "[unknown]"


class _SortedSymbols:
    """Start addresses and names, sorted; ``find`` returns the name covering an address."""

    def __init__(self, entries: Iterable[tuple[int, int, str]]):
        # entries: (start, size or 0 when unknown, name)
        ordered = sorted(e for e in entries if e[0])
        self.starts = [e[0] for e in ordered]
        self.sizes = [e[1] for e in ordered]
        self.names = [e[2] for e in ordered]

    def find(self, address: int) -> tuple[str, int] | None:
        """(name, offset into it), or None when no symbol starts at or below ``address``
        or the nearest one has a size that ends before it."""
        i = bisect.bisect_right(self.starts, address) - 1
        if i < 0:
            return None
        size = self.sizes[i]
        offset = address - self.starts[i]
        if size and offset >= size:
            return None
        return self.names[i], offset

    def __len__(self) -> int:
        return len(self.starts)


class KernelSymbols:
    """Kernel text symbols from ``/proc/kallsyms`` (module symbols included)."""

    def __init__(self, path: str = "/proc/kallsyms"):
        entries = []
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3 and parts[1] in "tTwW":
                        entries.append((int(parts[0], 16), 0, parts[2]))
        except OSError:
            pass
        self._table = _SortedSymbols(entries)

    def name(self, address: int, *, with_offset: bool = False) -> str:
        found = self._table.find(address)
        if found is None:
            return UNKNOWN
        return f"{found[0]}+{found[1]:#x}" if with_offset else found[0]

    def __len__(self) -> int:
        return len(self._table)


class ElfSymbols:
    """Function symbols of one ELF file and its PT_LOAD segments (file offset -> vaddr)."""

    def __init__(self, path: str):
        self.path = path
        self.segments: list[tuple[int, int, int]] = []   # (file offset, vaddr, file size)
        entries: list[tuple[int, int, str]] = []
        # imported before the try: a Ctrl-C (SignalExit) during the first, lazy import must
        # leave as itself, not as an UnboundLocalError of the except clause's PyElfError
        from elftools.common.exceptions import ELFError as PyElfError  # noqa: PLC0415
        from elftools.elf.elffile import ELFFile  # noqa: PLC0415
        from elftools.elf.sections import SymbolTableSection  # noqa: PLC0415
        try:
            with open(path, "rb") as f:
                elf = ELFFile(f)
                for seg in elf.iter_segments():
                    if seg["p_type"] == "PT_LOAD":
                        self.segments.append((seg["p_offset"], seg["p_vaddr"],
                                              seg["p_filesz"]))
                for section_name in (".symtab", ".dynsym"):
                    table = elf.get_section_by_name(section_name)
                    if not isinstance(table, SymbolTableSection):
                        continue
                    for sym in table.iter_symbols():
                        if sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC") and \
                                sym["st_value"] and sym.name:
                            entries.append((sym["st_value"], sym["st_size"], sym.name))
                    if entries:
                        break                   # .symtab is a superset of .dynsym
        except (OSError, PyElfError, ValueError, KeyError):
            pass
        self._table = _SortedSymbols(entries)

    def vaddr_of(self, file_offset: int) -> int | None:
        for off, vaddr, size in self.segments:
            if off <= file_offset < off + max(size, 1):
                return file_offset - off + vaddr
        return None

    def name_at_offset(self, file_offset: int) -> str | None:
        vaddr = self.vaddr_of(file_offset)
        if vaddr is None:
            return None
        found = self._table.find(vaddr)
        return found[0] if found else None

    def __len__(self) -> int:
        return len(self._table)


class Mapping(FrozenValue):
    """One line of ``/proc/PID/maps``."""

    start: int
    end: int
    perms: str
    offset: int
    path: str

    __match_args__ = ("start", "end", "perms", "offset", "path")

    def __init__(self, start: int, end: int, perms: str, offset: int, path: str) -> None:
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "perms", perms)
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "path", path)


def read_maps(pid: int) -> list[Mapping]:
    """The executable file-backed mappings of ``pid`` ([] when it is gone)."""
    found = []
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.split(maxsplit=5)
                if len(parts) < 6 or "x" not in parts[1]:
                    continue
                path = parts[5].strip()
                if not path.startswith("/"):
                    continue              # [vdso], anonymous JIT code...
                start, end = (int(x, 16) for x in parts[0].split("-"))
                found.append(Mapping(start, end, parts[1], int(parts[2], 16), path))
    except OSError:
        return []
    return found


class ProcessSymbols:
    """User-space symbols of one process (its mappings read once, when made)."""

    def __init__(self, pid: int, elf_cache: dict[str, ElfSymbols] | None = None):
        self.pid = pid
        self.mappings = read_maps(pid)
        self._starts = [m.start for m in self.mappings]
        self._elf_cache = elf_cache if elf_cache is not None else {}

    def _elf(self, path: str) -> ElfSymbols:
        elf = self._elf_cache.get(path)
        if elf is None:
            # through the process's root, so a file in another mount namespace is found
            in_root = f"/proc/{self.pid}/root{path}"
            elf = ElfSymbols(in_root if os.path.exists(in_root) else path)
            self._elf_cache[path] = elf
        return elf

    def name(self, address: int) -> str:
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0 or address >= self.mappings[i].end:
            return UNKNOWN
        m = self.mappings[i]
        found = self._elf(m.path).name_at_offset(address - m.start + m.offset)
        return found if found is not None else UNKNOWN


class Symbolizer:
    """Kernel and per-process symbols for one tool run (each loaded on first use)."""

    def __init__(self) -> None:
        self._kernel: KernelSymbols | None = None
        self._processes: dict[int, ProcessSymbols] = {}
        self._elf_cache: dict[str, ElfSymbols] = {}

    @property
    def kernel(self) -> KernelSymbols:
        if self._kernel is None:
            self._kernel = KernelSymbols()
        return self._kernel

    def kernel_name(self, address: int) -> str:
        return self.kernel.name(address)

    def user_name(self, pid: int, address: int) -> str:
        proc = self._processes.get(pid)
        if proc is None:
            proc = self._processes[pid] = ProcessSymbols(pid, self._elf_cache)
        return proc.name(address)

    def remember(self, pid: int) -> None:
        """Read ``pid``'s mappings now (before it exits), if not done yet."""
        if pid not in self._processes:
            self._processes[pid] = ProcessSymbols(pid, self._elf_cache)
