"""What the uprobe tools share (threadsnoop, gethostlatency, sslsniff, memleak, funccount,
funclatency...): BCC's library names (``c`` for libc, ``ssl`` for libssl) resolved to a
file, and attaching one program to several functions of it.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from ..errors import InvalidInputError

__all__ = ["library_path", "attach_functions", "split_probe_spec", "function_offsets",
           "match_functions", "attach_offsets"]

_LIB_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
             "/lib", "/usr/lib", "/usr/local/lib")


def library_path(name: str) -> str:
    """The file BCC's ``name`` means: a path as given, ``c`` -> libc.so.6, ``ssl`` ->
    libssl.so.3 (the highest version found), else a program on ``$PATH``. Raises
    InvalidInputError when there is none."""
    from ..kernel.links.uprobe import resolve_binary  # noqa: PLC0415 - kernel on use

    if "/" in name or ".so" in name:
        return resolve_binary(name)
    for directory in _LIB_DIRS:
        exact = os.path.join(directory, f"lib{name}.so")
        found = sorted(glob.glob(glob.escape(exact) + ".*"), key=len)
        if found:
            return os.path.realpath(found[0])
        if os.path.isfile(exact):
            return os.path.realpath(exact)
    return resolve_binary(name)


def split_probe_spec(spec: str) -> tuple[str, str]:
    """``LIB:FUNC`` (or ``p:LIB:FUNC``, ``u:LIB:FUNC``) as (library path, function
    pattern). Raises InvalidInputError for anything else."""
    parts = spec.split(":")
    if len(parts) == 3 and parts[0] in ("p", "u", "uprobe"):
        parts = parts[1:]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidInputError(f"{spec!r}: expected LIBRARY:FUNCTION, e.g. c:malloc (no "
                                "kprobes on this kernel: kernel functions cannot be traced)")
    return library_path(parts[0]), parts[1]


def attach_functions(coll: Any, program: str, binary: str, functions: list[str], *,
                     retprogram: str | None = None, pid: int | None = None,
                     missing_ok: bool = False) -> list[str]:
    """Attach ``program`` (and ``retprogram`` as a uretprobe) to each of ``functions`` in
    ``binary``; the collection owns the links. Returns the functions attached (with
    ``missing_ok``, those the binary lacks are skipped)."""
    from ..kernel.links.uprobe import attach_uprobe  # noqa: PLC0415 - kernel on use

    done = []
    for func in functions:
        try:
            coll.links.append(attach_uprobe(coll.programs[program], binary, func, pid=pid))
        except InvalidInputError:
            if not missing_ok:
                raise
            continue
        if retprogram is not None:
            coll.links.append(attach_uprobe(coll.programs[retprogram], binary, func, pid=pid,
                                            retprobe=True))
        done.append(func)
    return done


def function_offsets(binary: str) -> dict[str, int]:
    """Every function defined in ``binary`` (``.symtab``, else ``.dynsym``) -> the file
    offset of its code, read in one pass. Aliases (several names at one address) keep
    the shortest name, so a probe is attached once; IFUNC resolvers are left out (their
    code is not the function's)."""
    from elftools.elf.elffile import ELFFile  # noqa: PLC0415
    from elftools.elf.sections import SymbolTableSection  # noqa: PLC0415

    from ..kernel.links.uprobe import address_to_offset  # noqa: PLC0415

    by_address: dict[int, tuple[str, object]] = {}
    with open(binary, "rb") as f:
        elf = ELFFile(f)
        for table_name in (".symtab", ".dynsym"):
            table = elf.get_section_by_name(table_name)
            if not isinstance(table, SymbolTableSection):
                continue
            for sym in table.iter_symbols():
                if sym["st_info"]["type"] != "STT_FUNC" or sym["st_shndx"] == "SHN_UNDEF":
                    continue
                address, name = sym["st_value"], sym.name.split("@", 1)[0]
                if not address or not name:
                    continue
                seen = by_address.get(address)
                if seen is None or len(name) < len(seen[0]):
                    by_address[address] = (name, sym["st_shndx"])
            if by_address:
                break
        offsets: dict[str, int] = {}
        for address, (name, shndx) in by_address.items():
            try:
                offsets.setdefault(name, address_to_offset(elf, address, section_index=shndx))
            except Exception:  # noqa: BLE001 - a symbol outside any loaded part: skip it
                continue
    return offsets


def match_functions(binary: str, pattern: str, *, regexp: bool = False) -> dict[str, int]:
    """The functions of ``binary`` whose names match ``pattern`` (shell wildcards, or a
    regular expression with ``regexp``) -> file offsets. Raises InvalidInputError when
    none does."""
    import fnmatch  # noqa: PLC0415
    import re  # noqa: PLC0415

    offsets = function_offsets(binary)
    if regexp:
        rx = re.compile(pattern)
        found = {n: o for n, o in offsets.items() if rx.search(n)}
    elif any(c in pattern for c in "*?["):
        found = {n: o for n, o in offsets.items() if fnmatch.fnmatchcase(n, pattern)}
    else:
        found = {pattern: offsets[pattern]} if pattern in offsets else {}
    if not found:
        raise InvalidInputError(f"no function of {binary} matches {pattern!r}")
    return dict(sorted(found.items()))


def attach_offsets(coll: Any, program: str, binary: str, offsets: list[int], *,
                   retprogram: str | None = None, pid: int | None = None,
                   first_cookie: int = 0) -> None:
    """Attach ``program`` (and ``retprogram`` as a uretprobe) at each file offset of
    ``binary``, the i-th with bpf cookie ``first_cookie + i`` (``attach_cookie`` says
    which function fired); the collection owns the links."""
    from ..kernel.links.uprobe import attach_uprobe  # noqa: PLC0415 - kernel on use

    for i, offset in enumerate(offsets):
        coll.links.append(attach_uprobe(coll.programs[program], binary, offset=offset,
                                        pid=pid, cookie=first_cookie + i))
        if retprogram is not None:
            coll.links.append(attach_uprobe(coll.programs[retprogram], binary, offset=offset,
                                            pid=pid, cookie=first_cookie + i,
                                            retprobe=True))
