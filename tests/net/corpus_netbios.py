"""NetBIOS over UDP: a name-service query and registration (port 137) and a datagram
service message (port 138), as LANs broadcast them. tcpdump decodes these only when it
was built with SMB support; the test compares with whatever the installed one prints."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, ether, ipv4, udp

__all__ = ["netbios_frames"]

_BROADCAST = "198.19.255.255"


def _encoded(name: bytes) -> bytes:
    """A NetBIOS name in its first-level encoding (two letters a byte)."""
    padded = name.ljust(16, b" ")
    return b"\x20" + bytes(c for b in padded for c in (0x41 + (b >> 4), 0x41 + (b & 15))) + b"\0"


def _nbns(flags: int, *, counts: tuple[int, int, int, int] = (1, 0, 0, 0),
          extra: bytes = b"") -> bytes:
    body = (struct.pack("!HHHHHH", 0x1234, flags, *counts) + _encoded(b"WORKGROUP")
            + struct.pack("!HH", 0x20, 1) + extra)
    return ether(ipv4(A4, _BROADCAST, 17, udp(A4, _BROADCAST, 137, 137, body)), 0x0800,
                 dst=b"\xff" * 6)


def netbios_frames() -> list[bytes]:
    registration = b"\xc0\x0c" + struct.pack("!HHIHH4s", 0x20, 1, 300000, 6, 0,
                                              bytes([198, 18, 0, 1]))
    datagram = (struct.pack("!BBH4sHHH", 0x11, 0x0A, 7, bytes([198, 18, 0, 1]), 138, 80, 0)
                + _encoded(b"HOST") + _encoded(b"WORKGROUP") + b"\xffSMB" + bytes(20))
    return [
        _nbns(0x0110), _nbns(0x2910, counts=(1, 0, 0, 1), extra=registration),
        _nbns(0x8500, counts=(0, 1, 0, 0), extra=registration),
        ether(ipv4(A4, _BROADCAST, 17, udp(A4, _BROADCAST, 138, 138, datagram)), 0x0800,
              dst=b"\xff" * 6),
    ]
