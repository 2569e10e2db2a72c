"""EGP messages (RFC 904) of every type, code and status tcpdump names and some it does
not, updates with internal and external gateways over class A, B and C networks, and
updates whose reachability data ends early."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, A6, B4, B6, ether, ipv4, ipv6

__all__ = ["egp_frames"]


def _egp(kind: int, code: int, status: int, word: int = 0, net: str | int = 0,
         body: bytes = b"", *, version: int = 2, v6: bool = False) -> bytes:
    tail = (ipaddress.IPv4Address(net).packed if isinstance(net, str)
            else struct.pack("!HH", net, 0))
    message = struct.pack("!BBBBHHHH", version, kind, code, status, 0, 65001, 77, word) + tail
    message += body
    if v6:
        return ether(ipv6(A6, B6, 8, message), 0x86DD)
    return ether(ipv4(A4, B4, 8, message), 0x0800)


def _update(net: str, internal: int, external: int, body: bytes, status: int = 1) -> bytes:
    return _egp(1, 0, status, internal << 8 | external, net, body)


def egp_frames() -> list[bytes]:
    # per gateway: its host part, the count of distances, and per distance the distance,
    # the count of networks, and each network's significant bytes
    class_c = (bytes([5, 2, 1, 2, 10, 172, 16, 3, 1, 192, 168, 7])
               + bytes([9, 1, 4, 1, 224, 1, 2]))
    class_a = (bytes([0, 0, 9, 1, 0, 1, 10]) + bytes([0, 1, 2, 0])
               + bytes([1, 2, 3, 1, 1, 0, 200, 1, 2]))
    frames = [
        *[_egp(3, code, status, 30, 120) for code in range(6) for status in (0, 1, 2, 3, 7, 9)],
        *[_egp(5, code, status) for code in (0, 1, 2) for status in (0, 1, 2, 3)],
        _egp(2, 0, 1, 0, "192.0.2.0"), _egp(2, 0, 9, 0, "10.0.0.0", v6=True),
        *[_egp(8, 0, 2, reason) for reason in (0, 3, 6, 7, 300)],
        _egp(9, 0, 0), _egp(3, 0, 0, version=3),
        _update("192.0.2.0", 1, 1, class_c),
        _update("10.0.0.0", 2, 1, class_a, status=0x82),
        _update("172.16.0.0", 1, 0, bytes([0, 5, 1, 3, 2, 10, 130, 1, 192, 0, 2])),
        _update("240.0.0.0", 1, 0, bytes([1, 2, 3, 4, 1, 1, 1, 10])),
        _update("192.0.2.0", 2, 0, bytes([5, 1, 1, 2, 10])),            # ends early
        _update("192.0.2.0", 1, 0, b""),
        _update("192.0.2.0", 1, 0, bytes([5, 1, 1, 1, 192, 0])),
    ]
    return frames + [_egp(1, 0, 0)[:14 + 20 + 12]]
