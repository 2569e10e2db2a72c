"""Kernel-test fixtures: every test in this folder proves it leaked no file descriptor."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest


def open_fds() -> dict[int, str]:
    """Each open fd of this process and what it points at (map, prog, file...)."""
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the fd of the listdir itself, already closed
            pass
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
