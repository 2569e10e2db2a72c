"""ESP in UDP (RFC 3948) on port 4500, NAT keep-alives, short and odd payloads there, and
IPComp headers; over IPv4 and IPv6."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, A6, B4, B6, ether, ipv4, ipv6, udp

__all__ = ["ipsec_frames"]


def _udp(body: bytes, *, sport: int = 4500, dport: int = 4500, v6: bool = False) -> bytes:
    if v6:
        return ether(ipv6(A6, B6, 17, udp(A6, B6, sport, dport, body)), 0x86DD)
    return ether(ipv4(A4, B4, 17, udp(A4, B4, sport, dport, body)), 0x0800)


def ipsec_frames() -> list[bytes]:
    esp = struct.pack("!II", 0xC0FFEE01, 42) + bytes(range(40))
    return [
        _udp(esp), _udp(esp, v6=True, sport=40000), _udp(b"\xff", dport=40000),
        _udp(b"\xfe"), _udp(b"\x01\x02\x03"), _udp(b""), _udp(esp[:8]), _udp(esp[:9]),
        _udp(struct.pack("!II", 1, 0xFFFFFFFF) + b"x" * 3),
        ether(ipv4(A4, B4, 108, struct.pack("!BBH", 4, 0, 0x1234) + bytes(30)), 0x0800),
        ether(ipv6(A6, B6, 108, struct.pack("!BBH", 6, 0, 0xABCD) + bytes(30)), 0x86DD),
        ether(ipv4(A4, B4, 108, b"\x04\x00\x12"), 0x0800),
    ]
