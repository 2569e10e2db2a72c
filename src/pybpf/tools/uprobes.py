"""What the uprobe tools share (threadsnoop, gethostlatency, sslsniff, memleak, funccount,
funclatency...): BCC's library names (``c`` for libc, ``ssl`` for libssl) resolved to a
file, and attaching one program to several functions of it.
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Iterable
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
    ``missing_ok``, those the binary lacks are skipped; else InvalidInputError)."""
    offsets = function_offsets(binary, names=functions)
    done = []
    for func in functions:
        if func not in offsets:
            if missing_ok:
                continue
            raise InvalidInputError(f"function {func} is not in {binary}")
        attach_offsets(coll, program, binary, [offsets[func]], retprogram=retprogram, pid=pid)
        done.append(func)
    return done


@functools.cache
def _function_offsets(binary: str, size: int, mtime_ns: int,
                      names: frozenset[str] | None) -> dict[str, int]:
    # keyed by size and mtime too: a library replaced on disk is read again
    del size, mtime_ns
    from ..errors import ELFError  # noqa: PLC0415
    from ..kernel.links.elf_symbols import function_offsets as read  # noqa: PLC0415

    try:
        return read(binary, names)
    except ELFError as err:
        raise InvalidInputError(f"{binary}: {err}") from None


def function_offsets(binary: str, names: Iterable[str] | None = None) -> dict[str, int]:
    """Every function defined in ``binary`` (``.symtab``, else ``.dynsym``) -> the file
    offset of its code (kernel.links.elf_symbols: one pass of the symbol table), cached
    per process. Aliases (several names
    at one address) are all there (:func:`match_functions` keeps one); of two versions of
    one name the default wins; IFUNC resolvers are left out (their code is not the
    function's). With ``names``, only those of them, found without reading every symbol."""
    st = os.stat(binary)
    return _function_offsets(os.path.realpath(binary), st.st_size, st.st_mtime_ns,
                             None if names is None else frozenset(names))


def match_functions(binary: str, pattern: str, *, regexp: bool = False) -> dict[str, int]:
    """The functions of ``binary`` whose names match ``pattern`` (shell wildcards, or a
    regular expression with ``regexp``) -> file offsets. Raises InvalidInputError when
    none does."""
    import fnmatch  # noqa: PLC0415
    import re  # noqa: PLC0415

    if regexp:
        rx = re.compile(pattern)
        found = {n: o for n, o in function_offsets(binary).items() if rx.search(n)}
    elif any(c in pattern for c in "*?["):
        found = {n: o for n, o in function_offsets(binary).items()
                 if fnmatch.fnmatchcase(n, pattern)}
    else:
        found = function_offsets(binary, names=[pattern])
    if not found:
        raise InvalidInputError(f"no function of {binary} matches {pattern!r}")
    # aliases (one address, several names) once, under the shortest name: a probe there
    # would fire once per attachment
    by_offset: dict[int, str] = {}
    for name, offset in found.items():
        if offset not in by_offset or len(name) < len(by_offset[offset]):
            by_offset[offset] = name
    return dict(sorted((name, offset) for offset, name in by_offset.items()))


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
