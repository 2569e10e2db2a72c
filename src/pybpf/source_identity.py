"""Which pybpf is running: a fingerprint of some of its packages' source files by path,
size and mtime, as Python's own bytecode cache checks a source. The compile caches (lang's
and trace's) key entries on it, so another pybpf (an upgrade, an edit) misses. About
0.3-0.5 ms once a process, where reading the files takes several milliseconds and asking
the package metadata for a version ~50 ms."""

from __future__ import annotations

import os

try:  # hashlib would load OpenSSL first (~2.5 ms of a start) for what _blake2 has
    from _blake2 import blake2b
except ImportError:  # another Python: the same function through hashlib
    from hashlib import blake2b

__all__ = ["source_fingerprint"]

_ROOT = os.path.dirname(os.path.abspath(__file__))
_seen: dict[tuple[bytes, tuple[str, ...]], str] = {}


def source_fingerprint(seed: bytes, packages: tuple[str, ...]) -> str:
    """A hex digest of ``seed`` and the .py files under pybpf's ``packages``."""
    key = (seed, packages)
    if key not in _seen:
        h = blake2b(seed, digest_size=16)
        todo = [os.path.join(_ROOT, package) for package in packages]
        while todo:
            folder = todo.pop()
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.is_dir() and entry.name != "__pycache__":
                    todo.append(entry.path)
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    h.update(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _seen[key] = h.hexdigest()
    return _seen[key]
