"""What the uprobe tools share (threadsnoop, gethostlatency, sslsniff, memleak, funccount,
funclatency...): BCC's library names (``c`` for libc, ``ssl`` for libssl) resolved to a
file, and attaching one program to several functions of it.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from ..errors import InvalidInputError

__all__ = ["library_path", "attach_functions", "split_probe_spec"]

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
