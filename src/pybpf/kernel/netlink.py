"""A small rtnetlink client: interfaces, legacy XDP attach, clsact qdiscs and bpf filters.

Only what attaching programs needs, over a plain ``AF_NETLINK`` socket (no pyroute2). Every
request asks for an acknowledgement; a refusal raises :class:`~pybpf.errors.KernelError`
with the errno and, when the kernel gives one (extended ack, Linux 4.12), its own message,
which is usually the best explanation there is ("Native and generic XDP can't be active at
the same time").

Message layouts follow uapi ``linux/netlink.h``, ``linux/rtnetlink.h``, ``linux/if_link.h``
and ``linux/pkt_sched.h``/``pkt_cls.h``; names are the kernel's, spelled so they grep.
"""

from __future__ import annotations

import errno
import itertools
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InvalidInputError, KernelError

__all__ = ["interface_index", "Rtnetlink", "TcFilter", "XDP_FLAGS_UPDATE_IF_NOEXIST",
           "XDP_FLAGS_SKB_MODE", "XDP_FLAGS_DRV_MODE", "XDP_FLAGS_HW_MODE",
           "XDP_FLAGS_REPLACE", "TC_H_CLSACT", "TC_H_MIN_INGRESS", "TC_H_MIN_EGRESS"]

# linux/netlink.h
NETLINK_ROUTE = 0
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO = 0x1, 0x4, 0x8
NLM_F_DUMP = 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
NLM_F_ACK_TLVS = 0x200  # in the flags of an NLMSG_ERROR: attributes follow
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_F_NESTED = 0x8000
SOL_NETLINK = 270
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
NLMSGERR_ATTR_MSG = 1

# linux/rtnetlink.h
RTM_SETLINK = 19
RTM_NEWQDISC, RTM_DELQDISC = 36, 37
RTM_NEWTFILTER, RTM_DELTFILTER, RTM_GETTFILTER = 44, 45, 46
TCA_KIND, TCA_OPTIONS = 1, 2

# linux/if_link.h: IFLA_XDP and its nested attributes, XDP_FLAGS_*
IFLA_XDP = 43
IFLA_XDP_FD, IFLA_XDP_FLAGS, IFLA_XDP_EXPECTED_FD = 1, 3, 8
XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2
XDP_FLAGS_HW_MODE = 1 << 3
XDP_FLAGS_REPLACE = 1 << 4

# linux/pkt_sched.h: the clsact qdisc and its two hook points
TC_H_CLSACT = 0xFFFF_FFF1
TC_H_MIN_INGRESS, TC_H_MIN_EGRESS = 0xFFF2, 0xFFF3
TC_H_MAJ_MASK = 0xFFFF_0000

# linux/pkt_cls.h: cls_bpf attributes
TCA_BPF_FD, TCA_BPF_NAME, TCA_BPF_FLAGS = 6, 7, 8
TCA_BPF_FLAG_ACT_DIRECT = 1 << 0
ETH_P_ALL = 0x0003

_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_TCMSG = struct.Struct("=BxxxiIII")
_NLATTR = struct.Struct("=HH")


def interface_index(iface: int | str, *, what: str = "attach") -> tuple[int, str]:
    """``(ifindex, name)`` of an interface given by index or name, as this thread's network
    namespace sees it. Raises InvalidInputError for a bad or unknown interface."""
    if isinstance(iface, bool) or not isinstance(iface, (int, str)):
        raise InvalidInputError(f"an interface is an index or a name, not {iface!r}",
                                source=what)
    if isinstance(iface, int):
        if iface <= 0:
            raise InvalidInputError(f"an interface index is positive, not {iface}",
                                    source=what)
        try:
            return iface, socket.if_indextoname(iface)
        except OSError:
            raise InvalidInputError(f"no network interface has index {iface}",
                                    source=what) from None
    try:
        return socket.if_nametoindex(iface), iface
    except OSError:
        raise InvalidInputError(f"no network interface named {iface!r} in this network "
                                "namespace", source=what) from None


# -- attribute packing ---------------------------------------------------------------------

def _align4(n: int) -> int:
    return (n + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute (type-length-value), padded to 4 bytes."""
    length = _NLATTR.size + len(payload)
    return _NLATTR.pack(length, kind) + payload + b"\0" * (_align4(length) - length)


def nested(kind: int, *attrs: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def u32_attr(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def s32_attr(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=i", value))


def str_attr(kind: int, text: str) -> bytes:
    return attr(kind, text.encode() + b"\0")


def parse_attrs(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(type without flag bits, payload) of each attribute in ``data``."""
    offset = 0
    while offset + _NLATTR.size <= len(data):
        length, kind = _NLATTR.unpack_from(data, offset)
        if length < _NLATTR.size:
            return  # malformed: stop rather than loop
        yield kind & 0x3FFF, data[offset + _NLATTR.size:offset + length]
        offset += _align4(length)


@dataclass(frozen=True)
class TcFilter:
    """Where a cls_bpf filter sits: enough to delete exactly it."""

    ifindex: int
    parent: int
    priority: int
    handle: int
    protocol: int = ETH_P_ALL


# -- the socket ----------------------------------------------------------------------------

REPLY_TIMEOUT_S = 5.0

class Rtnetlink:
    """One rtnetlink socket; a context manager. Each request waits for its acknowledgement."""

    def __init__(self) -> None:
        try:
            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        except OSError as err:
            raise KernelError("socket(AF_NETLINK)", err.errno or errno.EIO,
                              obj="rtnetlink") from err
        try:
            # a short error reply (no copy of our request) that carries the kernel's message
            self._sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            self._sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        except OSError:  # kernels before 4.12: plain errnos only
            pass
        try:
            self._sock.bind((0, 0))
        except OSError as err:
            self._sock.close()
            raise KernelError("bind(AF_NETLINK)", err.errno or errno.EIO,
                              obj="rtnetlink") from err
        # the kernel answers at once; a reply that never comes must not hang the caller
        self._sock.settimeout(REPLY_TIMEOUT_S)
        self._seq = itertools.count(1)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Rtnetlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, msg_type: int, flags: int, body: bytes, *, what: str) -> list[bytes]:
        """Send one request and collect the replies up to its ack (or NLMSG_DONE for a
        dump): the payloads of the messages of other types, such as echoes and dump
        entries. Raises KernelError when the kernel refuses."""
        seq = next(self._seq)
        header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), msg_type,
                                flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0)
        self._sock.send(header + body)
        # NLM_F_DUMP's bits mean NLM_F_EXCL/CREATE in a NEW request: test the whole value
        dump = flags & NLM_F_DUMP == NLM_F_DUMP and msg_type % 4 == 2  # RTM_GET*
        replies: list[bytes] = []
        while True:
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                raise KernelError("rtnetlink", errno.ETIMEDOUT, obj=what,
                                  hint=f"no reply within {REPLY_TIMEOUT_S} s") from None
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, kind, msg_flags, msg_seq, _ = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size:
                    raise KernelError("rtnetlink", errno.EPROTO, obj=what,
                                      hint="malformed reply from the kernel")
                payload = data[offset + _NLMSGHDR.size:offset + length]
                offset += _align4(length)
                if msg_seq != seq:
                    continue  # a reply to an earlier, abandoned request
                if kind == NLMSG_DONE:
                    return replies
                if kind == NLMSG_ERROR:
                    code = struct.unpack_from("=i", payload)[0]
                    if code == 0:
                        if not dump:
                            return replies
                        continue
                    raise KernelError("rtnetlink", -code, obj=what,
                                      hint=_ext_ack_message(payload, msg_flags))
                replies.append(payload)

    # -- XDP (netlink attach, any kernel with XDP) ---------------------------------------------

    def set_xdp(self, ifindex: int, prog_fd: int, flags: int, *,
                expected_fd: int | None = None, what: str) -> None:
        """Attach ``prog_fd`` (or detach with -1) as the interface's XDP program.

        With ``expected_fd`` the change happens only if that program is the one attached
        (``XDP_FLAGS_REPLACE``, Linux 5.7), so detaching never removes someone else's.
        """
        attrs = [s32_attr(IFLA_XDP_FD, prog_fd)]
        if expected_fd is not None:
            flags |= XDP_FLAGS_REPLACE
            attrs.append(s32_attr(IFLA_XDP_EXPECTED_FD, expected_fd))
        attrs.append(u32_attr(IFLA_XDP_FLAGS, flags))
        body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, ifindex, 0, 0) + nested(IFLA_XDP, *attrs)
        self.request(RTM_SETLINK, 0, body, what=what)

    # -- tc: clsact and cls_bpf ----------------------------------------------------------------

    def add_clsact(self, ifindex: int, *, what: str) -> bool:
        """Add a clsact qdisc; False when the interface already has one."""
        body = _TCMSG.pack(socket.AF_UNSPEC, ifindex, TC_H_CLSACT & TC_H_MAJ_MASK,
                           TC_H_CLSACT, 0) + str_attr(TCA_KIND, "clsact")
        try:
            self.request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, body, what=what)
        except KernelError as err:
            if err.errno == errno.EEXIST:
                return False
            raise
        return True

    def delete_clsact(self, ifindex: int, *, what: str) -> None:
        body = _TCMSG.pack(socket.AF_UNSPEC, ifindex, TC_H_CLSACT & TC_H_MAJ_MASK,
                           TC_H_CLSACT, 0) + str_attr(TCA_KIND, "clsact")
        self.request(RTM_DELQDISC, 0, body, what=what)

    def add_bpf_filter(self, ifindex: int, parent: int, prog_fd: int, name: str, *,
                       what: str) -> TcFilter:
        """Add a direct-action cls_bpf filter running ``prog_fd``; the kernel picks priority
        and handle, which its echo of the new filter tells."""
        options = nested(TCA_OPTIONS, u32_attr(TCA_BPF_FD, prog_fd),
                         str_attr(TCA_BPF_NAME, name),
                         u32_attr(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT))
        info = socket.htons(ETH_P_ALL)  # priority 0 in the high half: the kernel chooses
        body = _TCMSG.pack(socket.AF_UNSPEC, ifindex, 0, parent, info) \
            + str_attr(TCA_KIND, "bpf") + options
        for reply in self.request(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO,
                                  body, what=what):
            _, echo_ifindex, handle, echo_parent, echo_info = _TCMSG.unpack_from(reply)
            if echo_ifindex == ifindex and echo_parent == parent and handle:
                return TcFilter(ifindex, parent, echo_info >> 16, handle)
        raise KernelError("rtnetlink", errno.EPROTO, obj=what,
                          hint="the kernel did not echo the new filter")

    def delete_filter(self, flt: TcFilter, *, what: str) -> None:
        info = flt.priority << 16 | socket.htons(flt.protocol)
        body = _TCMSG.pack(socket.AF_UNSPEC, flt.ifindex, flt.handle, flt.parent, info) \
            + str_attr(TCA_KIND, "bpf")
        self.request(RTM_DELTFILTER, 0, body, what=what)

    def count_filters(self, ifindex: int, parent: int, *, what: str) -> int:
        """How many filter entries hang below ``parent`` (0: none left)."""
        body = _TCMSG.pack(socket.AF_UNSPEC, ifindex, 0, parent, 0)
        return len(self.request(RTM_GETTFILTER, NLM_F_DUMP, body, what=what))


def _ext_ack_message(payload: bytes, msg_flags: int) -> str | None:
    """The kernel's own words from an extended ack, if it sent any."""
    if not msg_flags & NLM_F_ACK_TLVS:
        return None
    # error code, then the header of our request (capped, NETLINK_CAP_ACK), then attributes
    for kind, value in parse_attrs(payload[4 + _NLMSGHDR.size:]):
        if kind == NLMSGERR_ATTR_MSG:
            return value.rstrip(b"\0").decode(errors="replace")
    return None
