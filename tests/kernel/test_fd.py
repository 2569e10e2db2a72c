"""FD: the one owner of a file descriptor."""

from __future__ import annotations

import gc
import os
import warnings

import pytest

from pybpf.errors import ClosedError
from pybpf.kernel.fd import FD


def test_close_is_idempotent_and_later_use_raises():
    fd = FD(os.open("/dev/null", os.O_RDONLY), what="devnull")
    number = int(fd)
    fd.close()
    fd.close()
    assert fd.closed
    with pytest.raises(ClosedError, match="devnull"):
        int(fd)
    with pytest.raises(OSError):
        os.fstat(number)


def test_context_manager_closes():
    with FD(os.open("/dev/null", os.O_RDONLY)) as fd:
        number = fd.fileno()
        os.fstat(number)
    assert fd.closed


def test_detach_hands_over_ownership():
    fd = FD(os.open("/dev/null", os.O_RDONLY))
    number = fd.detach()
    assert fd.closed
    os.fstat(number)  # still open: now ours
    os.close(number)
    with pytest.raises(ClosedError):
        fd.detach()


def test_dup_is_independent():
    with FD(os.open("/dev/null", os.O_RDONLY)) as fd, fd.dup() as other:
        assert int(other) != int(fd)


def test_forgotten_fd_warns_and_closes():
    fd = FD(os.open("/dev/null", os.O_RDONLY), what="forgotten")
    number = int(fd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del fd
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) and "forgotten" in str(w.message)
               for w in caught)
    with pytest.raises(OSError):
        os.fstat(number)


def test_negative_fd_refused():
    with pytest.raises(ValueError):
        FD(-1)
