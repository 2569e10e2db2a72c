"""RADIUS messages of every code on each of its ports, carrying every attribute kind tcpdump
decodes: text (tagged, salted, VLAN-named), numbers and their named values (in and out of
range), durations, IPv4/IPv6 addresses and prefixes, vendor attributes (good and bogus),
EAP (identity, notification, NAK, TLS, TTLS, FAST, SIM, success, fragments), ARAP fields,
Error-Cause, location fields, timestamps, and bogus attribute and message lengths."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, B4, ether, ipv4, udp

__all__ = ["radius_frames"]


def _attr(kind: int, value: bytes) -> bytes:
    return bytes([kind, len(value) + 2]) + value


def _num(kind: int, value: int) -> bytes:
    return _attr(kind, struct.pack("!I", value))


def _radius(code: int, attrs: bytes, *, port: int = 1812, length: int | None = None,
            ident: int = 7) -> bytes:
    size = 20 + len(attrs) if length is None else length
    body = struct.pack("!BBH", code, ident, size) + bytes(range(16)) + attrs
    return ether(ipv4(A4, B4, 17, udp(A4, B4, 40000, port, body)), 0x0800)


def _eap(code: int, ident: int, rest: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack("!BBH", code, ident, 4 + len(rest) if size is None else size) + rest


_V6 = ipaddress.IPv6Address("2001:db8::1").packed


def radius_frames() -> list[bytes]:
    login = (_attr(1, b"alice\x01\x7f") + _attr(2, bytes(16)) + _num(4, 0xC6120001)
             + _num(5, 12) + _num(6, 2) + _num(6, 99) + _num(7, 1) + _num(7, 0)
             + _num(8, 0xFFFFFFFF) + _num(8, 0xFFFFFFFE) + _num(8, 0xC6120002)
             + _num(10, 3) + _num(10, 4) + _num(13, 1) + _num(14, 0xFFFFFFFE) + _num(15, 8)
             + _num(15, 9) + _attr(17, b"x") + _attr(18, b"hi\0there") + _num(23, 0xFFFFFFFE)
             + _num(23, 5) + _attr(26, struct.pack("!I", 9) + _attr(1, b"a=b\x02")
                                   + _attr(2, b""))
             + _num(27, 59) + _num(28, 61) + _num(41, 3661) + _num(46, 0) + _num(85, 7200)
             + _num(29, 1) + _num(37, 0) + _num(37, 4) + _num(38, 0) + _num(38, 9)
             + _num(61, 15) + _num(61, 43) + _num(61, 44) + _num(64, 0x0A00000D)
             + _num(64, 0x00000003) + _num(65, 0x01000001) + _num(83, 0x02000005)
             + _num(83, 7) + _num(56, 0x31000064) + _num(56, 0x07000001)
             + _attr(58, b"\x32vlan10") + _attr(58, b"\x40x") + _attr(66, b"\x01host")
             + _attr(67, b"\x00host") + _attr(81, b"group") + _attr(69, b"\x05\x01\x02pw")
             + _attr(69, b"\x40\x01\x02") + _attr(69, b"\x01\x02") + _num(5, 1)[:4])
    account = (_num(40, 1) + _num(40, 15) + _num(40, 16) + _num(45, 4) + _num(49, 23)
               + _num(49, 24) + _num(57, 2) + _num(72, 4) + _num(76, 1) + _num(76, 2)
               + _num(55, 1_700_000_000) + _attr(55, b"\0\0") + _attr(44, b"sess-1")
               + _attr(95, _V6) + _attr(95, bytes(4)) + _attr(97, b"\0\x40" + _V6[:8])
               + _attr(97, b"\0\x80" + _V6[:4]) + _attr(97, b"\0\x81") + _attr(97, b"\0")
               + _attr(123, b"\0\x30" + _V6) + _attr(125, b"\x40" + _V6)
               + _attr(125, b"\x90" + _V6) + _attr(125, b"\x40")
               + _attr(124, struct.pack("!Q", 1 | 1 << 44 | 1 << 49)) + _attr(124, b"\0")
               + _attr(126, b"\x31example.net") + _attr(126, b"\x39x") + _attr(126, b"\x30")
               + _attr(127, struct.pack("!HBB", 3, 1, 0) + struct.pack("!II", 3_900_000_000, 0)
                       + bytes(8) + b"GPS")
               + _attr(127, struct.pack("!HBB", 3, 5, 9) + bytes(17)) + _attr(127, bytes(20))
               + _attr(128, b"\0\x01" + bytes(range(40, 60))) + _attr(128, b"\0\x01")
               + _attr(129, struct.pack("!H", 0x8003) + struct.pack("!II", 3_900_000_000, 5)
                       + b"note") + _attr(129, bytes(10)) + _attr(129, bytes(5))
               + _attr(101, struct.pack("!I", 404)) + _attr(101, struct.pack("!I", 999))
               + _attr(101, b"\0") + _attr(70, bytes(range(16))) + _attr(70, bytes(3))
               + _attr(71, b"\x01\x06" + bytes(range(12))) + _attr(71, b"\0\0" + bytes(12))
               + _attr(71, b"x") + _attr(84, bytes(range(8, 17))) + _attr(84, b"abc")
               + _attr(200, b"unknown") + _attr(0, b"zero") + _attr(94, b"oli")
               + _num(12, 1500)[:5] + _attr(33, b"state"))
    eap = b"".join(_attr(79, m) for m in (
        _eap(2, 1, b"\x01user@example.net"), _eap(1, 2, b"\x01"), _eap(1, 3, b"\x02hello"),
        _eap(1, 3, b"\x02"), _eap(2, 4, b"\x03\x0d\x15\x63"), _eap(2, 4, b"\x03"),
        _eap(1, 5, b"\x0d\x20"), _eap(1, 5, b"\x0d\xa0\0\0\x10\0"), _eap(1, 5, b"\x0d\x80"),
        _eap(1, 6, b"\x15\x21"), _eap(1, 6, b"\x2b\xe1\0\0\0\x09"), _eap(1, 6, b"\x15"),
        _eap(1, 7, b"\x12\x0a"), _eap(1, 7, b"\x17\x63"), _eap(1, 7, b"\x04\x10"),
        _eap(3, 8), _eap(4, 9, b"extra"), _eap(9, 9), _eap(2, 1, size=9),
        _eap(2, 1, b"", size=3), _eap(2, 1), b"\x01")) + _attr(79, b"\x01\x02")
    vendor = (_attr(26, struct.pack("!I", 311) + _attr(7, b"\0\0\0\1"))
              + _attr(26, struct.pack("!I", 123456) + b"\x05\x01")
              + _attr(26, struct.pack("!I", 2636) + b"\x05\x09ab")
              + _attr(26, struct.pack("!I", 46098) + _attr(3, b"")) + _attr(26, b"\0\0\x01"))
    frames = [
        _radius(1, login), _radius(4, account, port=1813), _radius(11, eap, port=1645),
        _radius(2, vendor, port=1646), _radius(43, b"", port=3799),
        *[_radius(code, _attr(18, b"ok"), port=1700) for code in
          (3, 5, 12, 13, 40, 41, 42, 44, 45, 255, 99)],
        _radius(1, _attr(1, b"bob"), length=19), _radius(1, _attr(1, b"bob"), length=200),
        _radius(1, _attr(1, b"bob") + _attr(1, b"x"), length=25),
        _radius(1, _attr(1, b"bob") + b"\x01\x01abc"),
        _radius(1, _attr(1, b"bob") + b"\x01\x09abc"),
        _radius(1, _attr(1, b"bob") + b"\x01"),
    ]
    short = ether(ipv4(A4, B4, 17, udp(A4, B4, 1812, 40000, b"\x01\x02\x00\x14abc")), 0x0800)
    return frames + [short]
