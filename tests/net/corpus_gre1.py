"""PPTP's enhanced GRE (version 1): data packets carrying PPP (LCP, IP), acknowledgement
only packets, odd flags, other protocols inside, and GRE versions tcpdump refuses."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, B4, ether, ipv4, udp

__all__ = ["gre1_frames"]


def _gre1(flags: int, proto: int, fields: bytes, payload: bytes = b"") -> bytes:
    body = struct.pack("!HH", flags | 1, proto) + fields + payload
    return ether(ipv4(A4, B4, 47, body), 0x0800)


def gre1_frames() -> list[bytes]:
    inner = ipv4("10.0.0.1", "10.0.0.2", 17, udp("10.0.0.1", "10.0.0.2", 1, 2, b"pptp"))
    lcp = b"\xff\x03\xc0\x21" + struct.pack("!BBH", 9, 1, 8) + b"\x00\x00\x00\x00"
    key = struct.pack("!HH", 0x0040, 7)
    return [
        _gre1(0x3080, 0x880B, key + struct.pack("!II", 5, 4), b"\xff\x03\x00\x21" + inner),
        _gre1(0x3000, 0x880B, key + struct.pack("!I", 6), b"\x21" + inner),
        _gre1(0x3000, 0x880B, key + struct.pack("!I", 7), lcp),
        _gre1(0x2080, 0x880B, key + struct.pack("!I", 8)),
        _gre1(0x2000, 0x880B, key),
        _gre1(0x3000, 0x0800, key + struct.pack("!I", 9), inner),
        _gre1(0xB000, 0x880B, key + struct.pack("!I", 10), b"\x21" + inner),
        ether(ipv4(A4, B4, 47, struct.pack("!HH", 2, 0x0800) + inner), 0x0800),
        ether(ipv4(A4, B4, 47, struct.pack("!HH", 7, 0x0800)), 0x0800),
    ]
