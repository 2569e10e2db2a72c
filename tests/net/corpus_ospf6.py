"""OSPFv3 packets on IPv6: hellos (designated routers, neighbours, an instance, LLS and
an authentication trailer after the packet), database descriptions with LSA headers of
every scope, link state requests, updates carrying router, network, inter-area prefix,
external (forwarding address, tag, referenced LSA), link, intra-area prefix, grace and
unknown LSAs, acknowledgements; damaged lengths (a packet longer than the IP payload, an
LSA past the packet's end, a prefix longer than its LSA, an LSA header's length below
its size), an unknown type and version."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import LL6, ether, ipv6

__all__ = ["ospf6_frames"]


def _ip(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def _ospf6(kind: int, body: bytes, *, instance: int = 0, area: str = "0.0.0.0",
           version: int = 3, declared: int | None = None, trailer: bytes = b"") -> bytes:
    size = 16 + len(body) if declared is None else declared
    packet = struct.pack("!BBH4s4sHBB", version, kind, size, _ip("198.18.0.1"), _ip(area), 0,
                         instance, 0) + body + trailer
    return ether(ipv6(LL6, "ff02::5", 89, packet, hop_limit=1), 0x86DD)


def _hello(*, options: int = 0x13, neighbours: tuple[str, ...] = ("198.18.0.2",),
           dr: str = "198.18.0.1", bdr: str = "198.18.0.2") -> bytes:
    return (struct.pack("!4sIHH4s4s", _ip("0.0.0.5"), 1 << 24 | options, 10, 40, _ip(dr),
                        _ip(bdr)) + b"".join(_ip(n) for n in neighbours))


def _header(kind: int, state: str = "0.0.0.0", size: int = 20) -> bytes:
    return struct.pack("!HH4s4sIHH", 5, kind, _ip(state), _ip("198.18.0.1"), 0x80000003, 0,
                       size)


def _lsa(kind: int, body: bytes, state: str = "0.0.0.0") -> bytes:
    return _header(kind, state, 20 + len(body)) + body


def _prefix(prefix: str, bits: int, *, options: int = 0, metric: int = 10) -> bytes:
    words = (bits + 31) // 32
    return struct.pack("!BBH", bits, options, metric) + _ip(prefix)[:4 * words]


def ospf6_frames() -> list[bytes]:
    links = (struct.pack("!I", 0x03 << 24 | 0x33)
             + struct.pack("!BxHI4s4s", 1, 10, 5, _ip("0.0.0.7"), _ip("198.18.0.2"))
             + struct.pack("!BxHI4s4s", 2, 1, 5, _ip("0.0.0.8"), _ip("198.18.0.3"))
             + struct.pack("!BxHI4s4s", 4, 7, 6, _ip("0.0.0.9"), _ip("198.18.0.4")))
    external = (struct.pack("!I", 0x83000014) + _prefix("2001:db8:5::", 48, metric=0x0100)
                + _ip("2001:db8::1") + _ip("0.0.0.42") + _ip("198.18.0.9"))
    link = (struct.pack("!I", 1 << 24 | 0x13) + _ip("fe80::1") + struct.pack("!I", 2)
            + _prefix("2001:db8:1::", 64, options=0x02) + _prefix("2001:db8::", 128))
    intra = (struct.pack("!HH4s4s", 2, 0x2001, bytes(4), _ip("198.18.0.1"))
             + _prefix("2001:db8:1::", 64) + _prefix("2001:db8:2::", 60, options=0x3F))
    grace = struct.pack("!HHI", 1, 4, 90) + struct.pack("!HHB3x", 2, 1, 2)
    trailer = struct.pack("!HHHHII", 1, 32, 0, 7, 1, 2) + bytes(range(16))
    return [
        _ospf6(1, _hello()),
        _ospf6(1, _hello(options=0x213, neighbours=(), dr="0.0.0.0", bdr="0.0.0.0"),
               instance=3, area="0.0.0.1", trailer=struct.pack("!HH", 0xABCD, 12) + bytes(8)),
        _ospf6(1, _hello(options=0x613), trailer=struct.pack("!HH", 1, 4) + trailer),
        _ospf6(1, _hello(options=0x413), trailer=struct.pack("!HHHHII", 9, 16, 0, 1, 0, 5)),
        _ospf6(1, _hello(options=0x413), trailer=struct.pack("!HHHH", 1, 12, 0, 1) + bytes(8)),
        _ospf6(1, _hello(options=0x213), trailer=b"\0\0"),
        _ospf6(2, struct.pack("!IHBBI", 0x13, 1500, 0, 0x17, 0x1000)
               + _header(0x2001) + _header(0x4005, "0.0.0.1") + _header(0x0008, "0.0.0.5")
               + _header(0xA00C) + _header(0x6001) + _header(0x2009, size=8)),
        _ospf6(3, struct.pack("!HH4s4s", 0, 0x2001, bytes(4), _ip("198.18.0.2"))
               + struct.pack("!HH4s4s", 0, 0x0008, _ip("0.0.0.5"), _ip("198.18.0.2"))),
        _ospf6(4, struct.pack("!I", 3) + _lsa(0x2001, links)
               + _lsa(0x2002, struct.pack("!I", 0x33) + _ip("198.18.0.1") + _ip("198.18.0.2"))
               + _lsa(0x2003, struct.pack("!I", 0xFF000020) + _prefix("2001:db8:7::", 48)
                      + _prefix("::", 0))),
        _ospf6(4, struct.pack("!I", 4) + _lsa(0x4005, external) + _lsa(0x0008, link)
               + _lsa(0x2009, intra) + _lsa(0x000B, grace)),
        _ospf6(4, struct.pack("!I", 2) + _lsa(0x2004, b"\x00\x00\x00\x33unknown!")
               + _lsa(0x2001, struct.pack("!I", 0) + struct.pack("!BxHI4s4s", 9, 1, 1,
                                                                 bytes(4), bytes(4)))),
        _ospf6(4, struct.pack("!I", 1) + _lsa(0x2003, struct.pack("!I", 5)
                                              + _prefix("2001:db8::", 130))),
        _ospf6(4, struct.pack("!I", 1) + _lsa(0x2003, struct.pack("!I", 5)
                                              + _prefix("2001:db8::", 64)[:6])),
        _ospf6(4, struct.pack("!I", 1) + _lsa(0x4005, struct.pack("!I", 0x02000000)
                                              + _prefix("2001:db8::", 32) + bytes(8))),
        _ospf6(4, struct.pack("!I", 2) + _lsa(0x2002, struct.pack("!I", 0)) + _header(0x2002)[:12]),
        _ospf6(4, struct.pack("!I", 1) + _header(0x2002, size=200)),
        _ospf6(5, _header(0x2001) + _header(0x2002, size=4)),
        _ospf6(1, _hello(), declared=100), _ospf6(9, b""), _ospf6(1, _hello(), version=2),
    ]
