"""Reading ``bpf_printk``/``bpf_trace_printk`` output from tracefs ``trace_pipe``.

The kernel writes every ``bpf_trace_printk`` into the global ftrace buffer; reading
``/sys/kernel/tracing/trace_pipe`` consumes it, line by line, in the format::

    <task>-<pid>  [<cpu>] <flags> <seconds>.<micros>: bpf_trace_printk: <message>

(``(<tgid>)`` after the pid when the ``record-tgid`` option is on). The pipe is one per
system: whatever another reader (``cat trace_pipe``, bpftool prog tracelog) takes, this one
does not see. tracefs is mounted first when missing (root).
"""

from __future__ import annotations

import errno
import os
import re
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import KernelError
from .fd import FD
from .reader_lifetime import ReaderLifetime
from .tracefs import tracefs_root

__all__ = ["TracePipe", "TraceLine", "parse_trace_line"]

_LINE = re.compile(
    r"^\s*(?P<task>.*?)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>[^\s\d][^\s]*)\s+)?(?P<ts>\d+\.\d+):\s+(?P<function>[^:\s]+):\s?"
    r"(?P<message>.*)$")

_READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class TraceLine:
    """One line of trace_pipe; ``raw`` is the whole line, the rest parsed from it
    (``task`` is empty and ``message`` is ``raw`` when the line has another format)."""

    raw: str
    task: str = ""
    pid: int = -1
    cpu: int = -1
    flags: str = ""
    timestamp_s: float = 0.0
    function: str = ""
    message: str = ""


def parse_trace_line(line: str) -> TraceLine:
    """Split one trace_pipe line into its fields (never raises)."""
    m = _LINE.match(line)
    if m is None:
        return TraceLine(raw=line, message=line)
    return TraceLine(raw=line, task=m["task"], pid=int(m["pid"]), cpu=int(m["cpu"]),
                     flags=m["flags"] or "", timestamp_s=float(m["ts"]),
                     function=m["function"], message=m["message"])


class TracePipe(ReaderLifetime):
    """A non-blocking reader of tracefs ``trace_pipe``; a context manager.

    ``read_lines(timeout_ms)`` returns what is there (waiting up to ``timeout_ms`` for the
    first line); iterating yields lines as they come until ``timeout_ms`` passes with none.
    Raises KernelError when tracefs cannot be mounted or trace_pipe opened (needs root).
    """

    def __init__(self, tracefs: str | None = None):
        root = tracefs if tracefs is not None else tracefs_root()
        self.path = os.path.join(root, "trace_pipe")
        self._what = self.path
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as err:
            raise KernelError("open", err.errno or errno.EIO, obj=self.path,
                              hint="needs root and a mounted tracefs") from err
        self._fd: FD | None = FD(fd, what=self.path)
        self._partial = b""

    def _wait(self, timeout_ms: int | None) -> bool:
        assert self._fd is not None
        poller = select.poll()
        poller.register(int(self._fd), select.POLLIN)
        return bool(poller.poll(None if timeout_ms is None or timeout_ms < 0 else timeout_ms))

    def _read_available(self) -> list[str]:
        assert self._fd is not None
        chunks = [self._partial]
        while True:
            try:
                chunk = os.read(int(self._fd), _READ_SIZE)
            except BlockingIOError:
                break
            except OSError as err:
                raise KernelError("read", err.errno or errno.EIO, obj=self.path) from err
            if not chunk:
                break
            chunks.append(chunk)
        text = b"".join(chunks)
        *complete, self._partial = text.split(b"\n")
        return [line.decode(errors="replace") for line in complete]

    def read_lines(self, timeout_ms: int | None = 0) -> list[TraceLine]:
        """Every complete line available now; when there is none, wait up to
        ``timeout_ms`` (None or < 0: forever) for some."""
        self._check_open()
        deadline = None if timeout_ms is None or timeout_ms < 0 else \
            time.monotonic() + timeout_ms / 1000
        while True:
            lines = self._read_available()
            if lines:
                return [parse_trace_line(line) for line in lines]
            remaining = None if deadline is None else int((deadline - time.monotonic()) * 1000)
            if remaining is not None and remaining <= 0:
                return []
            self._wait(remaining)

    def __iter__(self) -> Iterator[TraceLine]:
        """Lines as they arrive, forever (stop with break or Ctrl-C)."""
        while True:
            yield from self.read_lines(None)

    def fileno(self) -> int:
        """The trace_pipe fd (readable when lines are waiting)."""
        return self._open_fd()

    def close(self) -> None:
        """Close trace_pipe; idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fd.close()
