"""The lifetime part every event reader shares (ring buffer, perf buffer, trace_pipe).

A reader owns one :class:`~pybpf.kernel.fd.FD` in ``_fd`` (its duplicate of the map's fd,
or trace_pipe's); ``close()`` sets it to None, and that is what "closed" means. The reader
class writes ``close()`` itself (each has more than the fd to release) and names itself in
``_what`` for the ClosedError message.
"""

from __future__ import annotations

from typing import Self

from ..errors import ClosedError
from .fd import FD

__all__ = ["ReaderLifetime"]


class ReaderLifetime:
    """Mixin: ``closed``, ``with`` support and the used-after-close check, keyed on
    ``self._fd``. Subclasses set ``_fd`` and ``_what`` in ``__init__`` and define
    ``close()``."""

    _fd: FD | None
    _what: str

    @property
    def closed(self) -> bool:
        return getattr(self, "_fd", None) is None

    def _check_open(self) -> None:
        """Raises ClosedError once the reader is closed."""
        if self.closed:
            raise ClosedError(f"{self._what}: used after close()")

    def _open_fd(self) -> int:
        """The owned fd as an int; raises ClosedError once the reader is closed."""
        self._check_open()
        assert self._fd is not None
        return int(self._fd)

    def close(self) -> None:  # pragma: no cover - every reader defines its own
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
