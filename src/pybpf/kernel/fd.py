"""The one owner of a kernel file descriptor.

Every live kernel object (map, program, link, BTF) holds exactly one :class:`FD`. Closing is
idempotent; an fd that is garbage-collected while still open is closed too, but with a
``ResourceWarning``, because relying on the garbage collector hides leaks (tests run with
``-W error::ResourceWarning``).
"""

from __future__ import annotations

import os
import warnings

from ..errors import ClosedError

__all__ = ["FD"]


class FD:
    """An owned file descriptor: ``int(fd)`` gives the number, ``close()`` releases it.

    ``detach()`` hands the number over to the caller, who then owns it. Use as a context
    manager to close on exit. Any use after close raises :class:`ClosedError`.
    """

    __slots__ = ("_fd", "_what", "__weakref__")

    def __init__(self, fd: int, *, what: str = "fd"):
        if fd < 0:
            raise ValueError(f"{what}: invalid file descriptor {fd}")
        self._fd = fd
        self._what = what

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def __int__(self) -> int:
        if self._fd < 0:
            raise ClosedError(f"{self._what}: used after close()")
        return self._fd

    fileno = __int__

    def close(self) -> None:
        """Close the descriptor; closing twice is a no-op."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def detach(self) -> int:
        """Give up ownership: return the raw number, which this object will no longer close.

        Raises :class:`ClosedError` when already closed or detached.
        """
        fd = int(self)
        self._fd = -1
        return fd

    def dup(self) -> FD:
        """A second, independently owned descriptor for the same kernel object."""
        return FD(os.dup(int(self)), what=self._what)

    def __enter__(self) -> FD:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            warnings.warn(f"{self._what} (fd {self._fd}) was never closed", ResourceWarning,
                          stacklevel=2, source=self)
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd < 0 else f"fd={self._fd}"
        return f"<FD {self._what} {state}>"
