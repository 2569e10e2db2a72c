"""PIMv2 messages of every type tcpdump decodes under -v, built byte by byte: Hello with
each option (address lists too), Register (IPv4, IPv6 and null-header packets inside),
Register-Stop, Join/Prune with joined and pruned sources, Graft and its acknowledgement,
Bootstrap, Assert, Candidate-RP, Prune Refresh, DF Election, over IPv4 and IPv6, with
RFC 2117's bare addresses and damaged encodings."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import (
    A4,
    A6,
    B4,
    B6,
    C4,
    _pseudo6,
    checksum,
    ether,
    icmp,
    ipv4,
    ipv6,
    udp,
)

__all__ = ["pim_frames"]


def _unicast(text: str) -> bytes:
    raw = ipaddress.ip_address(text).packed
    return bytes([1 if len(raw) == 4 else 2, 0]) + raw


def _group(text: str, mask: int | None = None, flags: int = 0) -> bytes:
    raw = ipaddress.ip_address(text).packed
    return bytes([1 if len(raw) == 4 else 2, 0, flags,
                  8 * len(raw) if mask is None else mask]) + raw


def _message(kind: int, body: bytes, *, rsv: int = 0, src: str = A4, dst: str = B4,
             good: bool = True) -> bytes:
    """A PIMv2 message in its IP packet, checksummed as tcpdump checks it."""
    message = bytes([0x20 | kind, rsv, 0, 0]) + body
    covered = message[:8] if kind == 1 else message
    pseudo = _pseudo6(src, dst, 103, len(covered)) if ":" in src else b""
    value = checksum(pseudo + covered) ^ (0 if good else 0x0101)
    message = message[:2] + struct.pack("!H", value) + message[4:]
    if ":" in src:
        return ether(ipv6(src, dst, 103, message), 0x86DD)
    return ether(ipv4(src, dst, 103, message), 0x0800)


def _option(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value


def pim_frames() -> list[bytes]:
    hello = (_option(1, struct.pack("!H", 105)) + _option(19, struct.pack("!I", 1))
             + _option(18, b"") + _option(22, b"") + _option(21, bytes([1, 60, 0, 0]))
             + _option(21, bytes([1, 0, 0, 7]))
             + _option(24, _unicast(C4) + _unicast("198.19.2.2"))
             + _option(65001, _unicast(C4)) + _option(99, b"\x01\x02\x03"))
    inner4 = ipv4("10.0.0.1", "239.1.1.1", 17, udp("10.0.0.1", "239.1.1.1", 5000, 5001, b"m"))
    inner6 = ipv6(A6, "ff0e::1", 17, udp(A6, "ff0e::1", 5000, 5001, b"m"))
    join = (_unicast(C4) + struct.pack("!BBH", 0, 2, 210)
            + _group("239.1.1.1") + struct.pack("!HH", 2, 1)
            + _group(A4, flags=7) + _group(B4, 24, flags=4) + _group(C4, flags=0x0D)
            + _group("239.2.2.2", 16, flags=1) + struct.pack("!HH", 0, 1)
            + _group("0.0.0.0", 0, flags=6))
    graft_ack = struct.pack("!BBH", 0, 1, 0) + _group("239.1.1.1") + struct.pack("!HH", 1, 0) \
        + _group(A4)
    bootstrap = (struct.pack("!HBB", 0x1234, 30, 192) + _unicast(C4)
                 + _group("224.0.0.0", 4) + bytes([2, 2, 0, 0])
                 + _unicast(A4) + struct.pack("!HBB", 150, 1, 0)
                 + _unicast(B4) + struct.pack("!HBB", 0, 7, 0)
                 + _group("239.0.0.0", 8) + bytes([1, 0, 0, 0]))
    frames = [
        _message(0, hello), _message(0, _option(1, b"\x01")),
        _message(0, _option(2, struct.pack("!HH", 0x8000 | 500, 2500))),
        _message(0, _option(19, b"\x01\x02")), _message(0, _option(20, b"\x01")),
        _message(0, _option(24, _unicast(C4) + b"\x07\x00")),
        _message(1, struct.pack("!I", 0) + inner4),
        _message(1, struct.pack("!I", 0x80000000) + inner4),
        _message(1, struct.pack("!I", 0x40000000) + bytes(20)),
        _message(1, struct.pack("!I", 0xC0000000) + b"\x50" + bytes(19)),
        _message(1, struct.pack("!I", 0)),
        _message(1, struct.pack("!I", 0) + inner6, src=A6, dst=B6),
        _message(2, _group("239.1.1.1") + _unicast("10.0.0.1")),
        _message(3, join), _message(3, join[:6] + struct.pack("!BBH", 0, 0, 0xFFFF)),
        _message(6, join), _message(7, graft_ack), _message(3, join[:20]),
        _message(4, bootstrap), _message(4, bootstrap[:30]),
        _message(5, _group("239.1.1.1") + _unicast(C4) + struct.pack("!II", 0x80000065, 20)),
        _message(5, _group("239.1.1.1") + _unicast(C4) + struct.pack("!II", 101, 20)),
        _message(8, struct.pack("!BBH", 2, 5, 150) + _unicast(C4) + _group("239.0.0.0", 8)
                 + _group("232.0.0.0", 8, flags=1)),
        _message(8, struct.pack("!BBH", 3, 5, 150) + _unicast(C4) + _group("239.0.0.0", 8)),
        _message(9, _unicast(A4) + _group("239.1.1.1") + _unicast(C4)
                 + struct.pack("!H", 210)),
        _message(10, _unicast(C4) + struct.pack("!II", 1, 2), rsv=0x10),
        _message(10, _unicast(C4) + struct.pack("!II", 1, 2) + _unicast(A4)
                 + struct.pack("!IIH", 3, 4, 50), rsv=0x30),
        _message(10, _unicast(C4) + struct.pack("!II", 1, 2) + _unicast(A4)
                 + struct.pack("!II", 3, 4), rsv=0x40),
        _message(10, _unicast(C4) + struct.pack("!II", 1, 2), rsv=0x90),
        _message(11, bytes(8)), _message(12, b""), _message(5, bytes(4)),
        _message(2, bytes([3, 0]) + bytes(8)), _message(2, bytes([1, 9]) + bytes(8)),
        _message(3, join, good=False), _message(1, struct.pack("!I", 0) + inner4, good=False),
        # RFC 2117: bare addresses of the length the header gives
        _message(3, ipaddress.IPv4Address(C4).packed + struct.pack("!BBH", 0, 1, 60)
                 + bytes([0, 0, 0, 32]) + ipaddress.IPv4Address("239.1.1.1").packed
                 + struct.pack("!HH", 1, 0) + bytes([0, 0, 4, 32])
                 + ipaddress.IPv4Address(A4).packed, rsv=4),
        _message(2, bytes(8), rsv=5),
        # over IPv6
        _message(0, hello, src=A6, dst="ff02::d"),
        _message(3, _unicast("fe80::1") + struct.pack("!BBH", 0, 1, 210)
                 + _group("ff0e::1") + struct.pack("!HH", 1, 1) + _group(A6, flags=4)
                 + _group(B6, 64), src=A6, dst="ff02::d"),
        _message(5, _group("ff0e::1") + _unicast(A6) + struct.pack("!II", 1, 2), src=A6,
                 dst=B6),
        # version 1 and a Register carrying an ICMP echo
        ether(ipv4(A4, B4, 103, bytes([0x10, 0, 0, 0]) + bytes(8)), 0x0800),
        _message(1, struct.pack("!I", 0) + ipv4("10.0.0.1", "239.1.1.1", 1,
                                                icmp(8, 0, b"\0\1\0\2"))),
    ]
    return frames
