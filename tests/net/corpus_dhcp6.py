"""DHCPv6 messages of every type (and an unknown one) between ports 546 and 547, relay
messages (one relaying a whole solicit), messages too short for their transaction id,
and -v's options: DUIDs of each type, identity associations with addresses and prefixes
inside, requested options, preference, elapsed time, authentication (delayed and
reconfigure), status codes, address and domain lists, lease queries, remote and
interface ids, NTP servers, AFTR names, time zones; options of wrong sizes, an option
longer than its message."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import LL6, MAC_A, ether, ipv6, udp

__all__ = ["dhcp6_frames"]


def _dhcp6(body: bytes, *, sport: int = 546, dport: int = 547) -> bytes:
    return ether(ipv6(LL6, "ff02::1:2", 17, udp(LL6, "ff02::1:2", sport, dport, body)), 0x86DD)


def _option(code: int, value: bytes, *, size: int | None = None) -> bytes:
    return struct.pack("!HH", code, len(value) if size is None else size) + value


def _ip(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def _name(*labels: bytes) -> bytes:
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def _message(kind: int, *options: bytes) -> bytes:
    return struct.pack("!I", kind << 24 | 0x00ABCDEF) + b"".join(options)


def dhcp6_frames() -> list[bytes]:
    client_id = struct.pack("!HH", 1, 10) + bytes(10)
    llt = _option(1, struct.pack("!HHI", 1, 1, 700000000) + MAC_A)
    address = _option(5, _ip("2001:db8::10") + struct.pack("!II", 3600, 7200)
                      + _option(13, struct.pack("!H", 0) + b"ok"))
    prefix = _option(26, struct.pack("!IIB", 1800, 3600, 56) + _ip("2001:db8:ff00::"))
    solicit = _message(1, llt, _option(8, struct.pack("!H", 0)), _option(6, struct.pack(
        "!HHHH", 23, 24, 56, 999)), _option(3, struct.pack("!III", 1, 0, 0)), _option(14, b""))
    delayed = struct.pack("!BBBQ", 2, 1, 0, 5) + b"realm" + struct.pack("!I", 9) + bytes(16)
    reconfigure = struct.pack("!BBBQ", 3, 1, 0, 6) + b"\x02" + bytes(range(16))
    return [
        *[_dhcp6(struct.pack("!I", kind << 24 | 0xABCDEF) + client_id) for kind in range(17)],
        _dhcp6(struct.pack("!I", 7 << 24 | 1), sport=547, dport=546),
        _dhcp6(b"\x01\x02\x03"), _dhcp6(b""),
        _dhcp6(solicit),
        _dhcp6(_message(7, _option(2, struct.pack("!HI", 2, 9) + b"vendor"),
                        _option(1, struct.pack("!HH", 3, 1) + MAC_A),
                        _option(1, struct.pack("!H", 9)), _option(2, b"\x00\x01\x00"),
                        _option(3, struct.pack("!III", 7, 1800, 2880) + address),
                        _option(25, struct.pack("!III", 8, 0, 0) + prefix),
                        _option(4, struct.pack("!I", 4) + address), _option(7, b"\xff"),
                        _option(13, struct.pack("!H", 6) + b"none"),
                        _option(13, struct.pack("!H", 77)), _option(13, struct.pack("!H", 300)),
                        _option(23, _ip("2001:db8::53") + _ip("2001:db8::54")),
                        _option(24, _name(b"example", b"test") + _name(b"lab")),
                        _option(21, _name(b"sip", b"example", b"test")),
                        _option(31, _ip("2001:db8::123")), _option(32, struct.pack("!I", 86400)),
                        _option(20, b""), _option(12, _ip("2001:db8::1"))),
               sport=547, dport=546),
        _dhcp6(_message(10, _option(19, b"\x05"), _option(19, b"\x0b"), _option(19, b"\x07"),
                        _option(11, delayed), _option(11, reconfigure),
                        _option(11, struct.pack("!BBBQ", 2, 9, 1, 0) + b"short"),
                        _option(11, struct.pack("!BBBQ", 3, 1, 0, 0) + b"\x01" + bytes(16)),
                        _option(11, struct.pack("!BBBQ", 3, 1, 0, 0) + b"\x09" + bytes(16)),
                        _option(11, struct.pack("!BBBQ", 7, 1, 0, 0)),
                        _option(11, struct.pack("!BBBQ", 2, 1, 0, 0))),
               sport=547, dport=546),
        _dhcp6(_message(14, _option(44, b"\x01" + _ip("2001:db8::10") + _option(6, b"\0\x2e")),
                        _option(44, b"\x07" + _ip("::")),
                        _option(45, llt + _option(46, struct.pack("!I", 30))),
                        _option(47, _ip("2001:db8::1") + bytes(range(20))),
                        _option(48, _ip("2001:db8::2")), _option(37, struct.pack("!I", 9)
                                                                 + b"remote-identity"),
                        _option(18, b"eth0"), _option(38, b"subscriber-12345"))),
        _dhcp6(_message(7, _option(56, _option(1, _ip("2001:db8::123")) + _option(2, b"\0\1")
                                   + _option(3, _name(b"ntp", b"example"))
                                   + _option(9, b"")),
                        _option(64, _name(b"aftr", b"example", b"test")),
                        _option(64, b"\x09aftr\0"), _option(41, b"EST5EDT\0xx"),
                        _option(42, b"Europe/Zurich"), _option(112, b"https://mud/\x01"),
                        _option(41, b"UTC"), _option(8, b"\0"), _option(5, bytes(10)),
                        _option(6, b"\0"), _option(23, bytes(15)), _option(99, b"??")),
               sport=547, dport=546),
        _dhcp6(struct.pack("!BB", 12, 0) + _ip("2001:db8::1") + _ip(LL6)
               + _option(18, b"port7") + _option(9, solicit)),
        _dhcp6(struct.pack("!BB", 13, 1) + _ip("::") + _ip(LL6)
               + _option(9, _message(7, llt)[:9] + b"\0\x63")),
        _dhcp6(_message(1, llt, _option(8, b"\0\0", size=40))),
        _dhcp6(_message(1, _option(3, struct.pack("!III", 1, 0, 0) + _option(5, bytes(8),
                                                                          size=30)))),
    ]
