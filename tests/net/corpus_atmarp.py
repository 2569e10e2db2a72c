"""ARP with the hardware types whose addresses are not MAC addresses: ATMARP (RFC 2225)
requests, replies, inverse requests and replies, NAKs, with and without subaddresses,
wrong protocol lengths; Frame Relay inverse ARP with 2-, 3- and 4-byte Q.922 addresses
and invalid ones."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, B4, ether

__all__ = ["atmarp_frames"]

_NSAP = bytes.fromhex("47000580ffe1000000f21a2d0c0020481a2d0c00")


def _ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def _atm(op: int, sha: bytes, ssa: bytes, spa: bytes, tha: bytes, tsa: bytes, tpa: bytes,
         *, pro: int = 0x0800, e164: int = 0) -> bytes:
    header = struct.pack("!HHBBHBBBB", 19, pro, len(sha) | e164, len(ssa), op, len(spa),
                         len(tha), len(tsa), len(tpa))
    return ether(header + sha + ssa + spa + tha + tsa + tpa, 0x0806)


def _frelay(op: int, sha: bytes, tha: bytes, *, pro: int = 0x0800, pln: int = 4) -> bytes:
    spa, tpa = _ip(A4)[:pln], _ip(B4)[:pln]
    header = struct.pack("!HHBBH", 15, pro, len(sha), pln, op)
    return ether(header + sha + spa + tha + tpa, 0x0806)


def atmarp_frames() -> list[bytes]:
    sub = bytes(range(20))
    return [
        _atm(1, _NSAP, b"", _ip(A4), b"", b"", _ip(B4)),
        _atm(1, _NSAP, sub, _ip(A4), _NSAP, b"", _ip(B4), e164=0x40),
        _atm(2, _NSAP, sub, _ip(B4), _NSAP, b"", _ip(A4)),
        _atm(2, b"", b"", _ip(B4), _NSAP, b"", _ip(A4)),
        _atm(8, _NSAP, b"", b"", _NSAP, sub, b""),
        _atm(9, _NSAP, b"", _ip(A4), _NSAP, b"", _ip(B4)),
        _atm(10, b"", b"", _ip(A4), b"", b"", _ip(B4)),
        _atm(5, _NSAP, b"", _ip(A4), b"", b"", _ip(B4)),
        _atm(1, _NSAP, b"", _ip(A4)[:2], b"", b"", _ip(B4)),
        _atm(1, _NSAP, b"", _ip(A4), b"", b"", _ip(B4), pro=0x86DD),
        _frelay(8, bytes([0x18, 0x41]), bytes([0x04, 0x01])),
        _frelay(9, bytes([0x18, 0x40, 0x01]), bytes([0x18, 0x40, 0x02, 0x03])),
        _frelay(1, bytes([0x19, 0x41]), bytes([0x18, 0x40])),
        _frelay(2, bytes([0x18]), b""),
        _frelay(2, bytes([0x18, 0x40, 0x02, 0x02]), bytes(4)),
        _frelay(8, bytes([0x18, 0x41]), bytes([0x04, 0x01]), pln=2),
        _frelay(5, bytes([0x18, 0x41]), bytes([0x04, 0x01])),
        ether(struct.pack("!HHBBH", 1, 0x0800, 6, 4, 5) + bytes(6) + _ip(A4) + bytes(6)
              + _ip(B4), 0x0806),     # an unknown operation: dumped even with -q
    ]
