"""A tool's life: ``tool_main`` (root check, signals, one-line errors), the ``Stop``
event that ends ``run``, and ``attached`` (load, attach, detach and close on leaving).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from ...errors import BPFError

__all__ = ["ROOT_MESSAGE", "Stop", "tool_main", "attached"]


ROOT_MESSAGE = "must be run as root (it loads eBPF programs: needs CAP_BPF and CAP_PERFMON)"


class Stop(threading.Event):
    """Set it to end a tool's ``run``. ``ready`` is set by :func:`poll_until_stopped` once
    the programs are attached and the header printed, so a caller knows when to cause
    events. ``signals`` lists the signals :func:`tool_main` received, which
    :func:`poll_until_stopped` raises as SignalExit between its waits."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()
        self.signals: list[int] = []


def tool_main(name: str, parse_args: Callable[[list[str] | None], argparse.Namespace],
              run: Callable[[argparse.Namespace, TextIO, threading.Event], int],
              argv: Sequence[str] | None = None) -> int:
    """Parse options, check privileges, run until Ctrl-C/SIGTERM/the tool's own end.

    Returns the exit status: 0 on a clean end or a signal, 1 with one line on stderr when
    not root or for any BPFError (missing hook, verifier refusal...).

    SIGINT and SIGTERM are only recorded (``stop.signals``); the event loop
    (:func:`poll_until_stopped`) raises the first as SignalExit, a KeyboardInterrupt,
    between its waits, which unwinds ``run`` as Ctrl-C does in BCC's tools. Raised
    wherever the signal landed, it could cut an event's handling short inside a lazy
    import or a class body, where it came out as another exception (or worse).
    """
    from ...kernel.signals import flag_on_signals  # noqa: PLC0415 - keeps -h fast

    opts = parse_args(list(argv) if argv is not None else None)
    if os.geteuid() != 0:
        print(f"{name}: {ROOT_MESSAGE}", file=sys.stderr)
        return 1
    stop = Stop()
    try:
        with flag_on_signals() as stop.signals:
            return int(run(opts, sys.stdout, stop) or 0)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # the reader of our output went away (| head): nothing more to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        return 0
    except BPFError as err:
        print(f"{name}: {err}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def attached(compiled: Any, **attach_options: Any) -> Iterator[Any]:
    """Load ``compiled`` (a :class:`pybpf.lang.CompiledCollection`) and attach every
    program where its section says; yields the loaded collection, which owns the links and
    readers: on leaving, links are detached and everything closed (in that order). Raises
    BPFError (VerifierError, NotSupportedError, KernelError)."""
    with compiled.load() as coll:
        coll.attach(**attach_options)
        yield coll
