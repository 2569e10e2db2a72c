"""The :class:`~.record_index.RecordIndex` of a large BTF blob kept on disk between processes.

Walking the running kernel's BTF and sorting its names is the part of parsing it whose cost
grows with the kernel, and the answer never changes for the same bytes. So
:func:`pybpf.btf.load_kernel_spec` stores it here, in a file named after the blob (see
:func:`_key`), and the next process reads it back (about a millisecond) instead. A file
that is missing, short or unreadable is simply built again; nothing depends on the cache.

Where: ``$PYBPF_CACHE_DIR``, else ``$XDG_CACHE_HOME/pybpf``, else ``~/.cache/pybpf``.
``PYBPF_CACHE_DIR=`` (empty) turns the cache off.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from pathlib import Path

from .record_index import RecordIndex

__all__ = ["cache_dir", "read_index", "write_index"]

_KERNEL_BTF_DIR = "/sys/kernel/btf/"


def cache_dir() -> Path | None:
    """The directory the indexes are kept in, or None when caching is off."""
    configured = os.environ.get("PYBPF_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "pybpf"


def _key(data: bytes, source: str) -> str:
    """What names these bytes. The kernel's own BTF files cannot change while it runs, and
    a module loaded again gets a new file (a new mtime): for them the boot and the file's
    size and mtime suffice. Anything else is named by its CRC-32 (2 ms for vmlinux)."""
    if source.startswith(_KERNEL_BTF_DIR):
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                boot = f.read().strip()
            st = os.stat(source)
        except OSError:
            pass
        else:
            if st.st_size == len(data):
                return f"{boot}-{Path(source).name}-{st.st_size}-{st.st_mtime_ns}"
    return f"{len(data)}-{zlib.crc32(data):08x}"


def _path(data: bytes, source: str) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    return directory / f"btf-index-{_key(data, source)}.bin"


def read_index(data: bytes, source: str = "") -> RecordIndex | None:
    """The index stored for exactly these bytes (read from the file ``source``), or None."""
    path = _path(data, source)
    if path is None:
        return None
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    return RecordIndex.from_bytes(stored)


def write_index(data: bytes, source: str, index: RecordIndex) -> None:
    """Store the index for these bytes; quietly does nothing where it cannot write."""
    path = _path(data, source)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # write then rename, so a concurrent reader never sees half a file
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(index.to_bytes())
        os.replace(tmp.name, path)
    except OSError:
        return
