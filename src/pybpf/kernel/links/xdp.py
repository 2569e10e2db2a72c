"""XDP: run a program on every packet an interface receives, before the stack sees it.

``attach_xdp(prog, "eth0")`` makes a bpf link (``BPF_LINK_CREATE`` with ``BPF_XDP``, Linux
5.9): closing it detaches, and a crashed process detaches too. Modes, as the kernel names
them (``XDP_FLAGS_*``):

* ``"auto"``: the driver's native hook where it has one, else generic (the kernel decides);
* ``"skb"``: generic XDP in the stack, on any interface (slower, for testing);
* ``"drv"``: the driver's native hook, refused where the driver has none;
* ``"hw"``: offloaded to the NIC, refused unless the NIC can.

An interface holds one XDP program per mode. A bpf link cannot displace another
attachment; ``replace=True`` uses the netlink attach instead (``IFLA_XDP``), which takes
over from a program attached by netlink (``ip link set dev X xdp ...``) atomically. That
attachment has no fd: closing the Link removes our program, and only ours
(``XDP_FLAGS_REPLACE`` with our program as the expected one).
"""

from __future__ import annotations

import errno
import os

from ...errors import InvalidInputError, KernelError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from ..fd import FD
from ..netlink import (
    XDP_FLAGS_DRV_MODE,
    XDP_FLAGS_HW_MODE,
    XDP_FLAGS_SKB_MODE,
    Rtnetlink,
    interface_index,
)
from .base import Link, create_link
from .perf import checked_program_fd

__all__ = ["attach_xdp", "XDP_MODES"]

XDP_MODES = {"auto": 0, "skb": XDP_FLAGS_SKB_MODE, "drv": XDP_FLAGS_DRV_MODE,
             "hw": XDP_FLAGS_HW_MODE}

_LINK_HINTS = {
    errno.EBUSY: "the interface already has an XDP program in this mode (another link, or "
                 "one attached by netlink: pass replace=True to take over the latter)",
    errno.EEXIST: "the interface already has an XDP program (a bpf link cannot replace "
                  "it; pass replace=True to take over a netlink attachment)",
    errno.EOPNOTSUPP: "the driver has no XDP hook of this mode (try mode='skb')",
    errno.EINVAL: "this mode is not available on this interface (hw needs an offload-"
                  "capable NIC and a program loaded for it), or the kernel lacks XDP links "
                  "(Linux 5.9)",
}


def attach_xdp(prog: object, ifindex_or_name: int | str, *, mode: str = "auto",
               replace: bool = False) -> Link:
    """Attach XDP program ``prog`` to an interface (index or name in this namespace).

    Raises InvalidInputError (not an XDP program, unknown interface or mode), KernelError
    with the kernel's reason (an XDP program already there, mode not supported...).
    """
    prog_fd = checked_program_fd(prog, (ProgramType.XDP,), "XDP attach")
    if mode not in XDP_MODES:
        raise InvalidInputError(f"XDP mode must be one of {', '.join(XDP_MODES)}, not "
                                f"{mode!r}", source="XDP attach")
    ifindex, ifname = interface_index(ifindex_or_name, what="XDP attach")
    description = f"xdp {getattr(prog, 'name', '?')} on {ifname} ({mode})"
    if replace:
        return _attach_by_netlink(prog_fd, ifindex, XDP_MODES[mode], description)
    attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, target_fd=ifindex,
                                 attach_type=AttachType.XDP, flags=XDP_MODES[mode])
    link_fd = create_link(attr, description=description, hints=_LINK_HINTS)
    return Link(link_fd, description=description)


def _attach_by_netlink(prog_fd: int, ifindex: int, mode_flags: int,
                       description: str) -> Link:
    """IFLA_XDP attach replacing a netlink-attached program; detach removes only ours."""
    # our own reference to the program: the expected fd of the detach must stay valid
    # even if the caller closes the Program first
    own = FD(os.dup(prog_fd), what=f"program of {description}")
    try:
        with Rtnetlink() as rtnl:
            rtnl.set_xdp(ifindex, int(own), mode_flags, what=description)
    except BaseException:
        own.close()
        raise

    def detach() -> None:
        with Rtnetlink() as rtnl:
            try:
                rtnl.set_xdp(ifindex, -1, mode_flags, expected_fd=int(own), what=description)
            except KernelError as err:
                # gone with its interface, or already replaced by someone else: not ours
                if err.errno not in (errno.ENODEV, errno.EEXIST):
                    raise

    return Link(None, description=description + " by netlink", extra_fds=[own],
                detach=detach)
