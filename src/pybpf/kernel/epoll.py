"""A small owner of one epoll instance, for the event readers (ring buffer, perf buffer).

Readers register file descriptors with a token of their choice (a ring, a CPU number) and
ask which tokens are ready. Registrations are level-triggered: the kernel's ring buffer and
perf event fds report readable for as long as data is waiting, so a reader that consumed
only part of its data is woken again at once.
"""

from __future__ import annotations

import select
from typing import Generic, TypeVar

from ..errors import ClosedError, KernelError

__all__ = ["Epoll"]

T = TypeVar("T")


class Epoll(Generic[T]):
    """``epoll_create1(EPOLL_CLOEXEC)`` with fd -> token bookkeeping; a context manager."""

    def __init__(self, *, what: str = "event reader"):
        self._what = what
        try:
            self._epoll: select.epoll | None = select.epoll()
        except OSError as err:
            raise KernelError("epoll_create1", err.errno or 0, obj=what) from err
        self._tokens: dict[int, T] = {}

    def register(self, fd: int, token: T) -> None:
        """Wake :meth:`wait` when ``fd`` is readable; ``wait`` then returns ``token``."""
        try:
            self._live().register(fd, select.EPOLLIN)
        except OSError as err:
            raise KernelError("epoll_ctl", err.errno or 0, obj=f"{self._what} fd {fd}") from err
        self._tokens[fd] = token

    def unregister(self, fd: int) -> None:
        if fd in self._tokens:
            del self._tokens[fd]
            self._live().unregister(fd)

    def wait(self, timeout_ms: int | None) -> list[T]:
        """The tokens of readable fds, waiting up to ``timeout_ms`` (None or < 0: forever;
        0: do not wait). A signal handler that returns lets the wait resume (PEP 475)."""
        timeout_s = -1.0 if timeout_ms is None or timeout_ms < 0 else timeout_ms / 1000
        try:
            events = self._live().poll(timeout_s, max(1, len(self._tokens)))
        except OSError as err:
            raise KernelError("epoll_wait", err.errno or 0, obj=self._what) from err
        return [self._tokens[fd] for fd, _ in events if fd in self._tokens]

    def fileno(self) -> int:
        return self._live().fileno()

    def _live(self) -> select.epoll:
        if self._epoll is None:
            raise ClosedError(f"{self._what}: used after close()")
        return self._epoll

    @property
    def closed(self) -> bool:
        return self._epoll is None

    def close(self) -> None:
        """Close the epoll fd (the registered fds are not touched); idempotent."""
        epoll, self._epoll = self._epoll, None
        self._tokens.clear()
        if epoll is not None:
            epoll.close()

    def __enter__(self) -> Epoll[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
