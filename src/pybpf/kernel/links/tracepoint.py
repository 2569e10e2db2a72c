"""Tracepoints (``SEC("tracepoint/<category>/<name>")``): a perf event of type
PERF_TYPE_TRACEPOINT on the tracefs id, carrying a TRACEPOINT program.

The event is opened for every task (pid -1) on CPU 0: for tracepoints the program runs on
whichever CPU hits the tracepoint, the CPU only picks the perf context.
"""

from __future__ import annotations

from ...spec import ProgramType
from .. import sys as bpfsys
from ..fd import FD
from ..tracefs import tracepoint_id
from .base import Link
from .perf import attach_to_perf_event, checked_program_fd

__all__ = ["attach_tracepoint", "open_tracepoint_event"]


def open_tracepoint_event(category: str, name: str) -> FD:
    """A perf event fd for tracepoint ``category/name`` (all tasks).

    Raises InvalidInputError for an unknown tracepoint, KernelError from perf_event_open.
    """
    tp_id = tracepoint_id(category, name)
    attr = bpfsys.PerfEventAttr(type=bpfsys.PerfType.TRACEPOINT, config=tp_id,
                                sample_period=1, wakeup_events=1)
    return bpfsys.perf_event_open(attr, pid=-1, cpu=0, obj=f"tracepoint {category}/{name}")


def attach_tracepoint(prog: object, category: str, name: str, *, cookie: int = 0) -> Link:
    """Run TRACEPOINT program ``prog`` on each hit of tracepoint ``category/name``.

    ``attach_tracepoint(prog, "syscalls", "sys_enter_execve")``. ``cookie`` is what
    ``bpf_get_attach_cookie()`` returns in the program (Linux 5.15). The Link detaches on
    close. Raises InvalidInputError (not a TRACEPOINT program, no such tracepoint),
    KernelError (perf_event_open or attach refused).
    """
    prog_fd = checked_program_fd(prog, (ProgramType.TRACEPOINT,), "a tracepoint")
    perf_fd = open_tracepoint_event(category, name)
    return attach_to_perf_event(prog_fd, perf_fd, description=f"tracepoint {category}/{name}",
                                cookie=cookie)
