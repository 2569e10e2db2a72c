"""tc: run a SCHED_CLS program on every packet entering or leaving an interface.

Two mechanisms, newest first:

* **tcx** (Linux 6.6): a bpf link (``BPF_LINK_CREATE`` with ``BPF_TCX_INGRESS``/``EGRESS``)
  appended to the interface's chain of tcx programs; closing it detaches. The program's
  return value is ``TCX_NEXT`` (-1), ``TCX_PASS`` (0), ``TCX_DROP`` (2) or
  ``TCX_REDIRECT`` (7); the classic ``TC_ACT_*`` codes have the same numbers.
* **clsact + cls_bpf** over rtnetlink (what ``tc filter add dev X ingress bpf da`` does): a
  ``clsact`` qdisc is added when the interface has none, then a direct-action bpf filter.
  Closing the Link deletes that filter, and the qdisc too if this Link added it and no
  filter is left on it.

``mechanism="auto"`` asks the kernel whether it has tcx (a LINK_CREATE aimed at no
interface: ENODEV means tcx exists, EINVAL that the attach type is unknown) and uses
netlink only where it does not; ``"tcx"`` and ``"netlink"`` force one.
"""

from __future__ import annotations

import errno

from ...errors import InvalidInputError, KernelError, NotSupportedError
from ...spec import AttachType, ProgramType
from .. import sys as bpfsys
from ..netlink import (
    TC_H_CLSACT,
    TC_H_MAJ_MASK,
    TC_H_MIN_EGRESS,
    TC_H_MIN_INGRESS,
    Rtnetlink,
    interface_index,
)
from .base import Link
from .perf import checked_program_fd

__all__ = ["attach_tc", "have_tcx", "DIRECTIONS", "MECHANISMS"]

DIRECTIONS = {"ingress": AttachType.TCX_INGRESS, "egress": AttachType.TCX_EGRESS}
MECHANISMS = ("auto", "tcx", "netlink")
_CLSACT_PARENT = {"ingress": (TC_H_CLSACT & TC_H_MAJ_MASK) | TC_H_MIN_INGRESS,
                  "egress": (TC_H_CLSACT & TC_H_MAJ_MASK) | TC_H_MIN_EGRESS}


def have_tcx(prog_fd: int) -> bool:
    """True when this kernel has tcx links, asked with SCHED_CLS program ``prog_fd``.

    Not cached: it costs one bpf() call that creates nothing. Raises KernelError when the
    answer is neither of the two expected ones (e.g. EPERM).
    """
    attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, target_fd=0,
                                 attach_type=AttachType.TCX_INGRESS)
    try:
        bpfsys.link_create(attr, obj="tcx probe").close()  # pragma: no cover - ifindex 0
    except KernelError as err:
        if err.errno == errno.ENODEV:
            return True
        if err.errno in (errno.EINVAL, errno.EOPNOTSUPP, bpfsys.ENOTSUPP):
            return False
        raise
    return True  # pragma: no cover


def attach_tc(prog: object, iface: int | str, *, direction: str = "ingress",
              mechanism: str = "auto") -> Link:
    """Attach SCHED_CLS program ``prog`` to ``iface`` (index or name) for ``direction``.

    Raises InvalidInputError (wrong program type, unknown interface, direction or
    mechanism), NotSupportedError (``mechanism="tcx"`` on a kernel before 6.6),
    KernelError with the kernel's reason otherwise.
    """
    prog_fd = checked_program_fd(prog, (ProgramType.SCHED_CLS,), "tc attach")
    if direction not in DIRECTIONS:
        raise InvalidInputError(f"tc direction must be 'ingress' or 'egress', not "
                                f"{direction!r}", source="tc attach")
    if mechanism not in MECHANISMS:
        raise InvalidInputError(f"tc mechanism must be one of {', '.join(MECHANISMS)}, not "
                                f"{mechanism!r}", source="tc attach")
    ifindex, ifname = interface_index(iface, what="tc attach")
    name = getattr(prog, "name", "?")
    if mechanism == "auto":
        mechanism = "tcx" if have_tcx(prog_fd) else "netlink"
    elif mechanism == "tcx" and not have_tcx(prog_fd):
        raise NotSupportedError("tcx links (BPF_TCX_INGRESS/EGRESS)",
                                hint="this kernel lacks tcx (Linux 6.6): use "
                                     "mechanism='netlink' or 'auto'")
    if mechanism == "tcx":
        description = f"tcx {direction} {name} on {ifname}"
        attr = bpfsys.LinkCreateAttr(prog_fd=prog_fd, target_fd=ifindex,
                                     attach_type=DIRECTIONS[direction])
        return Link(bpfsys.link_create(attr, obj=description), description=description)
    return _attach_clsact(prog_fd, ifindex, direction,
                          f"tc {direction} {name} on {ifname} (clsact)", name)


def _attach_clsact(prog_fd: int, ifindex: int, direction: str, description: str,
                   filter_name: str) -> Link:
    with Rtnetlink() as rtnl:
        added_qdisc = rtnl.add_clsact(ifindex, what=description)
        try:
            flt = rtnl.add_bpf_filter(ifindex, _CLSACT_PARENT[direction], prog_fd,
                                      filter_name, what=description)
        except BaseException:
            if added_qdisc:
                rtnl.delete_clsact(ifindex, what=description)
            raise

    def detach() -> None:
        with Rtnetlink() as rtnl:
            try:
                rtnl.delete_filter(flt, what=description)
                if added_qdisc and not any(
                        rtnl.count_filters(ifindex, parent, what=description)
                        for parent in _CLSACT_PARENT.values()):
                    rtnl.delete_clsact(ifindex, what=description)
            except KernelError as err:
                # the interface (and everything on it) is gone, or someone removed the
                # filter/qdisc already: nothing of ours is left
                if err.errno not in (errno.ENODEV, errno.ENOENT, errno.EINVAL):
                    raise

    return Link(None, description=description, detach=detach)
