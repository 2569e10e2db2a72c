"""Where compiled scripts are kept and the key of one (see :mod:`.cache`): light enough for
the start of ``pybpf trace`` (:mod:`.quickstart`), which looks an entry up before it
imports anything else."""

from __future__ import annotations

import os

try:  # hashlib would load OpenSSL first (~2.5 ms of a start) for what _blake2 has
    from _blake2 import blake2b
except ImportError:  # another Python: the same function through hashlib
    from hashlib import blake2b

from ..source_identity import source_fingerprint

__all__ = ["cache_directory", "entry_key", "FORMAT"]

FORMAT = b"pybpf-trace-compiled-1\n"
# the packages whose code decides what a script compiles to
_COMPILER_PACKAGES = ("trace", "asm", "spec", "helpers", "kernel", "btf")


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


def entry_key(text: str, unsafe: bool, params: list[str] | None, child: bool = False
              ) -> str | None:
    """The name of the entry of ``text`` compiled with these options on this kernel by
    this pybpf; None when the kernel cannot be identified (no caching then). With a child
    command (``-c``) a script may use cpid, which it may not without one."""
    kernel = _kernel_identity()
    if kernel is None:
        return None
    parts = [_compiler_identity(), kernel, str(unsafe) + (" child" if child else ""),
             *(params or []), "\0", text]
    return blake2b("\0".join(parts).encode(), digest_size=20).hexdigest()
