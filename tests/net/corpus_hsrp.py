"""HSRP version 1 hellos, coups and resigns in every state, with and without
authentication text, a reserved byte set, unknown opcodes and states, version 2, and a
message shorter than its fields."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, ether, ipv4, udp

__all__ = ["hsrp_frames"]


def _hsrp(op: int, state: int, *, auth: bytes = b"cisco", version: int = 0,
          reserved: int = 0, hello: int = 3, hold: int = 10, cut: int | None = None) -> bytes:
    body = (struct.pack("!BBBBBBBB", version, op, state, hello, hold, 100, 1, reserved)
            + auth.ljust(8, b"\0")[:8] + bytes([198, 19, 0, 1]))
    body = body[:cut]
    return ether(ipv4(A4, "224.0.0.2", 17, udp(A4, "224.0.0.2", 1985, 1985, body)), 0x0800)


def hsrp_frames() -> list[bytes]:
    return [
        *[_hsrp(0, state) for state in (0, 1, 2, 4, 8, 16, 3)],
        _hsrp(1, 16, auth=b"\x01\xe9long-password"), _hsrp(2, 8, auth=b""),
        _hsrp(5, 16, reserved=9, hello=200, hold=4000 % 256),
        _hsrp(0, 16, version=1), _hsrp(0, 16, cut=12),
    ]
