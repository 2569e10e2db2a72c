"""What every fd-backed kernel object (map, program, link) has in common.

One owner per fd (:class:`~pybpf.kernel.fd.FD`), a context manager that closes it, and pins
in bpffs that let the object outlive the process until unpinned.
"""

from __future__ import annotations

import errno
import os
from typing import Self

from ..errors import InvalidInputError, KernelError
from . import sys as bpfsys
from .fd import FD

__all__ = ["KernelObject"]


class KernelObject:
    """Mixin for live objects: subclasses set ``_fd`` (an FD), ``_what`` (a description
    such as ``map 'counts'``) and ``_pinned`` (``None``) in their constructor."""

    _fd: FD | None  # None for a link without an fd of its own; close() closes, not drops
    _what: str
    _pinned: str | None

    @property
    def fd(self) -> FD:
        """The owned fd (raises ClosedError when used after close)."""
        assert self._fd is not None
        return self._fd

    def fileno(self) -> int:
        """The raw fd number (raises ClosedError after close)."""
        return int(self.fd)

    @property
    def closed(self) -> bool:
        return self.fd.closed

    def close(self) -> None:
        """Release the fd; closing twice is a no-op. A pin keeps the object alive."""
        self.fd.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # lifetime beyond the process ------------------------------------------------------------

    def pin(self, path: str | os.PathLike[str]) -> None:
        """Pin on a bpffs so the object outlives this process; :meth:`unpin` removes it."""
        path = os.fspath(path)
        bpfsys.obj_pin(int(self.fd), path, obj=f"{self._what} at {path}")
        self._pinned = path

    def unpin(self, path: str | os.PathLike[str] | None = None) -> None:
        """Remove the pin made by :meth:`pin` (or the one at ``path``)."""
        target = os.fspath(path) if path is not None else self._pinned
        if target is None:
            raise InvalidInputError("not pinned by this object", source=self._what)
        try:
            os.unlink(target)
        except OSError as err:
            raise KernelError("unlink", err.errno or errno.EIO, obj=target) from err
        if target == self._pinned:
            self._pinned = None

    @property
    def pinned_path(self) -> str | None:
        return self._pinned
