"""uprobes and uretprobes (``SEC("uprobe/<path>:<symbol>")``): a perf event of the
``uprobe`` PMU on a file offset of an ELF binary or shared library, carrying a KPROBE
program.

The kernel wants a path and a *file offset*. A symbol is turned into one here (with
elf_symbols, a few milliseconds even for libc): its value is a virtual address inside its
section, so the offset is ``st_value - sh_addr + sh_offset`` (program headers are used
when the section is not known). A uprobe hits every process mapping the file; ``pid``
narrows it to one.
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import TYPE_CHECKING, BinaryIO

from ...dataclass_compat import FrozenValue
from ...errors import ELFError, InvalidInputError, KernelError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from ..fd import FD
from . import elf_symbols
from .base import Link
from .perf import attach_to_perf_event, checked_program_fd, pmu_format_bit, pmu_type

if TYPE_CHECKING:
    from elftools.elf.elffile import ELFFile

__all__ = ["attach_uprobe", "attach_uretprobe", "resolve_binary", "symbol_offset",
           "address_to_offset", "ElfSymbol"]

_FEATURE = "uprobes (CONFIG_UPROBE_EVENTS)"

# where a bare library name ("libc.so.6") is looked for, like the dynamic linker's defaults
_MULTIARCH = f"{os.uname().machine}-linux-gnu"
_LIBRARY_DIRS = (f"/lib/{_MULTIARCH}", f"/usr/lib/{_MULTIARCH}",
                 "/lib64", "/usr/lib64", "/lib", "/usr/lib")


def resolve_binary(path: str | os.PathLike[str]) -> str:
    """The absolute path of ``path``: as given when it has a slash, else a shared library
    ("libc.so.6") from the system library directories or a program from ``$PATH``.

    Raises InvalidInputError when there is no such file.
    """
    text = os.fspath(path)
    if not text:
        raise InvalidInputError("empty binary path")
    if "/" in text:
        if not os.path.isfile(text):
            raise InvalidInputError(f"no such binary or library {text}")
        return os.path.abspath(text)
    if ".so" in text:
        for directory in _LIBRARY_DIRS:
            candidate = os.path.join(directory, text)
            if os.path.isfile(candidate):
                return candidate
        raise InvalidInputError(f"no library {text} in {', '.join(_LIBRARY_DIRS)}")
    import shutil  # noqa: PLC0415 - only for a bare program name (and ~1.5 ms to import)
    found = shutil.which(text)
    if found is None:
        raise InvalidInputError(f"no program {text} on $PATH")
    return os.path.abspath(found)


class ElfSymbol(FrozenValue):
    """A function symbol of a binary and the file offset its code starts at. (Not a
    dataclass: importing dataclasses costs every uprobe tool's start ~10 ms.)"""

    name: str
    address: int
    size: int
    file_offset: int

    __match_args__ = ("name", "address", "size", "file_offset")

    def __init__(self, name: str, address: int, size: int, file_offset: int) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "file_offset", file_offset)


def _open_elf(path: str) -> tuple[BinaryIO, ELFFile]:
    """The open file (the caller closes it) and its pyelftools view."""
    from elftools.common.exceptions import ELFError as PyELFError
    from elftools.elf.elffile import ELFFile

    try:
        f = open(path, "rb")  # noqa: SIM115 - returned open, with the ELFFile reading it
    except OSError as err:
        raise InvalidInputError(f"cannot open: {err.strerror}", source=path) from None
    try:
        return f, ELFFile(f)
    except PyELFError as err:
        f.close()
        raise ELFError(f"not an ELF file: {err}", source=path) from None


def address_to_offset(elf: ELFFile, address: int, *, section_index: object = None,
                      source: str = "") -> int:
    """The file offset of virtual ``address`` in the open pyelftools ``elf``.

    ``section_index`` (the symbol's st_shndx) is used first; else the PT_LOAD segment
    holding the address. Raises ELFError when no section or segment holds it.
    """
    if isinstance(section_index, int) and 0 < section_index < elf.num_sections():
        section = elf.get_section(section_index)
        start, size = section["sh_addr"], section["sh_size"]
        if start <= address < start + size and section["sh_type"] != "SHT_NOBITS":
            in_section: int = address - start + section["sh_offset"]
            return in_section
    for segment in elf.iter_segments():
        if segment["p_type"] != "PT_LOAD":
            continue
        start = segment["p_vaddr"]
        if start <= address < start + segment["p_filesz"]:
            in_segment: int = address - start + segment["p_offset"]
            return in_segment
    raise ELFError(f"address {address:#x} is in no loaded part of the file", source=source)


def symbol_offset(path: str, symbol: str) -> ElfSymbol:
    """Find function ``symbol`` in the ELF file ``path`` (.symtab, then .dynsym).

    Where a symbol is defined twice at different addresses (symbol versions), the default
    version wins. Raises InvalidInputError when the symbol is missing, undefined (imported
    from another library), an IFUNC resolver, or ambiguous; ELFError for a corrupt file.
    """
    if not os.path.isfile(path):
        raise InvalidInputError("cannot open: no such file", source=path)
    found: dict[int, tuple[int, int, bool]] = {}
    undefined = ifunc = False
    for sym in elf_symbols.find_function(path, symbol):
        if sym.section == elf_symbols.SHN_UNDEF:
            undefined = True
            continue
        if sym.kind == elf_symbols.STT_GNU_IFUNC:
            ifunc = True
            continue
        if sym.kind != elf_symbols.STT_FUNC:
            continue
        default = sym.table == ".symtab" or sym.default
        if sym.address not in found or default:
            found[sym.address] = (sym.size, sym.section, default)
    if not found:
        if ifunc:
            raise InvalidInputError(
                f"{symbol} is an IFUNC: its symbol is the resolver that picks an "
                "implementation at load time, not the code that runs; probe the "
                "implementation (e.g. __strlen_avx2) or give a raw offset", source=path)
        why = "is only imported (undefined) there" if undefined else "is not there"
        raise InvalidInputError(f"function {symbol} {why}", source=path)
    if len(found) > 1:
        found = {a: v for a, v in found.items() if v[2]} or found
    if len(found) > 1:
        addresses = ", ".join(f"{a:#x}" for a in sorted(found))
        raise InvalidInputError(f"function {symbol} is defined at several addresses "
                                f"({addresses}): give an offset instead", source=path)
    (address, (size, shndx, _)), = found.items()
    offset = elf_symbols.address_to_offset(path, address, shndx)
    if offset is None:
        raise ELFError(f"address {address:#x} is in no loaded part of the file", source=path)
    return ElfSymbol(symbol, address, size, offset)


def open_uprobe_event(path: str, file_offset: int, *, pid: int | None = None,
                      retprobe: bool = False, ref_ctr_offset: int = 0,
                      description: str) -> FD:
    """A perf event of the uprobe PMU at ``file_offset`` of ``path`` (absolute).

    ``ref_ctr_offset`` is the file offset of a USDT semaphore the kernel increments while
    the probe is in place. Raises NotSupportedError without uprobes, InvalidInputError for
    a missing process, KernelError otherwise.
    """
    attr = bpfsys.PerfEventAttr(type=pmu_type("uprobe", feature=_FEATURE),
                                sample_period=1, wakeup_events=1)
    if retprobe:
        attr.config |= 1 << pmu_format_bit("uprobe", "retprobe")
    if ref_ctr_offset:
        attr.config |= ref_ctr_offset << pmu_format_bit("uprobe", "ref_ctr_offset")
    name = bpfsys.c_string(path)  # read by the kernel during perf_event_open only
    attr.config1 = ctypes.addressof(name)  # uprobe_path
    attr.config2 = file_offset  # probe_offset
    # every process: pid -1 needs a CPU (any: uprobes fire on all of them); one process:
    # every CPU it runs on
    try:
        return bpfsys.perf_event_open(attr, pid=-1 if pid is None else pid,
                                      cpu=0 if pid is None else -1, obj=description)
    except KernelError as err:
        if err.errno == errno.ESRCH:
            raise InvalidInputError(f"{description}: no process with pid {pid}") from err
        raise


def attach_uprobe(prog: object, path: str | os.PathLike[str], symbol: str | None = None, *,
                  offset: int = 0, pid: int | None = None, retprobe: bool = False,
                  cookie: int = 0, ref_ctr_offset: int = 0) -> Link:
    """Run KPROBE program ``prog`` when code at ``symbol``+``offset`` of ``path`` runs (or,
    with ``retprobe``, when that function returns).

    ``path`` is a binary or library ("/bin/bash", "libc.so.6"); without ``symbol``,
    ``offset`` is a file offset. ``pid`` limits the probe to one process. Raises
    InvalidInputError (wrong program, missing file/symbol/process, bad offset), ELFError,
    NotSupportedError without uprobes, KernelError when refused.
    """
    kind = "uretprobe" if retprobe else "uprobe"
    prog_fd = checked_program_fd(prog, (ProgramType.KPROBE,), f"a {kind}")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"bad {kind} offset {offset!r}: expected a byte count >= 0")
    if pid is not None and (not isinstance(pid, int) or pid <= 0):
        raise InvalidInputError(f"bad pid {pid!r}: expected a process id > 0 (or None for all)")
    binary = resolve_binary(path)
    if symbol is not None:
        file_offset = symbol_offset(binary, symbol).file_offset + offset
        where = f"{binary}:{symbol}" + (f"+{offset:#x}" if offset else "")
    elif offset:
        file_offset = offset
        where = f"{binary}:{offset:#x}"
    else:
        raise InvalidInputError(f"{kind} on {binary}: give a symbol or a file offset")
    description = f"{kind} {where}" + (f" pid {pid}" if pid is not None else "")
    perf_fd = open_uprobe_event(binary, file_offset, pid=pid, retprobe=retprobe,
                                ref_ctr_offset=ref_ctr_offset, description=description)
    return attach_to_perf_event(prog_fd, perf_fd, description=description, cookie=cookie)


def attach_uretprobe(prog: object, path: str | os.PathLike[str], symbol: str | None = None,
                     **options: object) -> Link:
    """:func:`attach_uprobe` with ``retprobe=True``."""
    return attach_uprobe(prog, path, symbol, retprobe=True, **options)  # type: ignore[arg-type]


# link_create.uprobe_multi.flags: the programs run at the functions' returns (uapi bpf.h)
BPF_F_UPROBE_MULTI_RETURN = 1


def attach_uprobe_multi(prog: object, path: str, offsets: list[int], *,
                        cookies: list[int] | None = None, pid: int | None = None,
                        retprobe: bool = False, description: str) -> Link:
    """One ``BPF_LINK_TYPE_UPROBE_MULTI`` link running ``prog`` at every file offset of
    ``path`` (absolute), the i-th with bpf cookie ``cookies[i]``; only in process ``pid``
    if given. Closing it detaches every site at once, in a few ms, where perf-event uprobes
    wait for a grace period each. ``prog`` must be loaded with expected attach type
    TRACE_UPROBE_MULTI (Linux 6.6; ``features.supports_uprobe_multi_link`` says whether
    the kernel has it). Raises InvalidInputError for a missing process, KernelError
    otherwise."""
    prog_fd = checked_program_fd(prog, (ProgramType.KPROBE,), "a uprobe_multi link")
    if not offsets or (cookies is not None and len(cookies) != len(offsets)):
        raise InvalidInputError(f"{description}: expected offsets, and one cookie each")
    name = bpfsys.c_string(path)  # the arrays are read by the kernel during the call only
    sites = (ctypes.c_uint64 * len(offsets))(*offsets)
    marks = (ctypes.c_uint64 * len(offsets))(*(cookies or [0] * len(offsets)))
    attr = bpfsys.UprobeMultiLinkCreateAttr(
        prog_fd=prog_fd, attach_type=AttachType.TRACE_UPROBE_MULTI,
        path=ctypes.addressof(name), offsets=ctypes.addressof(sites),
        cookies=ctypes.addressof(marks), cnt=len(offsets), pid=pid or 0,
        multi_flags=BPF_F_UPROBE_MULTI_RETURN if retprobe else 0)
    try:
        fd = bpfsys.link_create(attr, obj=description)
    except KernelError as err:
        if err.errno == errno.ESRCH:
            raise InvalidInputError(f"{description}: no process with pid {pid}") from err
        raise
    return Link(fd, description=description)
