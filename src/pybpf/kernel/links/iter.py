"""BPF iterators (``SEC("iter/task")``, ``iter/bpf_map_elem``...): a link you read.

An iterator program is loaded for its target (``attach_btf_id`` of ``bpf_iter_<target>``),
attached with ``BPF_LINK_CREATE`` (attach type ``BPF_TRACE_ITER``, plus a
``bpf_iter_link_info`` naming the map, cgroup or task to walk, when the target takes one),
and each ``BPF_ITER_CREATE`` on that link gives a fresh file descriptor: reading it runs the
program over every object (task, map element...) and returns what it wrote with
``bpf_seq_printf``/``bpf_seq_write``. End of file ends one walk.

    link = attach_iter(coll.programs["dump_task"])
    text = link.read()                      # one whole walk, as bytes
    with link.open() as stream:             # or stream it, chunk by chunk
        for chunk in stream: ...

The link can also be pinned on a bpffs; ``cat`` of the pin then runs a walk.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator

from ...errors import ClosedError, InvalidInputError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from ..fd import FD
from .base import Link, create_link
from .perf import checked_program_fd

__all__ = ["IterLink", "IterStream", "attach_iter"]

_CHUNK = 64 * 1024


class _IterInfo(ctypes.Union):
    """uapi ``union bpf_iter_link_info``: map fd, cgroup fd and order, or a task."""

    class _Map(ctypes.Structure):
        _fields_ = [("map_fd", ctypes.c_uint32)]

    class _Cgroup(ctypes.Structure):
        _fields_ = [("order", ctypes.c_uint32), ("cgroup_fd", ctypes.c_uint32),
                    ("cgroup_id", ctypes.c_uint64)]

    class _Task(ctypes.Structure):
        _fields_ = [("tid", ctypes.c_uint32), ("pid", ctypes.c_uint32),
                    ("pid_fd", ctypes.c_uint32)]

    _fields_ = [("map", _Map), ("cgroup", _Cgroup), ("task", _Task)]


class IterStream:
    """One walk of an iterator: a binary stream; EOF when the walk is done."""

    def __init__(self, fd: FD, description: str):
        self._fd: FD | None = fd
        self._what = f"iterator {description}"

    @property
    def closed(self) -> bool:
        return self._fd is None

    def fileno(self) -> int:
        if self._fd is None:
            raise ClosedError(f"{self._what}: used after close()")
        return int(self._fd)

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative); b"" at the end."""
        fd = self.fileno()
        if size >= 0:
            return os.read(fd, size)
        parts = []
        while chunk := os.read(fd, _CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(_CHUNK):
            yield chunk

    def close(self) -> None:
        if self._fd is not None:
            self._fd.close()
            self._fd = None

    def __enter__(self) -> IterStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class IterLink(Link):
    """The bpf link of an iterator program: :meth:`open` starts a walk."""

    def open(self) -> IterStream:
        """A new walk (``BPF_ITER_CREATE``); the caller closes the stream."""
        return IterStream(bpfsys.iter_create(int(self.fd)), self.description)

    def read(self) -> bytes:
        """One whole walk, as bytes."""
        with self.open() as stream:
            return stream.read()


def attach_iter(prog: object, *, map: object = None, pid: int = 0, tid: int = 0,
                cgroup_fd: int = 0, order: int = 0) -> IterLink:
    """Make an iterator link of TRACING program ``prog`` (loaded from ``iter/TARGET``).

    ``map`` (a Map or fd) is the map walked by ``iter/bpf_map_elem`` & co; ``pid``/``tid``
    limit ``iter/task*`` to one process or thread; ``cgroup_fd``/``order`` choose the
    cgroup walk. Raises InvalidInputError (not a TRACING program), KernelError (refused).
    """
    prog_fd = checked_program_fd(prog, (ProgramType.TRACING,), "an iterator")
    if sum(1 for given in (map is not None, bool(pid or tid), bool(cgroup_fd)) if given) > 1:
        raise InvalidInputError("an iterator walks one map, task or cgroup: give only one")
    info = _IterInfo()
    if map is not None:
        info.map.map_fd = map if isinstance(map, int) else int(map.fileno())  # type: ignore[attr-defined]
    elif pid or tid:
        info.task.pid, info.task.tid = pid, tid
    elif cgroup_fd:
        info.cgroup.cgroup_fd, info.cgroup.order = cgroup_fd, order
    given = map is not None or pid or tid or cgroup_fd
    attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, attach_type=AttachType.TRACE_ITER)
    if given:
        attr.iter_info = ctypes.addressof(info)
        attr.iter_info_len = ctypes.sizeof(info)
    description = f"iter {getattr(prog, 'name', '')}"
    fd = create_link(attr, description=description, hints={})
    return IterLink(fd, description=description)
