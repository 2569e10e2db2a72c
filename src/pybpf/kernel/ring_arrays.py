"""Ring buffer records as NumPy arrays (the optional ``numpy`` extra).

Records of one size sit in the ring at a fixed stride (header, record, padding to 8
bytes), and the ring's data area is mapped twice in a row, so even a run that wraps around
its end is one contiguous stretch of our mapping. Such a run *is* a NumPy array already: a
``(count, stride)`` byte matrix whose columns ``[header, header + itemsize)`` viewed as the
record's dtype give a structured array over the ring itself, with no copy
(:meth:`RingArrays.view`); one copy of that slice makes it a packed array of its own
(:meth:`RingArrays.copy`). Headers, one per row, are checked with one comparison.

Nothing here imports NumPy until it is called: the core runs without it.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from ..errors import InvalidInputError

__all__ = ["numpy", "numpy_if_installed", "loaded_numpy", "RingArrays"]


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


class RingArrays:
    """NumPy arrays over one ring's data area (``data``: the reader's memoryview of it),
    made once per reader, so a read slices them instead of wrapping the buffer again.
    Offsets are into the data area; a run never passes the end of its second mapping."""

    __slots__ = ("data", "bytes", "words")

    def __init__(self, data: memoryview):
        np = numpy_if_installed()
        self.data = data
        self.bytes = np.frombuffer(data, np.uint8)
        self.words = self.bytes.view(np.uint32)

    def count_same_headers(self, offset: int, count: int, stride: int, header: int) -> int:
        """How many of the ``count`` records from ``offset`` on (``stride`` bytes apart)
        have exactly the 32-bit header ``header``: one vectorised comparison of every
        record's first word (a strided view, nothing copied)."""
        start, step = offset >> 2, stride >> 2
        same = self.words[start:start + count * step:step] == header
        return count if same.all() else int(same.argmin())

    def view(self, offset: int, count: int, stride: int, dtype: Any, head: int) -> Any:
        """The ``count`` records from ``offset`` as a read-only structured array of
        ``dtype`` over the ring itself (valid until the consumer position passes them)."""
        np = numpy_if_installed()
        view = np.ndarray((count,), dtype, buffer=self.bytes, offset=offset + head,
                          strides=(stride,))
        view.flags.writeable = False
        return view

    def copy(self, offset: int, count: int, stride: int, dtype: Any, head: int) -> Any:
        """The records copied once into a packed array of ``dtype``: as opaque items of its
        size (one memcpy each, 2.5x a byte matrix copy), then seen as ``dtype``."""
        np = numpy_if_installed()
        blobs = np.ndarray((count,), np.dtype((np.void, dtype.itemsize)), buffer=self.bytes,
                           offset=offset + head, strides=(stride,))
        return blobs.copy().view(dtype)
