"""Kernel-test fixtures: every test in this folder proves it leaked no file descriptor."""

from __future__ import annotations

import os

import pytest


def _open_fds() -> dict[int, str]:
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the fd of the listdir itself, already closed
            pass
    return fds


@pytest.fixture(autouse=True)
def no_fd_leak():
    """Fail a test that leaves a file descriptor open (a map, program, mmap...)."""
    before = _open_fds()
    yield
    leaked = {fd: target for fd, target in _open_fds().items()
              if fd not in before or before[fd] != target}
    assert not leaked, f"file descriptors leaked: {leaked}"
