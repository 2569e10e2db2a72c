"""pybpf.errors: the map refusal classes both backends raise."""

from __future__ import annotations

import errno
import pickle

import pytest

from pybpf.errors import (
    BPFError,
    InvalidInputError,
    MapArgumentError,
    MapError,
    MapFullError,
    MapKeyExistsError,
    MapKeyNotFoundError,
)


@pytest.mark.parametrize("code,cls", [(errno.E2BIG, MapFullError),
                                      (errno.EEXIST, MapKeyExistsError),
                                      (errno.ENOENT, MapKeyNotFoundError),
                                      (errno.EINVAL, MapArgumentError),
                                      (errno.EPERM, MapError)])
def test_map_error_is_the_subclass_of_its_errno_like_oserror(code: int, cls: type) -> None:
    err = MapError("update refused", map_name="counts", errno=code)
    assert type(err) is cls and err.errno == code and err.map_name == "counts"
    assert str(err) == "map 'counts': update refused"
    assert isinstance(err, (BPFError, OSError))
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is cls and copy.errno == code and str(copy) == str(err)


def test_a_subclass_made_directly_has_its_errno() -> None:
    assert MapFullError("full", map_name="m").errno == errno.E2BIG
    err = MapArgumentError("key is 2 bytes", map_name="m")
    assert err.errno == errno.EINVAL and isinstance(err, InvalidInputError)
    assert err.source == "map 'm'"
