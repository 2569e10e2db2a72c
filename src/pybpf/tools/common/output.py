"""A tool's output: columns or one JSON object per line, timestamps as BCC prints them,
C strings from fixed-size fields.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

__all__ = ["EventWriter", "RelativeClock", "wall_clock_hms", "decode_str"]


class EventWriter:
    """Writes a tool's output: BCC-style columns, or one JSON object per line (``--json``).

    Each line is flushed at once (or, given to :func:`ring_reader`, once per batch of
    events read), so a pipe (or a test reading a subprocess) sees events as they happen.
    """

    def __init__(self, out: TextIO, *, as_json: bool = False):
        self.out = out
        self.as_json = as_json
        # ring_reader(..., writer=w) turns this off and flushes once per batch instead
        self.flush_each_line = True

    def header(self, text: str) -> None:
        """The column header (text mode only), flushed at once: it says "ready"."""
        if not self.as_json:
            self.out.write(text + "\n")
            self.out.flush()

    def line(self, text: str) -> None:
        self.out.write(text + "\n")
        if self.flush_each_line:
            self.out.flush()

    def flush(self) -> None:
        self.out.flush()

    def event(self, fields: dict[str, Any], text: str) -> None:
        """One event: ``fields`` as JSON or the already formatted ``text`` line."""
        if self.as_json:
            import json  # noqa: PLC0415 - only --json needs it
            text = json.dumps(fields, separators=(",", ":"))
        self.line(text)


class RelativeClock:
    """Seconds since the first event, as BCC's ``-t``/``TIME(s)`` columns print them.

    Fed kernel ``bpf_ktime_get_ns()`` stamps (CLOCK_MONOTONIC); the first one is zero.
    """

    def __init__(self) -> None:
        self.first_ns: int | None = None

    def seconds(self, ktime_ns: int) -> float:
        if self.first_ns is None:
            self.first_ns = ktime_ns
        return (ktime_ns - self.first_ns) / 1e9


def wall_clock_hms() -> str:
    """The time of day as BCC's ``TIME`` columns print it (``%H:%M:%S``)."""
    return time.strftime("%H:%M:%S")


def decode_str(raw: bytes) -> str:
    """A NUL-terminated C string from a fixed-size field, undecodable bytes kept as
    backslash escapes (a file name need not be UTF-8)."""
    if type(raw) is not bytes:
        raw = bytes(raw)
    nul = raw.find(b"\0")
    return (raw if nul < 0 else raw[:nul]).decode("utf-8", "backslashreplace")
