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


@pytest.mark.kernel
def test_leak_check_catches_a_forgotten_map():
    from pybpf.kernel.maps import Map
    from pybpf.spec import MapSpec, MapType
    from tests.kernel.conftest import fd_leak_check

    kept = []
    with pytest.raises(AssertionError, match="anon_inode:bpf-map"):
        with fd_leak_check():
            kept.append(Map.create(MapSpec("leak", MapType.ARRAY, 4, 4, 1)))
    kept[0].close()
