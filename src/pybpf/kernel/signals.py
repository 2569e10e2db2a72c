"""Turn SIGINT/SIGTERM into ``KeyboardInterrupt`` so every ``with`` block unwinds.

A tool holding links, readers, programs and maps inside ``with`` statements detaches and
closes them all when the exception travels up. Python already does this for SIGINT; SIGTERM
(what ``kill``, systemd and test harnesses send) would otherwise end the process at once,
leaving the kernel objects to be freed only by fd teardown and pins behind. Handlers are set
by a context manager and the previous ones restored in ``finally``, so nothing outlives the
block (the idea of trio's ``open_signal_receiver``).

A signal that arrives during the unwinding itself (a second Ctrl-C while links detach) is
ignored: the cleanup is already happening and must not be cut short.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import FrameType

try:    # signal's C half, the same calls: the module would import enum (~1.5 ms of a start)
    import _signal  # type: ignore[import-not-found]
except ImportError:     # another Python
    import signal as _signal

__all__ = ["exit_on_signals", "flag_on_signals", "SignalExit"]


class SignalExit(KeyboardInterrupt):
    """The ``KeyboardInterrupt`` raised for a signal; ``signum`` says which one."""

    def __init__(self, signum: int):
        import signal

        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def exit_on_signals(*signums: int) -> Iterator[None]:
    """Within the block, each of ``signums`` (default SIGINT and SIGTERM) raises
    :class:`SignalExit` (a ``KeyboardInterrupt``) once; later ones are ignored until the
    block is left. The previous handlers come back on exit.

    Must be used in the main thread (Python delivers signals only there); raises
    RuntimeError elsewhere.
    """
    chosen = signums or (_signal.SIGINT, _signal.SIGTERM)
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise SignalExit(signum)

    previous = {}
    try:
        for signum in chosen:
            try:
                previous[signum] = _signal.signal(signum, handler)
            except ValueError:      # what signal.signal says outside the main thread
                raise RuntimeError("exit_on_signals works only in the main thread") from None
        yield
    finally:
        for signum, old in previous.items():
            _signal.signal(signum, old if old is not None else _signal.SIG_DFL)


@contextlib.contextmanager
def flag_on_signals(*signums: int) -> Iterator[list[int]]:
    """Within the block, each of ``signums`` (default SIGINT and SIGTERM) only appends its
    number to the list yielded, for an event loop to check between events (as bpftrace's
    does). An exception raised wherever the signal lands can cut a record's handling short
    inside an import or a class body, where it comes out as another exception. The previous
    handlers come back on exit. Outside the main thread (no handlers there) it sets none.
    """
    chosen = signums or (_signal.SIGINT, _signal.SIGTERM)
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {}
    try:
        for signum in chosen:
            try:
                previous[signum] = _signal.signal(signum, handler)
            except ValueError:      # not the main thread: leave signals as they are
                break
        yield received
    finally:
        for signum, old in previous.items():
            _signal.signal(signum, old if old is not None else _signal.SIG_DFL)
