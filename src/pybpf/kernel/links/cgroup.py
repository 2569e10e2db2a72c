"""cgroup programs: run a program for the sockets, devices, sysctls... of a cgroup v2.

``attach_cgroup(prog, "/sys/fs/cgroup/app", "CGROUP_INET4_CONNECT")`` makes a bpf link
(``BPF_LINK_CREATE``, Linux 5.7) for any cgroup attach type. Links on a cgroup always
behave like ``BPF_F_ALLOW_MULTI``: several programs of one attach type run in turn, and the
cgroup's descendants run them too. Closing the Link detaches.

Each attach type takes programs of one type, loaded with that attach type as their
expected attach type (libbpf sections: ``cgroup/connect4``, ``cgroup_skb/egress``...).
"""

from __future__ import annotations

import errno
import os

from ...errors import InvalidInputError, KernelError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from .base import Link, create_link
from .perf import checked_program_fd

__all__ = ["attach_cgroup", "CGROUP_ATTACH_TYPES"]

_SOCK_ADDR_TYPES = (
    "CGROUP_INET4_BIND", "CGROUP_INET6_BIND", "CGROUP_INET4_CONNECT", "CGROUP_INET6_CONNECT",
    "CGROUP_UDP4_SENDMSG", "CGROUP_UDP6_SENDMSG", "CGROUP_UDP4_RECVMSG",
    "CGROUP_UDP6_RECVMSG", "CGROUP_INET4_GETPEERNAME", "CGROUP_INET6_GETPEERNAME",
    "CGROUP_INET4_GETSOCKNAME", "CGROUP_INET6_GETSOCKNAME", "CGROUP_UNIX_CONNECT",
    "CGROUP_UNIX_SENDMSG", "CGROUP_UNIX_RECVMSG", "CGROUP_UNIX_GETPEERNAME",
    "CGROUP_UNIX_GETSOCKNAME")

CGROUP_ATTACH_TYPES: dict[AttachType, ProgramType] = {
    AttachType.CGROUP_INET_INGRESS: ProgramType.CGROUP_SKB,
    AttachType.CGROUP_INET_EGRESS: ProgramType.CGROUP_SKB,
    AttachType.CGROUP_INET_SOCK_CREATE: ProgramType.CGROUP_SOCK,
    AttachType.CGROUP_INET_SOCK_RELEASE: ProgramType.CGROUP_SOCK,
    AttachType.CGROUP_INET4_POST_BIND: ProgramType.CGROUP_SOCK,
    AttachType.CGROUP_INET6_POST_BIND: ProgramType.CGROUP_SOCK,
    AttachType.CGROUP_SOCK_OPS: ProgramType.SOCK_OPS,
    AttachType.CGROUP_DEVICE: ProgramType.CGROUP_DEVICE,
    AttachType.CGROUP_SYSCTL: ProgramType.CGROUP_SYSCTL,
    AttachType.CGROUP_GETSOCKOPT: ProgramType.CGROUP_SOCKOPT,
    AttachType.CGROUP_SETSOCKOPT: ProgramType.CGROUP_SOCKOPT,
    AttachType.LSM_CGROUP: ProgramType.LSM,
    **{AttachType[name]: ProgramType.CGROUP_SOCK_ADDR for name in _SOCK_ADDR_TYPES},
}
"""Every cgroup attach type and the program type it runs."""

_LINK_HINTS = {
    errno.EINVAL: "the program was loaded for another attach type (its expected attach "
                  "type must be this one), or this kernel lacks this attach type",
    errno.EBADF: "not a cgroup v2 directory (cgroup2 is mounted at /sys/fs/cgroup, or at "
                 "/sys/fs/cgroup/unified on hybrid systems)",
    errno.EPERM: "the program is attached to this cgroup already, or this needs root",
}


def _attach_type(value: AttachType | int | str) -> AttachType:
    """An AttachType from the enum, its number, or its name (``"CGROUP_INET4_CONNECT"``,
    also ``"BPF_CGROUP_INET4_CONNECT"`` and lower case)."""
    try:
        if isinstance(value, str):
            name = value.upper().removeprefix("BPF_")
            attach_type = AttachType[name]
        else:
            attach_type = AttachType(value)
    except (KeyError, ValueError):
        raise InvalidInputError(f"unknown attach type {value!r}",
                                source="cgroup attach") from None
    if attach_type not in CGROUP_ATTACH_TYPES:
        raise InvalidInputError(f"{attach_type.name} is not a cgroup attach type",
                                source="cgroup attach")
    return attach_type


def attach_cgroup(prog: object, cgroup_path: str | os.PathLike[str] | int,
                  attach_type: AttachType | int | str) -> Link:
    """Attach ``prog`` to the cgroup v2 directory ``cgroup_path`` (or an open fd of it).

    Raises InvalidInputError (unknown or non-cgroup attach type, program of the wrong
    type, missing directory), KernelError with the kernel's reason otherwise.
    """
    kind = _attach_type(attach_type)
    prog_fd = checked_program_fd(prog, (CGROUP_ATTACH_TYPES[kind],),
                                 f"cgroup attach ({kind.name})")
    if isinstance(cgroup_path, bool):
        raise InvalidInputError(f"a cgroup is a path or an fd, not {cgroup_path!r}",
                                source=f"cgroup attach ({kind.name})")
    if isinstance(cgroup_path, int):
        where, cgroup_fd, owned = f"cgroup fd {cgroup_path}", cgroup_path, False
    else:
        where = os.fspath(cgroup_path)
        try:
            cgroup_fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise InvalidInputError(f"no cgroup directory at {where!r}",
                                    source="cgroup attach") from None
        except OSError as err:
            raise KernelError("open", err.errno or errno.EIO, obj=f"cgroup {where}") from err
        owned = True
    description = f"cgroup {kind.name} {getattr(prog, 'name', '?')} on {where}"
    try:
        attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, target_fd=cgroup_fd, attach_type=kind)
        link_fd = create_link(attr, description=description, hints=_LINK_HINTS)
    finally:
        if owned:  # the link holds the cgroup itself, not our fd of its directory
            os.close(cgroup_fd)
    return Link(link_fd, description=description)
