"""What every attachment has in common: one owner that undoes it on close.

An attachment is one of three shapes, all behind :class:`Link`:

* a bpf link (``BPF_LINK_CREATE``, ``BPF_RAW_TRACEPOINT_OPEN``): closing its fd detaches,
  unless it was pinned;
* a perf event carrying a program (tracepoints, uprobes, perf sampling): the perf event fd
  (and the bpf link over it, when the kernel has one) are closed together;
* a legacy attachment without an fd of its own (``SO_ATTACH_BPF``, ``BPF_PROG_ATTACH``
  without a link, netlink XDP/tc): ``detach`` is a callable that undoes it.

Links close in reverse order of what they own: the detach callable first, then the link fd,
then the extra fds (perf events) it kept open.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Mapping

from ...dataclass_compat import FrozenValue
from ...errors import ClosedError, InvalidInputError, KernelError
from .. import sys as bpfsys
from ..fd import FD
from ..objects import KernelObject

__all__ = ["Link", "LinkInfo", "create_link"]


class LinkInfo(FrozenValue):
    """The kernel's view of a bpf link (``struct bpf_link_info`` head)."""

    id: int
    type: int
    prog_id: int

    __match_args__ = ("id", "type", "prog_id")

    def __init__(self, id: int, type: int, prog_id: int) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "prog_id", prog_id)


class Link(KernelObject):
    """One attachment of a program; a context manager that detaches on exit.

    ``fd`` is the bpf link fd when the attachment has one; ``extra_fds`` are further fds
    owned by the link (e.g. the perf event of a tracepoint); ``detach`` undoes a legacy
    attachment that has no fd of its own.
    """

    def __init__(self, fd: FD | None, *, description: str,
                 extra_fds: Iterable[FD] = (), detach: Callable[[], None] | None = None):
        self._fd = fd
        self._extra_fds = list(extra_fds)
        self._detach = detach
        self._closed = False
        self._pinned: str | None = None
        self.description = description
        self._what = f"link {description}"

    @property
    def fd(self) -> FD:
        """The bpf link fd; raises ClosedError after close, InvalidInputError if none."""
        if self._closed:
            raise ClosedError(f"link {self.description}: used after close()")
        if self._fd is None:
            raise InvalidInputError("this attachment has no bpf link fd (legacy attach)",
                                    source=self.description)
        return self._fd

    def fileno(self) -> int:
        return int(self.fd)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def closes_fds_only(self) -> bool:
        """True when closing is only closing fds (no detach callable): such links may be
        closed from any thread, together (:func:`pybpf.kernel.closing.close_links`)."""
        return self._detach is None

    def close(self) -> None:
        """Detach (unless pinned) and release every fd; closing twice is a no-op."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._detach is not None:
                self._detach()
        finally:
            if self._fd is not None:
                self._fd.close()
            for extra in reversed(self._extra_fds):
                extra.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Link {self.description} {'closed' if self._closed else 'attached'}>"

    # bpf-link-only facilities (pin/unpin come from KernelObject and need the link fd) -----

    def info(self) -> LinkInfo:
        raw = bpfsys.BpfLinkInfo()
        bpfsys.obj_get_info_by_fd(int(self.fd), raw, obj=f"link {self.description}")
        return LinkInfo(id=raw.id, type=raw.type, prog_id=raw.prog_id)


def create_link(attr: bpfsys.LinkCreateAttr, *, description: str,
                hints: Mapping[int, str]) -> FD:
    """``BPF_LINK_CREATE`` for one attach family: the new link's fd.

    ``hints`` maps an errno to what it means for this family (EBUSY on an interface, EBADF
    for a cgroup...); such an error is raised again as a KernelError carrying that hint,
    any other stays as the kernel gave it.
    """
    try:
        return bpfsys.link_create(attr, obj=description)
    except KernelError as err:
        hint = hints.get(err.errno or 0)
        if hint is None:
            raise
        raise KernelError("bpf(LINK_CREATE)", err.errno or errno.EINVAL, obj=description,
                          hint=hint) from err
