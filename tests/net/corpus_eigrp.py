"""EIGRP hellos, updates, queries and replies over IPv4 and IPv6: every header flag,
parameters, software versions, IPv4 internal and external routes (prefixes of 0 to 32
bits, an illegal one), AppleTalk routes and cable setup, TLVs tcpdump dumps, too-short
and overlong TLVs, version 1; and OTV frames (Ethernet inside, a short header)."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, A6, B4, MAC_A, MAC_B, arp, ether, ipv4, ipv6, udp

__all__ = ["eigrp_frames"]


def _eigrp(opcode: int, tlvs: bytes, *, flags: int = 0, version: int = 2,
           v6: bool = False) -> bytes:
    packet = struct.pack("!BBHIIIHH", version, opcode, 0xABCD, flags, 7, 3, 0, 100) + tlvs
    if v6:
        return ether(ipv6(A6, "ff02::a", 88, packet), 0x86DD)
    return ether(ipv4(A4, "224.0.0.10", 88, packet, ttl=2), 0x0800)


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, 4 + len(value)) + value


def _metrics(delay: int = 2560000, bandwidth: int = 256) -> bytes:
    return struct.pack("!II", delay, bandwidth) + (1500).to_bytes(3, "big") + bytes(
        [1, 255, 1]) + bytes(2)


def _internal(prefix: str, plen: int, hop: str = "0.0.0.0") -> bytes:
    dest = ipaddress.IPv4Address(prefix).packed[:(plen + 7) // 8] or b"\0"
    return _tlv(0x0102, ipaddress.IPv4Address(hop).packed + _metrics() + bytes([plen]) + dest)


def _external(prefix: str, plen: int) -> bytes:
    return _tlv(0x0103, ipaddress.IPv4Address("198.18.0.9").packed
                + ipaddress.IPv4Address("198.18.0.7").packed + struct.pack(
                    "!IIIHBB", 65001, 0xCAFE, 20, 0, 6, 0x40) + _metrics(100, 10000)
                + bytes([plen]) + ipaddress.IPv4Address(prefix).packed[:(plen + 7) // 8])


def _otv(body: bytes, *, flags: int = 0x08) -> bytes:
    inner = ether(arp(1, MAC_A, A4, bytes(6), B4), 0x0806, src=MAC_B, dst=MAC_A)
    message = bytes([flags]) + (5).to_bytes(3, "big") + (77).to_bytes(3, "big") + b"\0"
    return ether(ipv4(A4, B4, 17, udp(A4, B4, 40000, 8472, (message + inner)[:body[0]]
                                      if body else message + inner)), 0x0800)


def eigrp_frames() -> list[bytes]:
    hello = _tlv(1, bytes([1, 0, 1, 0, 0, 0]) + struct.pack("!H", 15)) + _tlv(4, bytes(
        [12, 4, 1, 2]))
    return [
        _eigrp(5, hello), _eigrp(5, hello, v6=True, flags=0x0F),
        _eigrp(1, _internal("198.18.0.0", 15) + _internal("198.18.5.0", 24, "198.18.0.2")
               + _internal("0.0.0.0", 0) + _internal("198.18.5.7", 32), flags=0x01),
        _eigrp(3, _external("198.19.0.0", 16) + _external("198.19.128.0", 17)),
        _eigrp(4, _tlv(0x0102, bytes(20) + bytes([33, 1])) + _tlv(0x0103, bytes(10))),
        _eigrp(1, _tlv(0x0204, struct.pack("!HHI", 100, 200, 42))
               + _tlv(0x0202, bytes([0, 100, 0, 5]) + _metrics() + struct.pack("!HH", 100, 101))
               + _tlv(0x0202, bytes(4) + _metrics() + struct.pack("!HH", 7, 7))
               + _tlv(0x0203, bytes([0, 9, 0, 1]) + struct.pack("!IIIBBH", 77, 65002, 5, 4, 0,
                                                                  300)
                      + _metrics() + struct.pack("!HH", 1, 2))),
        _eigrp(5, _tlv(2, bytes(range(20))) + _tlv(3, b"\x04" + bytes(4)) + _tlv(5, bytes(4))
               + _tlv(0x0302, bytes(8)) + _tlv(0x0999, b"??")),
        _eigrp(7, _tlv(1, bytes(3)) + _tlv(4, bytes(2)), flags=0xF0),
        _eigrp(5, hello + struct.pack("!HH", 1, 40) + bytes(4)),
        _eigrp(5, hello + struct.pack("!HH", 1, 2) + bytes(4)),
        _eigrp(9, hello), _eigrp(5, hello, version=1), _eigrp(5, b"")[:14 + 20 + 10],
        _otv(b""), _otv(b"", flags=0x01), _otv(bytes([6])), _otv(bytes([12])),
    ]
