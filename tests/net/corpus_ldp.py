"""LDP PDUs: link and targeted hellos over UDP, and over TCP initialisation (session and
fault-tolerance parameters), keepalives, address lists (IPv4, IPv6, another family),
label mappings with prefix, wildcard and pseudowire FECs (interface parameters: MTU,
description, VCCV, an unknown one), labels, notifications with status, label requests
(dumped), several PDUs in one segment, resets carrying PDUs; damaged versions and
lengths (PDU, message, TLV too short or past their end, a message longer than its PDU)."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, B4, ether, ipv4, tcp, udp

__all__ = ["ldp_frames"]


def _pdu(*messages: bytes, version: int = 1, size: int | None = None) -> bytes:
    body = b"".join(messages)
    return struct.pack("!HH4sH", version, 6 + len(body) if size is None else size,
                       ipaddress.IPv4Address("198.18.0.1").packed, 0) + body


def _message(kind: int, *tlvs: bytes, ident: int = 1, size: int | None = None) -> bytes:
    body = b"".join(tlvs)
    return struct.pack("!HHI", kind, 4 + len(body) if size is None else size, ident) + body


def _tlv(kind: int, value: bytes, *, size: int | None = None) -> bytes:
    return struct.pack("!HH", kind, len(value) if size is None else size) + value


def _ip(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def _over_udp(pdu: bytes) -> bytes:
    return ether(ipv4(A4, "224.0.0.2", 17, udp(A4, "224.0.0.2", 646, 646, pdu), ttl=1),
                 0x0800)


def _over_tcp(data: bytes, *, reply: bool = False, flags: int = 0x18) -> bytes:
    ports = (646, 40000) if reply else (40000, 646)
    return ether(ipv4(A4, B4, 6, tcp(A4, B4, *ports, 1000, 2000, flags, data=data)), 0x0800)


def ldp_frames() -> list[bytes]:
    hello = _message(0x0100, _tlv(0x0400, struct.pack("!HH", 15, 0)),
                     _tlv(0x0401, _ip("198.18.0.1")), _tlv(0x0402, struct.pack("!I", 9)))
    pw = (struct.pack("!HBII", 0x8005, 4 + 4 + 6 + 4 + 3, 1, 100)
          + bytes([1, 4]) + struct.pack("!H", 1500) + bytes([3, 6]) + b"wan\x01"
          + bytes([0x0C, 4, 3, 6]) + bytes([9, 3, 7]))
    return [
        _over_udp(_pdu(hello)),
        _over_udp(_pdu(_message(0x0100, _tlv(0xC400, struct.pack("!HH", 45, 0xC000)),
                                _tlv(0x0403, _ip("2001:db8::1"))))),
        _over_tcp(_pdu(_message(0x0200, _tlv(0x0500, struct.pack("!HHBBHI", 1, 180, 0, 0,
                                                                  0xC000, 0)),
                                _tlv(0x0503, struct.pack("!HHII", 0x800B, 0, 120000, 0)),
                                _tlv(0x0503, struct.pack("!HHII", 0x0004, 0, 0, 5)),
                                _tlv(0x0601, struct.pack("!H", 9000))))),
        _over_tcp(_pdu(_message(0x0201)) + _pdu(_message(0x0201, ident=2)), reply=True),
        _over_tcp(_pdu(_message(0x0300, _tlv(0x0101, struct.pack("!H", 1) + _ip("198.18.0.1")
                                             + _ip("198.19.0.1") + b"\x01\x02")),
                       _message(0x0300, _tlv(0x0101, struct.pack("!H", 2) + _ip("2001:db8::5"))),
                       _message(0x0301, _tlv(0x0101, struct.pack("!H", 12) + b"at")))),
        _over_tcp(_pdu(
            _message(0x0400, _tlv(0x0100, struct.pack("!BHB", 2, 1, 15) + _ip("198.18.0.0")[:2]),
                     _tlv(0x0200, struct.pack("!I", 0xFFF00010))),
            _message(0x0400, _tlv(0x0100, struct.pack("!BHB", 2, 2, 33) + bytes(
                [0x20, 0x01, 0x0D, 0xB8, 0xFF]))),
            _message(0x0400, _tlv(0x0100, struct.pack("!BHB", 2, 1, 40) + bytes(5)),
                     _tlv(0x0100, struct.pack("!BHB", 2, 7, 8) + b"\x01"),
                     _tlv(0x0100, b"\x01"), _tlv(0x0100, b"\x03\x00"), _tlv(0x0100, b"\x09")),
            _message(0x0402, _tlv(0x0100, b"\x80" + pw)),
            _message(0x0402, _tlv(0x0100, b"\x80" + struct.pack("!HBI", 4, 0, 7)),
                     _tlv(0x0100, b"\x80" + struct.pack("!HBII", 4, 2, 7, 8)),
                     _tlv(0x0100, b"\x80" + struct.pack("!HBI", 4, 9, 7)),
                     _tlv(0x0100, b"\x80" + struct.pack("!HBII", 4, 30, 7, 8) + bytes(4)),
                     _tlv(0x0100, b"\x80\x00\x04\x00\x09")))),
        _over_tcp(_pdu(_message(0x0001, _tlv(0x0300, struct.pack("!II", 0x80000009, 77)),
                                _tlv(0x0300, struct.pack("!II", 0x4000000A, 0)),
                                _tlv(0x0103, b"\x05"), _tlv(0x7FFF, b"xyzw")),
                       _message(0x0401, _tlv(0x0100, b"\x01")),
                       _message(0x7123, b"??"))),
        _over_tcp(_pdu(_message(0x0200, _tlv(0x0500, bytes(4)), _tlv(0x0200, b""),
                                _tlv(0x0401, bytes(40))))),
        _over_udp(_pdu(hello, version=2)), _over_udp(_pdu(hello, size=4)),
        _over_udp(_pdu(_message(0x0100, size=2))),
        _over_udp(_pdu(_message(0x0100, _tlv(0x0400, b"\0\0\0\0", size=40)))),
        _over_udp(_pdu(hello, size=6 + len(hello) - 6) + _pdu(hello)),
        _over_udp(_pdu(hello)[:-4] + b"\0\0\0\0" * 3),
        _over_udp(_pdu(_message(0x0100, size=200), bytes(10))),
        _over_tcp(_pdu(_message(0x0201)), flags=0x14),   # resets: -v shows their data
        _over_tcp(_pdu(hello) + b"\x80\xff", flags=0x04),
    ]
