"""``pybpf export --pprof-dir DIR``: the CPU profiler running beside the exporter, one pprof
file per period.

The profile tool's program (:mod:`pybpf.tools.profile`) samples every CPU at 49 Hz; at the
end of each period its counts are written as ``DIR/cpu-<unix seconds>.pb.gz`` and cleared,
and ``DIR/latest.pb.gz`` is pointed at the newest, for a Pyroscope or Parca agent (or a
cron job) to pick up. The oldest files beyond ``keep`` are removed.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from ..errors import BPFError

__all__ = ["PeriodicProfiler"]

_SYMBOLS_FOR_S = 300.0


class PeriodicProfiler:
    """A context manager: loaded and sampling within ``with``; :meth:`rotate` writes one
    period's file."""

    def __init__(self, directory: str, interval: float, *, frequency: int = 49,
                 keep: int = 10):
        self.directory = directory
        self.interval = interval
        self.keep = keep
        self.written: list[str] = []
        from ..tools import profile  # noqa: PLC0415
        self._tool = profile
        self._opts = profile.parse_args(["-F", str(frequency)])
        self._coll: Any = None
        self._link: Any = None
        self._started = time.time_ns()
        self._symbols: Any = None
        self._symbols_since = 0.0

    def _symbolizer(self) -> Any:
        """One Symbolizer for several periods (ELF symbols are read once), renewed every
        five minutes so new processes' mappings and ended ones' memory do not linger."""
        now = time.monotonic()
        if self._symbols is None or now - self._symbols_since > _SYMBOLS_FOR_S:
            from ..tools.symbols import Symbolizer  # noqa: PLC0415
            self._symbols, self._symbols_since = Symbolizer(), now
        return self._symbols

    def __enter__(self) -> PeriodicProfiler:
        os.makedirs(self.directory, exist_ok=True)
        self._coll = self._tool.build(self._opts).load()
        try:
            self._link = self._tool.attach_sampler(self._coll, self._opts)
        except BPFError:
            self._coll.close()
            raise
        self._started = time.time_ns()
        return self

    def rotate(self) -> bool:
        """Write the period that just ended; never ends the loop (returns False)."""
        ended = time.time_ns()
        started, self._started = self._started, ended
        path = os.path.join(self.directory, f"cpu-{started // 1_000_000_000}.pb.gz")
        try:
            self._tool.write_profile(self._coll, self._opts, path, started_ns=started,
                                     ended_ns=ended, clear=True, symbols=self._symbolizer())
        except (BPFError, OSError) as err:
            print(f"pybpf export: profile not written: {err}", file=sys.stderr)
            return False
        latest = os.path.join(self.directory, "latest.pb.gz")
        tmp = latest + ".tmp"
        try:
            os.symlink(os.path.basename(path), tmp)
            os.replace(tmp, latest)
        except OSError:
            pass
        self.written.append(path)
        while len(self.written) > self.keep:
            old = self.written.pop(0)
            try:
                os.unlink(old)
            except OSError:
                pass
        return False

    def __exit__(self, *exc: object) -> None:
        if self._link is not None:
            self._link.close()
        if self._coll is not None:
            self._coll.close()
