"""Multiple spanning tree (802.1s) BPDUs with no, one and three MSTIs, and shortest path
bridging (802.1aq) ones, beside damaged ones: a version 1 length, a version 3 length
beyond the BPDU, a short SPB part; names with odd bytes and of the full 32 bytes."""

from __future__ import annotations

import struct

from tests.net.corpus import dot3

__all__ = ["mstp_frames"]

_STP_MAC = bytes.fromhex("0180c2000000")


def _bridge(priority: int, last: int) -> bytes:
    return struct.pack("!H", priority) + bytes([0, 0x1B, 0x21, 0, 0, last])


def _msti(number: int, flags: int, cost: int, hops: int) -> bytes:
    return (bytes([flags]) + _bridge(0x8000 | number, number & 0xFF) + struct.pack("!I", cost)
            + bytes([0x70, 0x80, hops]))


def _bpdu(version: int, mstis: bytes = b"", *, name: bytes = b"region-one",
          v1_length: int = 0, v3_extra: int = 0, flags: int = 0x7E, tail: bytes = b"") -> bytes:
    body = (struct.pack("!HBBB", 0, version, 2, flags) + _bridge(0x8000, 1)
            + struct.pack("!I", 20000) + _bridge(0x9000, 2) + struct.pack("!H", 0x8001)
            + struct.pack("!HHHH", 256, 20 * 256, 2 * 256, 15 * 256 + 128)
            + bytes([v1_length]))
    v3 = (bytes([0]) + name.ljust(32, b"\0")[:32] + struct.pack("!H", 7)
          + bytes(range(16)) + struct.pack("!I", 2000) + _bridge(0xA000, 3) + bytes([20])
          + mstis)
    frame = body + struct.pack("!H", len(v3) + v3_extra) + v3 + tail
    return dot3(bytes([0x42, 0x42, 0x03]) + frame, dst=_STP_MAC)


def _spb(size: int = 85, agreement: int = 0xEC) -> bytes:
    part = (bytes([0]) + b"aux-region".ljust(32, b"\0") + struct.pack("!H", 3)
            + bytes(range(32, 48)) + bytes([agreement, 0, 0x21, 0x43]) + struct.pack("!H", 9)
            + bytes(8) + bytes(range(100, 120)))
    return struct.pack("!H", size) + part[:size]


def mstp_frames() -> list[bytes]:
    three = (_msti(1, 0x7C, 10, 19) + _msti(2, 0x01, 20, 18)
             + _msti(4095, 0xFF, 0xFFFFFFFF, 0))
    return [
        _bpdu(3),
        _bpdu(3, _msti(10, 0x3C, 2000, 20), flags=0x01),
        _bpdu(3, three, name=b"\x01caf\xe9 region with a name of 32b"),
        _bpdu(4, _msti(5, 0x78, 5, 5), tail=_spb()),
        _bpdu(4, tail=_spb(agreement=0x13)),
        _bpdu(3, v1_length=1),
        _bpdu(3, v3_extra=40),
        _bpdu(4, tail=_spb(size=60)),
        _bpdu(4),
        _bpdu(3, mstis=bytes(15)),      # part of an MSTI: not one
    ]
