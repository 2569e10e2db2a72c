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

try:  # hashlib would load OpenSSL first (~2.5 ms of a start) for what _blake2 has
    from _blake2 import blake2b
except ImportError:  # another Python: the same function through hashlib
    from hashlib import blake2b

from ..source_identity import source_fingerprint
from .compiler import Compiled, Unit

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["lookup", "store", "cache_directory", "MAX_ENTRIES"]

FORMAT = b"pybpf-trace-compiled-1\n"
MAX_ENTRIES = 256
# the packages whose code decides what a script compiles to
_COMPILER_PACKAGES = ("trace", "asm", "spec", "helpers", "kernel", "btf")
_FILE_PROVIDERS = ("uprobe", "uretprobe", "usdt")


def cache_directory() -> str | None:
    """Where compiled scripts are kept, or None when caching is off."""
    configured = os.environ.get("PYBPF_CACHE_DIR")
    if configured is not None:
        return os.path.join(configured, "trace") if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pybpf", "trace")


def _compiler_identity() -> str:
    """The compiling packages' sources (see :mod:`pybpf.source_identity`)."""
    return source_fingerprint(FORMAT, _COMPILER_PACKAGES)


def _kernel_identity() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        return None
    try:
        with open("/proc/modules", "rb") as f:
            modules = blake2b(f.read(), digest_size=16).hexdigest()
    except FileNotFoundError:    # a kernel built without modules
        modules = "-"
    except OSError:
        return None
    return f"{boot}-{modules}"


def _key(text: str, unsafe: bool, params: list[str] | None) -> str | None:
    kernel = _kernel_identity()
    if kernel is None:
        return None
    parts = [_compiler_identity(), kernel, str(unsafe), *(params or []), "\0", text]
    return blake2b("\0".join(parts).encode(), digest_size=20).hexdigest()


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


def lookup(text: str, *, unsafe: bool = False, params: list[str] | None = None
           ) -> Compiled | None:
    """The script compiled before on this kernel with this pybpf, or None."""
    directory = cache_directory()
    key = _key(text, unsafe, params) if directory is not None else None
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


def store(compiled: Compiled, *, unsafe: bool = False, params: list[str] | None = None
          ) -> None:
    """Keep ``compiled`` for the next run; any failure leaves the cache as it was."""
    directory = cache_directory()
    key = _key(compiled.text, unsafe, params) if directory is not None else None
    if directory is None or key is None:
        return
    bare = Compiled(compiled.spec, compiled.plan,
                    [Unit(u.name, None, u.points, u.source_line) for u in compiled.units],
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
        _trim(directory)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass    # an optimisation only: a read-only or full disk compiles every time


def _trim(directory: str) -> None:
    entries = [e for e in os.scandir(directory) if not e.name.startswith(".")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for e in entries[:len(entries) - MAX_ENTRIES]:
        try:
            os.unlink(e.path)
        except OSError:
            pass
