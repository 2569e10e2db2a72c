"""RIPv1 and RIPv2 messages (requests, responses with many routes, every command, version
0 and 3, must-be-zero fields set, other address families, contiguous and odd netmasks,
next hops, simple and MD5 authentication with its trailer, an unknown authentication
type, entries longer than the message) and RIPng requests and responses (the whole-table
request, tags, metrics, a length that is not whole entries, a wrong version)."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, A6, ether, ipv4, ipv6, udp

__all__ = ["rip_frames"]

_RIP_GROUP, _RIPNG_GROUP = "224.0.0.9", "ff02::9"


def _rip(command: int, version: int, body: bytes = b"") -> bytes:
    message = struct.pack("!BBH", command, version, 0) + body
    return ether(ipv4(A4, _RIP_GROUP, 17, udp(A4, _RIP_GROUP, 520, 520, message), ttl=1),
                 0x0800)


def _v1(family: int, address: str, metric: int, *, mbz: int = 0) -> bytes:
    return struct.pack("!HH4sIII", family, mbz, ipaddress.IPv4Address(address).packed, 0, 0,
                       metric)


def _v2(address: str, mask: int, metric: int, *, tag: int = 0, hop: str = "0.0.0.0",
        family: int = 2) -> bytes:
    return struct.pack("!HH4sI4sI", family, tag, ipaddress.IPv4Address(address).packed, mask,
                       ipaddress.IPv4Address(hop).packed, metric)


def _ripng(command: int, body: bytes, *, version: int = 1) -> bytes:
    message = struct.pack("!BBH", command, version, 0) + body
    return ether(ipv6(A6, _RIPNG_GROUP, 17, udp(A6, _RIPNG_GROUP, 521, 521, message),
                      hop_limit=255), 0x86DD)


def _route6(prefix: str, length: int, metric: int, tag: int = 0) -> bytes:
    return ipaddress.IPv6Address(prefix).packed + struct.pack("!HBB", tag, length, metric)


def rip_frames() -> list[bytes]:
    md5 = (struct.pack("!HHHBBIII", 0xFFFF, 3, 64, 1, 16, 1234567, 0, 0)
           + _v2("198.18.0.0", 0xFFFF0000, 1)
           + struct.pack("!HH", 0xFFFF, 1) + bytes(range(16)))
    return [
        _rip(1, 1, _v1(0, "0.0.0.0", 16)),
        _rip(2, 1, _v1(2, "198.18.0.0", 1) + _v1(2, "198.19.0.0", 15)
             + _v1(2, "198.18.7.0", 3, mbz=1) + _v1(7, "198.18.8.0", 2)),
        _rip(2, 1, _v1(2, "198.18.0.0", 1) + b"\x00\x02\x00"),
        _rip(1, 2, _v2("0.0.0.0", 0, 16, family=0)),
        _rip(2, 2, _v2("198.18.0.0", 0xFFFE0000, 1) + _v2("198.18.10.0", 0xFFFFFF00, 4,
                                                          tag=0x1234, hop="198.18.0.254")
             + _v2("198.19.0.0", 0xFF00FF00, 2) + _v2("198.19.1.0", 0xFFFFFFFF, 16,
                                                     family=24)),
        _rip(2, 2, struct.pack("!HH", 0xFFFF, 2) + b"s3cr\x01t\0\0\0\0\0\0\0\0\0\0"
             + _v2("198.18.0.0", 0xFFFF0000, 1)),
        _rip(2, 2, struct.pack("!HH", 0xFFFF, 2) + b"sixteen-letters!"),
        _rip(2, 2, md5),
        _rip(2, 2, struct.pack("!HH", 0xFFFF, 9) + bytes(range(10))),
        _rip(2, 2, _v2("198.18.0.0", 0xFFFF0000, 1) + b"\xff\xff\x00\x03" + bytes(8)),
        _rip(2, 2, _v2("198.18.0.0", 0xFFFF0000, 1) + b"\x00\x07\x00\x00" + bytes(6)),
        _rip(1, 3, _v1(0, "0.0.0.0", 16)), _rip(2, 0, bytes(range(20))),
        *[_rip(command, 2, bytes(range(8))) for command in (3, 4, 5, 6, 9)],
        _rip(2, 2),
        _ripng(1, _route6("::", 0, 16)),
        _ripng(1, _route6("2001:db8:1::", 48, 0) + _route6("2001:db8:2::", 64, 1, tag=7)),
        _ripng(2, _route6("2001:db8:1::", 48, 1) + _route6("2001:db8:2::", 64, 0, tag=9)
               + _route6("2001:db8::", 32, 16, tag=65535)),
        _ripng(2, _route6("2001:db8:1::", 48, 1) + b"\x20\x01\x0d"),
        _ripng(2, b""), _ripng(2, _route6("::", 0, 16), version=2),
        _ripng(7, _route6("::", 0, 16)),
    ]
