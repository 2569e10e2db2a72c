"""Live capture on an AF_PACKET socket with a pcap filter in the kernel, as tcpdump does.

``with Capture("eth0", "tcp port 80") as cap: for packet in cap.packets(): ...`` yields
:class:`~pybpf.pcap.PcapPacket` values (frame, wire length, time in microseconds). The
expression is compiled by :func:`pybpf.cbpf.compile_filter` and attached either as classic
BPF (``SO_ATTACH_FILTER``, the kernel converts it itself: ``kind="classic"``) or translated
by :func:`pybpf.cbpf.to_ebpf` and loaded as a SOCKET_FILTER program (``SO_ATTACH_BPF``:
``kind="ebpf"``). Both directions of the interface are seen, like tcpdump.

Why a drop-all filter first: a packet socket queues whatever arrives between ``socket()``
and the filter's attach. The socket starts with a filter that keeps nothing, is bound to
the interface, drained, and only then gets the real filter (what libpcap does too).
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
from collections.abc import Callable, Iterator

from ..cbpf import FilterProgram, compile_filter, encode_program, to_ebpf
from ..cbpf.isa import SockFilter
from ..errors import InvalidInputError, KernelError
from ..kernel.links import Link
from ..kernel.links.socket_filter import attach_classic_filter, attach_socket_filter
from ..kernel.netlink import interface_index
from ..kernel.programs import Program
from ..pcap import PcapFile, PcapPacket, read_pcap
from ..spec import ProgramSpec, ProgramType

__all__ = ["Capture", "KINDS", "ETH_P_ALL", "drop_privileges", "filter_file"]

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4   # linux/if_packet.h sll_pkttype
ARPHRD_LOOPBACK = 772  # linux/if_arp.h
SO_TIMESTAMP = getattr(socket, "SO_TIMESTAMP", 29)
KINDS = ("classic", "ebpf")
_DROP_ALL = encode_program([SockFilter(0x06, 0, 0, 0)])  # ret #0
_TIMEVAL = struct.Struct("@ll")
SOL_PACKET = 263
PACKET_STATISTICS = 6   # linux/if_packet.h: struct tpacket_stats, zeroed by each read
_TPACKET_STATS = struct.Struct("=II")
_MAX_FRAME = 262144


class Capture:
    """A packet socket on ``iface`` keeping what ``expression`` accepts (every packet when it
    is empty). A context manager; ``close()`` detaches the filter and closes the socket.

    Raises FilterSyntaxError (bad expression), InvalidInputError (unknown interface or
    kind), KernelError (no permission: AF_PACKET needs CAP_NET_RAW; the filter refused).
    """

    def __init__(self, iface: str, expression: str = "", *, kind: str = "classic",
                 snaplen: int = _MAX_FRAME) -> None:
        if kind not in KINDS:
            raise InvalidInputError(f"filter kind must be one of {', '.join(KINDS)}, not "
                                    f"{kind!r}", source="capture")
        self.iface = iface
        self.expression = expression
        self.kind = kind
        self.program = compile_filter(expression, snaplen=snaplen)
        self._snaplen = snaplen
        ifindex, _ = interface_index(iface, what="capture")
        try:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                       socket.htons(ETH_P_ALL))
        except OSError as err:
            raise KernelError("socket(AF_PACKET)", err.errno or errno.EPERM,
                              obj=f"capture on {iface}",
                              hint="packet capture needs CAP_NET_RAW (root)") from err
        self._links: list[Link] = []
        self._prog: Program | None = None
        self._received = self._dropped = 0
        try:
            self._links.append(attach_classic_filter(self._sock, _DROP_ALL))
            self._sock.bind((iface, ETH_P_ALL, 0, 0, b""))
            self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
            self._drain()
            self._read_kernel_statistics()   # zeroes them: only this filter's packets count
            self._received = self._dropped = 0
            self._attach_filter()
        except BaseException:
            self.close()
            raise
        self.ifindex = ifindex

    def _drain(self) -> None:
        self._sock.setblocking(False)
        try:
            while True:
                self._sock.recv(_MAX_FRAME)
        except BlockingIOError:
            pass
        finally:
            self._sock.setblocking(True)

    def _attach_filter(self) -> None:
        # attaching replaces the drop-all filter in one step: nothing slips in between
        if self.kind == "classic":
            self._links.append(attach_classic_filter(self._sock,
                                                     encode_program(self.program)))
            return
        spec = ProgramSpec(name="net_sniff", section="socket",
                           type=ProgramType.SOCKET_FILTER,
                           instructions=to_ebpf(self.program, target="socket"),
                           license="GPL")
        self._prog = Program.load(spec)
        self._links.append(attach_socket_filter(self._prog, self._sock))

    def fileno(self) -> int:
        return self._sock.fileno()

    def _read_kernel_statistics(self) -> None:
        packets, drops = _TPACKET_STATS.unpack(
            self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _TPACKET_STATS.size))
        self._received += packets    # the kernel counts drops among packets here
        self._dropped += drops

    def statistics(self) -> tuple[int, int]:
        """(received by filter, dropped by kernel) since the filter was attached, as
        tcpdump prints them at the end (libpcap's ps_recv and ps_drop). On loopback each
        packet passes the filter twice, leaving and arriving, as tcpdump shows too."""
        self._read_kernel_statistics()
        return self._received, self._dropped

    def receive(self, timeout_s: float | None = None) -> PcapPacket | None:
        """The next packet the filter kept, or None after ``timeout_s`` without one (or for
        the outgoing copy of a loopback packet, skipped as libpcap does)."""
        if timeout_s is not None:
            ready, _, _ = select.select([self._sock], [], [], timeout_s)
            if not ready:
                return None
        data, ancillary, _, address = self._sock.recvmsg(_MAX_FRAME, socket.CMSG_SPACE(16))
        if address[2] == PACKET_OUTGOING and address[3] == ARPHRD_LOOPBACK:
            return None  # loopback shows each packet leaving and arriving: keep one (libpcap)
        stamp_us = time.time_ns() // 1000
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMP \
                    and len(payload) >= _TIMEVAL.size:
                seconds, micros = _TIMEVAL.unpack_from(payload)
                stamp_us = seconds * 1_000_000 + micros
        wirelen = len(data)
        return PcapPacket(data[:self._snaplen], wirelen, stamp_us)

    def packets(self, *, count: int = 0, stop: Callable[[], bool] | None = None,
                poll_s: float = 0.2) -> Iterator[PcapPacket]:
        """Packets as they come: ``count`` of them (0: no limit) or until ``stop()`` is
        true (checked every ``poll_s`` seconds while idle)."""
        seen = 0
        while not count or seen < count:
            if stop is not None and stop():
                return
            packet = self.receive(poll_s)
            if packet is not None:
                seen += 1
                yield packet

    def close(self) -> None:
        """Detach the filter, unload its program, close the socket (idempotent)."""
        for link in reversed(self._links):
            link.close()
        self._links.clear()
        if self._prog is not None:
            self._prog.close()
            self._prog = None
        self._sock.close()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def filter_file(path: str, expression: str = "", *, count: int = 0,
                optimize: bool = True) -> tuple[PcapFile, Iterator[PcapPacket]]:
    """The capture file at ``path`` and an iterator over the packets ``expression`` accepts
    (compiled for the file's link type and run as libpcap's ``bpf_filter`` would), at most
    ``count`` of them (0: all). The whole of a packet's captured bytes is kept.

    Raises InvalidInputError (unreadable or malformed file; a file damaged after some
    packets raises once those are yielded) and FilterSyntaxError (bad expression, or one
    the link type cannot have).
    """
    capture = read_pcap(path, partial=True)
    program = FilterProgram(compile_filter(expression, linktype=capture.linktype,
                                           optimize=optimize, savefile=True)) \
        if expression else None

    def kept() -> Iterator[PcapPacket]:
        seen = 0
        for packet in capture.packets:
            if program is not None and not program.run(packet.data, packet.wirelen):
                continue
            yield packet
            seen += 1
            if count and seen >= count:
                return
        if capture.error is not None:
            raise capture.error
    return capture, kept()


def drop_privileges(user: str) -> None:
    """Become ``user`` (its groups and ids), as tcpdump -Z does after opening the capture.

    Raises InvalidInputError for an unknown user, KernelError when the switch is refused.
    """
    import grp
    import os
    import pwd
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise InvalidInputError(f"unknown user {user!r}", source="-Z") from None
    try:
        groups = [g.gr_gid for g in grp.getgrall() if user in g.gr_mem]
        os.setgroups([entry.pw_gid, *groups])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    except OSError as err:
        raise KernelError("setuid", err.errno or errno.EPERM, obj=f"user {user}",
                          hint="dropping privileges needs to start as root") from err
