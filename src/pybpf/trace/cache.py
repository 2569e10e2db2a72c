"""Compiled scripts kept on disk, so ``pybpf trace`` run again with the same script does
not parse, type and generate code again (nor import the front end: ~20 ms of its start).

An entry is a :class:`~.compiler.Compiled` (pickled) without its AST: what the runtime
needs (the spec, the printing plan, the attach points, the source lines of ``-d``).

**Key**: everything that decides the output and can be known without compiling: the
script's text and parameters, ``--unsafe``; this pybpf (the path, size and mtime of every
source file of the packages that compile a script, as Python's bytecode cache checks a
source); the running kernel (the boot: tracepoint formats, wildcard expansions and kernel
symbol addresses are fixed while it runs) and its loaded modules (/proc/modules: a module
brings tracepoints and symbols). What the key cannot know, the binaries uprobes and usdt
probes were resolved in, is checked on a hit: the entry lists them with size and mtime.
A mismatch, an unreadable entry or one that is not ours is ignored: compiling is always
the fallback.

**Where**: ``<cache root>/trace/`` (the root as :func:`pybpf.btf.index_cache.cache_dir`
says: ``$PYBPF_CACHE_DIR``, empty to turn caching off, else ``$XDG_CACHE_HOME/pybpf`` or
``~/.cache/pybpf``), one file per key, written to a temporary file then renamed; the
oldest beyond :data:`MAX_ENTRIES` are removed.
"""

from __future__ import annotations

import os
import pickle
import stat
from typing import TYPE_CHECKING

from .cache_key import FORMAT, cache_directory, entry_key
from .compiler import Compiled, Unit

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["lookup", "store", "cache_directory", "MAX_ENTRIES"]

MAX_ENTRIES = 256
_FILE_PROVIDERS = ("uprobe", "uretprobe", "usdt")


def _files_of(units: Iterable[Unit]) -> list[tuple[str, int, int]]:
    """The binaries the attach points were resolved in, with size and mtime."""
    files = set()
    for u in units:
        for p in u.points:
            if p.provider in _FILE_PROVIDERS and p.target:
                files.add(p.target)
    out = []
    for path in sorted(files):
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.append((path, st.st_size, st.st_mtime_ns))
    return out


def _unchanged(files: list[tuple[str, int, int]]) -> bool:
    for path, size, mtime_ns in files:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return False
    return True


def lookup(text: str, *, unsafe: bool = False, params: list[str] | None = None,
           child: bool = False) -> Compiled | None:
    """The script compiled before on this kernel with this pybpf, or None."""
    directory = cache_directory()
    key = entry_key(text, unsafe, params, child) if directory is not None else None
    if directory is None or key is None:
        return None
    path = os.path.join(directory, key)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            # an entry someone else could have written is never unpickled
            if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            if f.read(len(FORMAT)) != FORMAT:
                return None
            entry = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            TypeError, ValueError):
        return None
    if not isinstance(entry, tuple) or len(entry) != 2:
        return None
    files, compiled = entry
    if not isinstance(compiled, Compiled) or compiled.text != text or not _unchanged(files):
        return None
    return compiled


def store(compiled: Compiled, *, unsafe: bool = False, params: list[str] | None = None,
          child: bool = False) -> None:
    """Keep ``compiled`` for the next run; any failure leaves the cache as it was."""
    directory = cache_directory()
    key = entry_key(compiled.text, unsafe, params, child) if directory is not None else None
    if directory is None or key is None:
        return
    bare = Compiled(compiled.spec, compiled.plan,
                    [Unit(u.name, None, u.points, u.source_line, u.cookies)
                     for u in compiled.units],
                    compiled.probe_names, compiled.map_names, compiled.stack_maps,
                    compiled.text, compiled.lines)
    try:
        data = FORMAT + pickle.dumps((_files_of(compiled.units), bare),
                                     protocol=pickle.HIGHEST_PROTOCOL)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".{key}.{os.getpid()}")
        with open(tmp, "wb", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            f.write(data)
        os.replace(tmp, os.path.join(directory, key))
        _store_lean(compiled, directory, key)
        _trim(directory)
    except (OSError, ValueError, pickle.PicklingError, TypeError, AttributeError):
        pass    # an optimisation only: a read-only or full disk compiles every time


def _store_lean(compiled: Compiled, directory: str, key: str) -> None:
    """Beside the entry, the flat one :mod:`.quickstart` starts from, for a script whose
    probes it attaches (no uprobes or usdt: their files are checked on a hit)."""
    from .quickstart import LEAN_SUFFIX, lean_entry

    path = os.path.join(directory, key + LEAN_SUFFIX)
    data = lean_entry(compiled)
    if data is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    tmp = os.path.join(directory, f".{key}{LEAN_SUFFIX}.{os.getpid()}")
    with open(tmp, "wb", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
        f.write(data)
    os.replace(tmp, path)


def _trim(directory: str) -> None:
    from .quickstart import LEAN_SUFFIX

    entries = [e for e in os.scandir(directory)
               if not e.name.startswith(".") and not e.name.endswith(LEAN_SUFFIX)]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for e in entries[:len(entries) - MAX_ENTRIES]:
        for path in (e.path, e.path + LEAN_SUFFIX):
            try:
                os.unlink(path)
            except OSError:
                pass
