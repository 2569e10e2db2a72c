"""sk_lookup: let a program pick the socket an incoming connection or datagram goes to.

``attach_sk_lookup(prog, "/run/netns/blue")`` makes a bpf link (``BPF_LINK_CREATE`` with
``BPF_SK_LOOKUP``, Linux 5.9) on a network namespace, given by the path of its namespace
file (``/proc/<pid>/ns/net``, ``/run/netns/<name>``) or an open fd of it. The program runs
for every TCP SYN and UDP packet looking for a local socket in that namespace, and may
steer it to a socket of its choosing (``bpf_sk_assign`` from a sockmap). Several programs
may be attached to one namespace; they run in attach order. Closing the Link detaches.
"""

from __future__ import annotations

import errno
import os

from ...errors import InvalidInputError, KernelError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from .base import Link, create_link
from .perf import checked_program_fd

__all__ = ["attach_sk_lookup"]

_LINK_HINTS = {
    errno.EINVAL: "not a network namespace file (use /proc/<pid>/ns/net or "
                  "/run/netns/<name>), or the program was not loaded for BPF_SK_LOOKUP",
    errno.EBADF: "not a network namespace file (use /proc/<pid>/ns/net or /run/netns/<name>)",
    errno.E2BIG: "the namespace has the most sk_lookup programs it can take (64)",
}


def attach_sk_lookup(prog: object, netns_path_or_fd: str | os.PathLike[str] | int) -> Link:
    """Run SK_LOOKUP program ``prog`` for socket lookups in a network namespace.

    Raises InvalidInputError (wrong program type, missing namespace file), KernelError with
    the kernel's reason otherwise.
    """
    prog_fd = checked_program_fd(prog, (ProgramType.SK_LOOKUP,), "sk_lookup attach")
    if isinstance(netns_path_or_fd, int) and not isinstance(netns_path_or_fd, bool):
        where, netns_fd, owned = f"netns fd {netns_path_or_fd}", netns_path_or_fd, False
    elif isinstance(netns_path_or_fd, (str, os.PathLike)):
        where = os.fspath(netns_path_or_fd)
        try:
            netns_fd = os.open(where, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise InvalidInputError(f"no network namespace file at {where!r}",
                                    source="sk_lookup attach") from None
        except OSError as err:
            raise KernelError("open", err.errno or errno.EIO, obj=f"netns {where}") from err
        owned = True
    else:
        raise InvalidInputError("a network namespace is a path or an fd, not "
                                f"{type(netns_path_or_fd).__name__}", source="sk_lookup attach")
    description = f"sk_lookup {getattr(prog, 'name', '?')} on {where}"
    try:
        attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, target_fd=netns_fd,
                                     attach_type=AttachType.SK_LOOKUP)
        link_fd = create_link(attr, description=description, hints=_LINK_HINTS)
    finally:
        if owned:  # the link holds the namespace itself
            os.close(netns_fd)
    return Link(link_fd, description=description)
