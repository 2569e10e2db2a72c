"""What the example tools share: a run-until loop that stops on Ctrl-C, a count or a time."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable


def text(raw: object) -> str:
    """A fixed-size C string field as text."""
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).split(b"\0", 1)[0].decode(errors="replace")
    return str(raw)


def run_until(step: Callable[[], bool | None], duration_s: float | None) -> None:
    """Call ``step`` (it waits a little and returns False when done) until then, the
    duration is over, or SIGINT/SIGTERM arrives."""
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    deadline = time.monotonic() + duration_s if duration_s else None
    while not stop and (deadline is None or time.monotonic() < deadline):
        if step() is False:
            break
