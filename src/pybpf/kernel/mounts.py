"""The file systems BPF work needs: bpffs (pins) and tracefs (tracepoints, trace_pipe).

Both may be unmounted on a fresh boot; as root we mount them where the kernel documents them.
"""

from __future__ import annotations

import os

__all__ = ["BPFFS_PATH", "TRACEFS_PATH", "mounted_fs_type", "ensure_bpffs", "ensure_tracefs"]

BPFFS_PATH = "/sys/fs/bpf"
TRACEFS_PATH = "/sys/kernel/tracing"


def _unescape(field: str) -> str:
    # /proc/self/mounts writes space, tab, newline and backslash as octal escapes
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounted_fs_type(path: str, *, mounts_file: str = "/proc/self/mounts") -> str | None:
    """The file system type mounted exactly at ``path`` (the last one wins), or None."""
    target = os.path.realpath(path)
    found = None
    with open(mounts_file) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and _unescape(fields[1]) == target:
                found = fields[2]
    return found


def _ensure(path: str, fstype: str, source: str) -> str:
    if mounted_fs_type(path) == fstype:
        return path
    from . import sys as bpfsys  # only to mount: the rest reads files (`pybpf trace`'s start)

    os.makedirs(path, exist_ok=True)
    bpfsys.mount(source, path, fstype)
    return path


def ensure_bpffs(path: str = BPFFS_PATH) -> str:
    """Mount bpffs at ``path`` unless it is there already; returns ``path``.

    Raises KernelError (needs root) when the mount fails.
    """
    return _ensure(path, "bpf", "bpf")


def ensure_tracefs(path: str = TRACEFS_PATH) -> str:
    """Mount tracefs at ``path`` unless it is there already; returns ``path``."""
    return _ensure(path, "tracefs", "tracefs")
