"""The event loop: deliver events from readers until stopped, the duration ends or the
interval callback says so.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ...kernel.signals import SignalExit

__all__ = ["poll_until_stopped"]


# how long one wait may block: bounds how late a stop request or the duration is noticed
_POLL_SLICE_S = 0.1


# after delivering events, how long to let more gather before reading again: caps the
# wake-ups at 20/s. Measured on an exec loop at 200/s: 10 ms gave the tool 66 us of CPU
# per exec, 50 ms 33 us (most of a wake-up's cost is cold caches, not our Python)
_GATHER_S = 0.05


def poll_until_stopped(readers: Iterable[Any], stop: threading.Event, *,
                       duration_s: float | None = None, interval_s: float | None = None,
                       on_interval: Callable[[], bool | None] | None = None) -> None:
    """Deliver events from ``readers`` (ring/perf buffer readers with ``consume()``) until
    ``stop`` is set or ``duration_s`` has passed.

    ``on_interval`` is called every ``interval_s`` (histogram tools print and clear there);
    it may return True to end the loop (BCC's interval count reached). Sets
    ``stop.ready`` first when ``stop`` is a :class:`Stop`. A signal :func:`tool_main`
    recorded in ``stop.signals`` is raised here as SignalExit (a KeyboardInterrupt) after
    the wait it landed in, before anything more is read, and unwinds the caller's
    ``with`` blocks; an event's callback is never cut short by it. After a wake-up that
    delivered events the loop lets more gather for up to 50 ms (``_GATHER_S``), and it
    drains the readers once more on the way out. At each interval tick, readers that
    carry a :class:`DropReporter` (``reader.drops``, set by :func:`ring_reader`) report
    their new drops on stderr before ``on_interval`` prints.
    """
    readers = list(readers)
    signals: list[int] = getattr(stop, "signals", [])
    ready = getattr(stop, "ready", None)
    if ready is not None:
        ready.set()
    poller = select.poll()
    for reader in readers:
        poller.register(reader.fileno(), select.POLLIN)
    now = time.monotonic()
    end = now + duration_s if duration_s else None
    next_tick = now + interval_s if interval_s else None
    while not stop.is_set():
        if signals:     # recorded during the last wait, or before the loop began
            raise SignalExit(signals[0])
        now = time.monotonic()
        wait_s = _POLL_SLICE_S
        for deadline in (end, next_tick):
            if deadline is not None:
                wait_s = min(wait_s, max(deadline - now, 0.0))
        if readers:
            poller.poll(wait_s * 1000)
            if signals:
                raise SignalExit(signals[0])
            delivered = 0
            for reader in readers:
                delivered += reader.consume() or 0
            if delivered and not stop.is_set():
                # Each wake-up costs a context switch and a pass of Python over cold caches;
                # under a steady stream, letting events gather for a moment is far cheaper
                # than waking for each one. The first event after a quiet spell still comes
                # at once.
                stop.wait(min(_GATHER_S, wait_s))
        else:
            stop.wait(wait_s)
        if signals:
            raise SignalExit(signals[0])
        now = time.monotonic()
        if next_tick is not None and on_interval is not None and now >= next_tick:
            next_tick += interval_s  # type: ignore[operator]
            _report_drops(readers)
            if on_interval():
                break
        if end is not None and now >= end:
            break
    # what gathered while we waited is shown before the tool ends
    for reader in readers:
        reader.consume()


def _report_drops(readers: Iterable[Any]) -> None:
    for reader in readers:
        drops = getattr(reader, "drops", None)
        if drops is not None:
            drops.report()
