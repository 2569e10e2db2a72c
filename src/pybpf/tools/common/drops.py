"""Lost events are reported, never silent: BCC's ``Possibly lost N samples`` on stderr
(``{"lost":N}`` in ``--json`` mode), each drop once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from ...errors import BPFError

__all__ = ["report_lost", "DropReporter"]


def report_lost(lost: int, *, err: TextIO | None = None, as_json: bool = False) -> None:
    """Say on ``err`` (stderr) that ``lost`` events never reached us: BCC's line
    ``Possibly lost N samples``, or ``{"lost":N}`` with ``as_json``. Nothing for 0."""
    if lost <= 0:
        return
    err = err or sys.stderr
    if as_json:
        err.write(f'{{"lost":{int(lost)}}}\n')
    else:
        err.write(f"Possibly lost {int(lost)} samples\n")
    err.flush()


class DropReporter:
    """Reports the growth of a drop counter (``count()``, e.g. ``RingBuf.dropped``) with
    :func:`report_lost`, each drop once: ``report()`` prints what is new since the last
    call and returns that number."""

    def __init__(self, count: Callable[[], int] | None, *, as_json: bool = False,
                 err: TextIO | None = None):
        self.count = count
        self.as_json = as_json
        self.err = err
        self.reported = 0

    def report(self) -> int:
        if self.count is None:
            return 0
        try:
            total = int(self.count())
        except BPFError:  # the counter was never loaded (or is gone): nothing to say
            return 0
        new = total - self.reported
        if new <= 0:
            return 0
        self.reported = total
        report_lost(new, err=self.err, as_json=self.as_json)
        return new
