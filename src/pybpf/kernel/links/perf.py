"""Putting a program on a perf event: the step tracepoints, uprobes, kprobes and perf
sampling share.

Two ways, newest first:

* ``BPF_LINK_CREATE`` with attach type ``BPF_PERF_EVENT`` (Linux 5.15): a bpf link over the
  perf event, which can carry a ``bpf_cookie`` and shows up in ``bpftool link``;
* ``PERF_EVENT_IOC_SET_BPF`` then ``PERF_EVENT_IOC_ENABLE`` on the perf event fd (Linux 4.1):
  closing the perf event fd detaches the program.

Either way the :class:`Link` owns the perf event fd, so closing the link undoes everything.
"""

from __future__ import annotations

import errno
import os

from ...errors import InvalidInputError, KernelError, NotSupportedError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from ..fd import FD
from .base import Link

__all__ = ["attach_to_perf_event", "checked_program_fd", "pmu_type", "pmu_format_bit",
           "PMU_DIR"]

PMU_DIR = "/sys/bus/event_source/devices"

# errnos with which a kernel older than bpf links over perf events refuses LINK_CREATE
_NO_PERF_LINK = {errno.EINVAL, errno.EOPNOTSUPP, bpfsys.ENOTSUPP, errno.EBADF}


def checked_program_fd(prog: object, allowed: tuple[ProgramType, ...], family: str) -> int:
    """The fd of ``prog`` after checking it is a loaded program of one of ``allowed`` types.

    Every attach function starts here, so a wrong program fails before any kernel state is
    made. Raises InvalidInputError (wrong object or type), ClosedError (closed program).
    """
    prog_type = getattr(prog, "type", None)
    if prog_type is None or not hasattr(prog, "fileno"):
        raise InvalidInputError(f"{family}: expected a loaded Program, got "
                                f"{type(prog).__name__}")
    if prog_type not in allowed:
        names = " or ".join(t.name for t in allowed)
        got = getattr(prog_type, "name", prog_type)
        raise InvalidInputError(f"{family} needs a {names} program, not {got}",
                                source=f"program '{getattr(prog, 'name', '?')}'")
    return int(prog.fileno())


def attach_to_perf_event(prog_fd: int, perf_fd: FD, *, description: str,
                         cookie: int = 0) -> Link:
    """Run program ``prog_fd`` on every event of ``perf_fd``; the Link takes ``perf_fd``.

    Uses a bpf link where the kernel has them, else the SET_BPF/ENABLE ioctls (then a
    ``cookie`` cannot be given). On failure ``perf_fd`` is closed and KernelError raised.
    """
    try:
        attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, target_fd=int(perf_fd),
                                     attach_type=AttachType.PERF_EVENT)
        attr.perf_event.bpf_cookie = cookie
        try:
            link_fd = bpfsys.link_create(attr, obj=description)
        except KernelError as err:
            if err.errno not in _NO_PERF_LINK or cookie:
                raise
            # an older kernel: the ioctls attach for as long as the perf event fd is open
            bpfsys.perf_event_ioctl(int(perf_fd), bpfsys.PERF_EVENT_IOC_SET_BPF, prog_fd,
                                    obj=description)
            bpfsys.perf_event_ioctl(int(perf_fd), bpfsys.PERF_EVENT_IOC_ENABLE,
                                    obj=description)
            return Link(None, description=description, extra_fds=[perf_fd])
    except BaseException:
        perf_fd.close()
        raise
    # the link fd closes first (detach), then the perf event
    return Link(link_fd, description=description, extra_fds=[perf_fd])


def pmu_type(pmu: str, *, feature: str) -> int:
    """The perf ``type`` of a dynamic PMU (``uprobe``, ``kprobe``) read from sysfs.

    Raises NotSupportedError naming ``feature`` when the kernel has no such PMU.
    """
    path = os.path.join(PMU_DIR, pmu, "type")
    try:
        with open(path) as f:
            return int(f.read().strip())
    except FileNotFoundError:
        raise NotSupportedError(feature) from None
    except (OSError, ValueError) as err:
        raise KernelError("read", getattr(err, "errno", None) or errno.EIO, obj=path) from err


def pmu_format_bit(pmu: str, field: str) -> int:
    """The bit of ``config`` that format field ``field`` of ``pmu`` sets (``config:0``).

    The kernel documents each PMU's attr layout in ``format/<field>``; the retprobe flag is
    ``config:0`` on today's kernels but is read, not assumed.
    """
    path = os.path.join(PMU_DIR, pmu, "format", field)
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError as err:
        raise KernelError("read", err.errno or errno.EIO, obj=path,
                          hint=f"the {pmu} PMU has no '{field}' format field") from err
    name, _, bits = text.partition(":")
    if name != "config" or not bits.split("-")[0].isdigit():
        raise InvalidInputError(f"unexpected format {text!r}", source=path)
    return int(bits.split("-")[0])
