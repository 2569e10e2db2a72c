"""Raw tracepoints (``SEC("raw_tp/<name>")``): the program gets the tracepoint's raw
arguments (``u64 args[]``), attached by BPF_RAW_TRACEPOINT_OPEN, whose fd is a bpf link.
"""

from __future__ import annotations

import errno

from ...errors import InvalidInputError, KernelError
from ...spec import ProgramType
from .. import sys as bpfsys
from ..tracefs import TRACEPOINT_NAME
from .base import Link
from .perf import checked_program_fd

__all__ = ["attach_raw_tracepoint"]


def attach_raw_tracepoint(prog: object, name: str) -> Link:
    """Run RAW_TRACEPOINT program ``prog`` on tracepoint ``name`` (``sys_enter``,
    ``sched_switch``: the event name without its category).

    Raises InvalidInputError (wrong program type, malformed or unknown tracepoint name),
    KernelError (attach refused).
    """
    prog_fd = checked_program_fd(prog, (ProgramType.RAW_TRACEPOINT,
                                        ProgramType.RAW_TRACEPOINT_WRITABLE),
                                 "a raw tracepoint")
    if not isinstance(name, str) or not TRACEPOINT_NAME.match(name) or "/" in name:
        raise InvalidInputError(f"bad raw tracepoint name {name!r}: expected an event name "
                                "such as sys_enter or sched_switch (no category)")
    description = f"raw_tracepoint {name}"
    try:
        fd = bpfsys.raw_tracepoint_open(name, prog_fd, obj=description)
    except KernelError as err:
        if err.errno == errno.ENOENT:
            raise InvalidInputError(f"no such raw tracepoint {name} (the kernel knows no "
                                    "tracepoint of that name)") from err
        raise
    return Link(fd, description=description)
