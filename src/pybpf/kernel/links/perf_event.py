"""perf_event programs (``SEC("perf_event")``): run on each sample of a perf event opened
on every CPU (or for one process), e.g. 99 times a second for a CPU profiler.

Not auto-attachable: what to sample (type, config, rate, CPUs) is the caller's choice.
One perf event is opened per CPU, each carrying the program; the returned :class:`Link`
owns them all and closes them together.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterable
from enum import IntEnum

from ...errors import InvalidInputError, KernelError, NotSupportedError
from ...spec import ProgramType
from .. import sys as bpfsys
from .base import Link
from .perf import attach_to_perf_event, checked_program_fd

__all__ = ["attach_perf_event", "online_cpus", "PerfHwConfig"]


class PerfHwConfig(IntEnum):
    """``enum perf_hw_id``: the ``config`` of a PERF_TYPE_HARDWARE event."""

    CPU_CYCLES = 0
    INSTRUCTIONS = 1
    CACHE_REFERENCES = 2
    CACHE_MISSES = 3
    BRANCH_INSTRUCTIONS = 4
    BRANCH_MISSES = 5
    BUS_CYCLES = 6
    STALLED_CYCLES_FRONTEND = 7
    STALLED_CYCLES_BACKEND = 8
    REF_CPU_CYCLES = 9


def online_cpus(path: str = "/sys/devices/system/cpu/online") -> list[int]:
    """The CPUs now online, from the kernel's list syntax ("0-3,6")."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError as err:
        raise KernelError("read", err.errno or errno.EIO, obj=path) from err
    cpus: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def _describe(perf_type: int, config: int) -> str:
    try:
        kind = bpfsys.PerfType(perf_type).name.lower()
        if perf_type == bpfsys.PerfType.SOFTWARE:
            return f"{kind} {bpfsys.PerfSwConfig(config).name.lower()}"
        if perf_type == bpfsys.PerfType.HARDWARE:
            return f"{kind} {PerfHwConfig(config).name.lower()}"
    except ValueError:
        pass
    return f"perf type {perf_type} config {config:#x}"


def attach_perf_event(prog: object, *, type: int = bpfsys.PerfType.SOFTWARE,  # noqa: A002
                      config: int = bpfsys.PerfSwConfig.CPU_CLOCK,
                      sample_freq: int | None = None, sample_period: int | None = None,
                      cpus: Iterable[int] | None = None, pid: int | None = None,
                      cookie: int = 0) -> Link:
    """Run PERF_EVENT program ``prog`` on each sample of a ``type``/``config`` event.

    Give ``sample_freq`` (samples per second) or ``sample_period`` (one sample every N
    events). By default the event is opened on every online CPU for all tasks; ``cpus``
    picks CPUs, ``pid`` follows one process on whatever CPU it runs. Raises
    InvalidInputError for bad arguments, NotSupportedError when no PMU here offers the
    event (hardware counters in most virtual machines), KernelError otherwise.
    """
    prog_fd = checked_program_fd(prog, (ProgramType.PERF_EVENT,), "perf_event sampling")
    if (sample_freq is None) == (sample_period is None):
        raise InvalidInputError("give exactly one of sample_freq (per second) and "
                                "sample_period (events per sample)")
    rate = sample_freq if sample_freq is not None else sample_period
    if not isinstance(rate, int) or rate <= 0:
        raise InvalidInputError(f"bad sampling rate {rate!r}: expected an integer > 0")
    if pid is not None and (not isinstance(pid, int) or pid <= 0):
        raise InvalidInputError(f"bad pid {pid!r}: expected a process id > 0")
    targets = [-1] if pid is not None else sorted(set(cpus)) if cpus is not None \
        else online_cpus()
    if not targets or any(not isinstance(c, int) or c < -1 for c in targets):
        raise InvalidInputError(f"bad CPU list {cpus!r}")
    what = _describe(type, config)
    flags = bpfsys.PerfAttrFlags.FREQ if sample_freq is not None else 0

    with contextlib.ExitStack() as stack:
        for cpu in targets:
            where = f"pid {pid}" if pid is not None else f"cpu {cpu}"
            description = f"perf_event {what} on {where}"
            attr = bpfsys.PerfEventAttr(type=type, config=config, sample_period=rate,
                                        flags=flags, wakeup_events=1)
            try:
                perf_fd = bpfsys.perf_event_open(attr, pid=-1 if pid is None else pid,
                                                 cpu=cpu, obj=description)
            except KernelError as err:
                if err.errno in (errno.ENOENT, errno.EOPNOTSUPP) \
                        and type == bpfsys.PerfType.HARDWARE:
                    raise NotSupportedError(f"hardware event {what}", err=err.errno,
                                            hint="no PMU here offers it (no 'cpu' PMU in "
                                                 "/sys/bus/event_source/devices: a virtual "
                                                 "machine?)") from err
                if err.errno == errno.ESRCH:
                    raise InvalidInputError(f"{description}: no such process") from err
                raise
            stack.enter_context(attach_to_perf_event(prog_fd, perf_fd,
                                                     description=description,
                                                     cookie=cookie))
        owned = stack.pop_all()
    where = f"pid {pid}" if pid is not None else f"{len(targets)} CPUs"
    return Link(None, description=f"perf_event {what} on {where}", detach=owned.close)
