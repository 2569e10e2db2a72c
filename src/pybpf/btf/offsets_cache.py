"""The record index of a large BTF blob kept on disk between processes.

Walking the running kernel's BTF to find where each of its 100k+ records starts is the one
part of parsing it whose cost grows with the kernel, and the answer never changes for the
same bytes. So :func:`pybpf.btf.load_kernel_spec` stores the walk's result here (each
record's offset and name offset) in a file named after the blob (see :func:`_key`), and
the next process reads it back (about a millisecond) instead of walking again. A file that
is missing, short or unreadable is simply walked again; nothing depends on the cache.

Where: ``$PYBPF_CACHE_DIR``, else ``$XDG_CACHE_HOME/pybpf``, else ``~/.cache/pybpf``.
``PYBPF_CACHE_DIR=`` (empty) turns the cache off.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from array import array
from pathlib import Path

__all__ = ["cache_dir", "read_index", "write_index"]

_MAGIC = b"pybpf-btf-index-1\n"
_KERNEL_BTF_DIR = "/sys/kernel/btf/"


def cache_dir() -> Path | None:
    """The directory the offsets are kept in, or None when caching is off."""
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


def read_index(data: bytes, source: str = "") -> tuple[array[int], bytes] | None:
    """The (record offsets, packed name offsets) stored for exactly these bytes (read from
    the file ``source``), or None."""
    path = _path(data, source)
    if path is None:
        return None
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    body = len(stored) - len(_MAGIC)
    if not stored.startswith(_MAGIC) or body % 8:
        return None
    offsets = array("I")
    half = len(_MAGIC) + body // 2
    offsets.frombytes(memoryview(stored)[len(_MAGIC):half])
    return offsets, stored[half:]


def write_index(data: bytes, source: str, offsets: array[int], name_offs: bytes) -> None:
    """Store the index for these bytes; quietly does nothing where it cannot write."""
    path = _path(data, source)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # write then rename, so a concurrent reader never sees half a file
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(_MAGIC + offsets.tobytes() + name_offs)
        os.replace(tmp.name, path)
    except OSError:
        return
