"""Ring buffer records as NumPy arrays (the optional ``numpy`` extra).

Records of one size sit in the ring at a fixed stride (header, record, padding to 8
bytes), and the ring's data area is mapped twice in a row, so even a run that wraps around
its end is one contiguous stretch of our mapping. Such a run *is* a NumPy array already: a
``(count, stride)`` byte matrix whose columns ``[header, header + itemsize)`` viewed as the
record's dtype give a structured array over the ring itself, with no copy
(:func:`records_view`); one copy of that slice makes it a packed array of its own
(:func:`records_copy`). Headers, one per row, are checked with one comparison.

Nothing here imports NumPy until it is called: the core runs without it.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from ..errors import InvalidInputError

__all__ = ["numpy", "numpy_if_installed", "loaded_numpy", "count_same_headers",
           "records_view", "records_copy"]


def loaded_numpy() -> Any:
    """numpy if something imported it already, else None. The header check uses NumPy
    only then: importing it (~100 ms, 20 MB) is not worth it for that alone."""
    return sys.modules.get("numpy")


@functools.cache
def numpy_if_installed() -> Any:
    """The numpy module, or None when it is not installed."""
    try:
        import numpy as np
    except ImportError:
        return None
    return np


def numpy(source: str) -> Any:
    """The numpy module; InvalidInputError naming ``source`` when it is missing."""
    np = numpy_if_installed()
    if np is None:
        raise InvalidInputError("reading records as arrays needs NumPy: pip install "
                                "'pybpf[numpy]'", source=source)
    return np


def count_same_headers(run: memoryview, stride: int, header: int) -> int:
    """(NumPy loaded) How many records from the start of ``run`` (``len(run) // stride`` slots of
    ``stride`` bytes) have exactly the 32-bit header ``header``: one vectorised
    comparison of every slot's first word."""
    np = loaded_numpy()
    words = np.frombuffer(run, np.uint32)
    differ = np.flatnonzero(words[::stride >> 2] != header)
    return int(differ[0]) if len(differ) else len(run) // stride


def _rows(run: memoryview, dtype: Any, head: int, stride: int) -> Any:
    np = numpy_if_installed()
    matrix = np.frombuffer(run, np.uint8).reshape(-1, stride)
    return matrix[:, head:head + dtype.itemsize]


def records_view(run: memoryview, dtype: Any, head: int, stride: int) -> Any:
    """The records of ``run`` as a structured array of ``dtype`` over the ring itself
    (read-only; valid until the ring's consumer position moves past them)."""
    view = _rows(run, dtype, head, stride).view(dtype)[:, 0]
    view.flags.writeable = False
    return view


def records_copy(run: memoryview, dtype: Any, head: int, stride: int) -> Any:
    """The records of ``run`` copied once into a packed array of ``dtype``: as opaque
    items of its size (one memcpy each, 2.5x a byte matrix copy), then seen as ``dtype``."""
    np = numpy_if_installed()
    blobs = _rows(run, dtype, head, stride).view(np.dtype((np.void, dtype.itemsize)))
    return blobs[:, 0].copy().view(dtype)
