"""Kernel-test fixtures: every test in this folder proves it leaked no file descriptor."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from pybpf.btf import index_cache


def open_fds() -> dict[int, str]:
    """Each open fd of this process and what it points at (map, prog, file...), less the
    mappings of the kernel BTF cache (pybpf.btf.index_cache): a kernel BTF spec keeps its
    mapped copy open for as long as the spec lives, and the process-wide one lives on."""
    cache = index_cache.cache_dir()
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the fd of the listdir itself, already closed
            continue
        if cache is None or not target.startswith(f"{cache}/btf-"):
            fds[int(name)] = target
    return fds


@contextlib.contextmanager
def fd_leak_check() -> Iterator[None]:
    """Raise AssertionError if the block leaves a new file descriptor open."""
    before = open_fds()
    yield
    leaked = {fd: target for fd, target in open_fds().items()
              if fd not in before or before[fd] != target}
    assert not leaked, f"file descriptors leaked: {leaked}"


@pytest.fixture(autouse=True)
def no_fd_leak() -> Iterator[None]:
    """Fail a test that leaves a file descriptor open (a map, program, mmap...)."""
    with fd_leak_check():
        yield
