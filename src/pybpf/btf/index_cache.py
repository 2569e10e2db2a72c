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

import mmap
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from .record_index import RecordIndex

# record_index (with zlib and bisect) is imported where an index is read: every tool's
# start imports this module for cache_root() alone (the compile cache's directory), and
# importing them cost it ~3 ms

__all__ = ["cache_dir", "cache_root", "read_index", "write_index", "open_kernel_copy",
           "store_kernel_copy"]

_KERNEL_BTF_DIR = "/sys/kernel/btf/"


def cache_root() -> str | None:
    """The directory pybpf's caches are kept in, as a string (what a tool's start-up
    needs, without pathlib), or None when caching is off."""
    configured = os.environ.get("PYBPF_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pybpf")


def cache_dir() -> Path | None:
    """The directory the indexes are kept in, or None when caching is off."""
    from pathlib import Path  # noqa: PLC0415 - pathlib costs ~3 ms of a tool's start-up

    root = cache_root()
    return None if root is None else Path(root)


def _kernel_key(source: str) -> tuple[str, int] | None:
    """The name of one of the kernel's own BTF files and its size, or None for any other
    file. vmlinux cannot change while the kernel runs: the boot and its size name its bytes
    (not its mtime, which sysfs renews whenever it recreates the inode). A module loaded
    again gets a new file, so a module's mtime is part of its name."""
    if not source.startswith(_KERNEL_BTF_DIR):
        return None
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        st = os.stat(source)
    except OSError:
        return None
    name = os.path.basename(source)
    if name == "vmlinux":
        return f"{boot}-{name}-{st.st_size}", st.st_size
    return f"{boot}-{name}-{st.st_size}-{st.st_mtime_ns}", st.st_size


def _forget_other_copies(directory: Path, source: str, key: str) -> None:
    """Remove the copies and indexes of the same kernel file under other keys (an older
    boot, a module loaded before): one copy per kernel file, never a pile of them."""
    name = os.path.basename(source)
    try:
        stale = [p for p in directory.glob(f"btf-*-{name}-*.bin")
                 if not p.name.endswith(f"-{key}.bin")]
        for path in stale:
            path.unlink(missing_ok=True)
    except OSError:
        return


def _key(data: bytes, source: str) -> str:
    """What names these bytes: see _kernel_key; anything else by its CRC-32 (2 ms for
    vmlinux)."""
    kernel = _kernel_key(source)
    if kernel is not None and kernel[1] == len(data):
        return kernel[0]
    import zlib  # noqa: PLC0415 - see the imports

    return f"{len(data)}-{zlib.crc32(data):08x}"


def _path(data: bytes, source: str) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    return directory / f"btf-index-{_key(data, source)}.bin"


def _map(path: Path) -> mmap.mmap | None:
    try:
        with open(path, "rb") as f:
            return mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None


def open_kernel_copy(source: str) -> tuple[mmap.mmap, RecordIndex] | None:
    """For one of the kernel's own BTF files: our copy of its bytes and its index, both
    mapped from the cache (nothing is read until used; the kernel's file is not read at
    all), or None when there are none yet. sysfs cannot be mapped itself."""
    directory, kernel = cache_dir(), _kernel_key(source)
    if directory is None or kernel is None:
        return None
    blob = _map(directory / f"btf-blob-{kernel[0]}.bin")
    if blob is None or len(blob) != kernel[1]:
        return None
    stored = _map(directory / f"btf-index-{kernel[0]}.bin")
    from .record_index import RecordIndex  # noqa: PLC0415 - see the imports

    index = RecordIndex.from_buffer(stored) if stored is not None else None
    if index is None:
        return None
    return blob, index


def store_kernel_copy(source: str, data: bytes) -> None:
    """Keep a copy of one of the kernel's own BTF files for :func:`open_kernel_copy`."""
    directory, kernel = cache_dir(), _kernel_key(source)
    if directory is not None and kernel is not None and kernel[1] == len(data):
        _forget_other_copies(directory, source, kernel[0])
        _write(directory / f"btf-blob-{kernel[0]}.bin", data)


def read_index(data: bytes, source: str = "") -> RecordIndex | None:
    """The index stored for exactly these bytes (read from the file ``source``), or None."""
    path = _path(data, source)
    if path is None:
        return None
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    from .record_index import RecordIndex  # noqa: PLC0415 - see the imports

    return RecordIndex.from_buffer(stored)


def write_index(data: bytes, source: str, index: RecordIndex) -> None:
    """Store the index for these bytes; quietly does nothing where it cannot write."""
    path = _path(data, source)
    if path is not None:
        _write(path, index.to_bytes())


def _write(path: Path, content: bytes) -> None:
    """Write then rename, so a reader (or a mapping) never sees half a file; quietly
    nothing where the cache cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # writing is rare: not part of every start-up

        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(content)
        os.replace(tmp.name, path)
    except OSError:
        return
