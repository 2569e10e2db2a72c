"""RSVP messages of every type (and a bundle of two), over IPv4 and IPv6, carrying the
objects tcpdump decodes in each of their C-Types: sessions, hops, time values, styles,
filter specs and sender templates, IntServ flowspecs/TSpecs/Adspecs with every parameter,
label requests (GMPLS too), labels, EROs and RROs (and bad subobjects), error specs,
hellos, message IDs, session attributes, fast reroute, detours, class types, properties,
admin status, label sets, S2L, the generalized UNI, capability, restart capability,
objects without a decoder, unknown C-Types; and damaged headers (version, lengths,
objects past the message)."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, B4, ether, ipv4, ipv6

__all__ = ["rsvp_frames"]

_A6, _B6 = "2001:db8::1", "2001:db8::2"


def _v4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def _v6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def _obj(klass: int, ctype: int, body: bytes, *, size: int | None = None) -> bytes:
    return struct.pack("!HBB", 4 + len(body) if size is None else size, klass, ctype) + body


def _msg(kind: int, objects: bytes, *, flags: int = 0x10, length: int | None = None) -> bytes:
    size = 8 + len(objects) if length is None else length
    return struct.pack("!BBHBBH", flags, kind, 0x1234, 63, 0, size) + objects


def _f(value: float) -> bytes:
    return struct.pack("!f", value)


def _frame(message: bytes, *, v6: bool = False) -> bytes:
    if v6:
        return ether(ipv6(_A6, _B6, 46, message), 0x86DD)
    return ether(ipv4(A4, B4, 46, message), 0x0800)


def _intserv(services: bytes) -> bytes:
    return struct.pack("!BBH", 0, 0, len(services) // 4) + services


def _service(kind: int, params: bytes, brk: int = 0) -> bytes:
    return struct.pack("!BBH", kind, brk, len(params) // 4) + params


def _param(ident: int, body: bytes, flags: int = 0) -> bytes:
    return struct.pack("!BBH", ident, flags, len(body) // 4) + body


def rsvp_frames() -> list[bytes]:
    tspec = _intserv(_service(1, _param(127, _f(125000.0) + _f(1500.0) + _f(1e9)
                                        + struct.pack("!II", 64, 1500))
                              + _param(4, struct.pack("!I", 3)) + _param(6, _f(1234567.89))
                              + _param(8, b"\xff" * 4) + _param(8, struct.pack("!I", 7))
                              + _param(10, struct.pack("!I", 1500))
                              + _param(133, struct.pack("!I", 9)) + _param(99, b"abcd")
                              + _param(4, bytes(8)))
                     + _service(2, _param(130, _f(7.77e-3) + struct.pack("!I", 11)), 0x80)
                     + _service(5, _param(127, bytes(8))) + _service(9, b""))
    ero = (bytes([1, 8]) + _v4("198.18.0.9") + bytes([32, 0])
           + bytes([0x81, 8]) + _v4("198.18.0.10") + bytes([32, 0x0F])
           + bytes([2, 20]) + bytes(18) + bytes([32, 4]) + b"\0\x64"
           + bytes([3, 8, 1, 1]) + struct.pack("!I", 3000) + bytes([3, 8, 0, 7]) + bytes(4))
    path = _msg(1, _obj(1, 7, _v4("198.18.0.2") + b"\0\0\0\x05" + _v4("198.18.0.1"))
                + _obj(3, 1, _v4("198.18.0.1") + struct.pack("!I", 5))
                + _obj(5, 1, struct.pack("!I", 30000))
                + _obj(19, 1, b"\0\0\x08\x00") + _obj(19, 4, b"\x02\x33\x00\x21")
                + _obj(19, 4, b"\x63\x07\x00\x63") + _obj(19, 1, b"\0\0\x12\x34" + b"\0\0\x86\xdd")
                + _obj(20, 1, ero) + _obj(207, 7, b"\x07\x07\x16\x05tun-1\0\0\0")
                + _obj(11, 7, _v4("198.18.0.1") + b"\0\0\0\x01")
                + _obj(12, 2, tspec) + _obj(13, 2, tspec)
                + _obj(205, 1, b"\x07\x07\x10\x02" + _f(333333.3) + bytes(range(12)))
                + _obj(205, 7, b"\x01\x02\x03\x00" + _f(0.0) + bytes(8))
                + _obj(63, 7, _v4("198.18.0.3") + _v4("198.18.0.4") + _v4("198.18.0.5")
                       + _v4("198.18.0.6"))
                + _obj(66, 1, b"\0\0\0\x05") + _obj(125, 1, b"\0\0\0\x0f")
                + _obj(196, 1, b"\x80\0\0\x07") + _obj(196, 1, bytes(4))
                + _obj(36, 1, b"\0\0\0\x05" + bytes(8)) + _obj(36, 1, b"\x02\0\0\x05" + bytes(8))
                + _obj(50, 1, _v4("198.18.0.7")) + _obj(50, 2, _v6(_A6)) + _obj(50, 3, b"")
                + _obj(134, 1, b"\0\0\0\x07") + _obj(134, 1, b"\x80\0\0\x02")
                + _obj(131, 1, struct.pack("!II", 1000, 2000))
                + _obj(204, 1, b"\0\x02\0\0" + b"\x01\x04ab" + b"\x10\x06abcd")
                + _obj(14, 1, b"policy!!") + _obj(200, 9, b"zzzz") + _obj(1, 99, b"\1\2\3\4"))
    resv = _msg(2, _obj(1, 1, _v4("198.18.0.2") + b"\x11\x01\x13\x88")
                + _obj(3, 3, _v4("198.18.0.2") + struct.pack("!I", 6) + b"tlvs")
                + _obj(8, 1, b"\x00\x00\x00\x12") + _obj(8, 1, b"\x01\x00\x00\x09")
                + _obj(9, 2, tspec) + _obj(9, 1, b"old!")
                + _obj(10, 1, _v4("198.18.0.1") + b"\0\0\x13\x89")
                + _obj(10, 7, _v4("198.18.0.1") + b"\0\0\0\x02")
                + _obj(10, 12, _v4("198.18.0.1") + b"\0\0\0\x03" + _v4("198.18.0.8")
                       + b"\0\0\0\x04")
                + _obj(16, 1, struct.pack("!II", 16, 17)) + _obj(16, 2, struct.pack("!I", 18))
                + _obj(16, 3, struct.pack("!III", 1, 2, 3)) + _obj(129, 1, b"\0\0\0\x10")
                + _obj(35, 2, b"\0\0\0\x11") + _obj(34, 3, bytes(12)) + _obj(16, 9, b"")
                + _obj(21, 1, ero) + _obj(15, 1, _v4("198.18.0.2")))
    errors = _msg(3, b"".join(_obj(6, 1, _v4("198.18.0.9") + bytes([1, code]) + struct.pack(
        "!H", value)) for code, value in ((24, 5), (24, 99), (28, 3), (125, 9), (25, 1),
                                          (1, 2)))
                  + _obj(6, 3, _v4("198.18.0.9") + bytes([0, 24, 0, 1]))
                  + _obj(6, 2, _v6(_B6) + bytes([0, 24, 0, 2]))
                  + _obj(6, 4, _v6(_B6) + bytes([0, 28, 0, 2])) + _obj(6, 5, b""))
    v6_session = _msg(1, _obj(1, 2, _v6(_B6) + b"\x06\x01\x00\x50")
                      + _obj(1, 8, _v6(_B6) + b"\0\0\0\x09" + _v6(_A6))
                      + _obj(1, 14, b"\0\0\0\x01\0\0\0\x02" + _v6(_A6) + b"\0\0")
                      + _obj(1, 13, _v4("198.18.0.1") + b"\0\0\0\x02" + _v4("198.18.0.2"))
                      + _obj(1, 11, _v4("198.18.0.1") + b"\0\0\0\x02" + _v4("198.18.0.2"))
                      + _obj(3, 2, _v6(_A6) + struct.pack("!I", 1))
                      + _obj(3, 4, _v6(_A6) + struct.pack("!I", 2) + b"tlvs")
                      + _obj(11, 2, _v6(_A6) + b"\0\0\x13\x88")
                      + _obj(11, 13, _v6(_A6) + b"\0\0\0\x01" + _v6(_B6) + b"\0\0\0\x02")
                      + _obj(11, 12, _v4("198.18.0.1") + b"\0\0\0\x03" + _v4("198.18.0.8")
                             + b"\0\0\0\x04")
                      + _obj(10, 2, _v6(_A6) + b"\0\0\x13\x89")
                      + _obj(10, 3, _v6(_A6) + b"\0\x0a\xbc\xde")
                      + _obj(10, 8, _v4("198.18.0.1") + bytes(14) + b"\0\x05")
                      + _obj(10, 13, _v6(_A6) + b"\0\0\0\x01" + _v6(_B6) + b"\0\0\0\x02")
                      + _obj(15, 2, _v6(_B6)) + _obj(195, 1, _v4("198.18.0.3"))
                      + _obj(195, 2, _v6(_A6)) + _obj(195, 3, b""))
    def uni(kind: int, family: int, body: bytes, size: int | None = None) -> bytes:
        return struct.pack("!HBB", 4 + len(body) if size is None else size, kind,
                           family) + body
    unis = [_msg(1, _obj(229, 1, b"".join(parts))) for parts in (
        [uni(1, 1, _v4("198.18.0.1")), uni(2, 2, _v6(_B6)), uni(1, 3, bytes(4)),
         uni(3, 0, b""), uni(4, 0, struct.pack("!III", 0x80000007, 2, 3)),
         uni(5, 0, b"\x05\0\0\0"), uni(2, 9, b"")],
        [uni(3, 0, bytes(4))], [uni(9, 0, b"")], [uni(1, 1, b"")], [uni(2, 2, bytes(4))],
        [uni(4, 0, bytes(4))], [uni(5, 0, b"")], [uni(1, 1, bytes(4), size=2)],
        [uni(1, 1, bytes(4), size=40)], [b"\0\0"], [])] + [_msg(1, _obj(229, 2, b""))]
    hello = _msg(20, _obj(22, 1, struct.pack("!II", 1, 2)) + _obj(22, 2, struct.pack("!II", 3, 4))
                 + _obj(22, 3, b""))
    ack = _msg(13, _obj(24, 1, b"\x01\0\0\x07" + struct.pack("!II", 100, 101))
               + _obj(24, 2, b"\0\0\0\x08") + _obj(23, 1, b"\x01\0\0\x09" + b"\0\0\0\x05")
               + _obj(25, 1, b"\0\0\0\x0a" + struct.pack("!III", 1, 2, 3)) + _obj(23, 5, b""),
               flags=0x11)
    bundle = _msg(12, _msg(5, _obj(1, 1, _v4("198.18.0.2") + bytes(4)))
                  + _msg(15, _obj(25, 1, b"\0\0\0\x0a" + struct.pack("!I", 9))))
    short_objects = [
        _msg(1, _obj(klass, ctype, b"\0\0\0\0")) for klass, ctype in (
            (1, 1), (1, 2), (1, 8), (1, 14), (1, 13), (1, 7), (15, 2), (16, 3), (11, 1),
            (11, 2), (11, 13), (11, 7), (11, 12), (10, 3), (10, 8), (19, 2), (19, 3),
            (22, 1), (131, 1), (207, 7), (3, 1), (19, 4), (3, 2), (205, 1), (205, 7), (6, 1),
            (6, 2), (36, 2), (50, 2), (9, 2))]
    damaged = [
        _msg(1, _obj(207, 7, b"\0\0\0\x09abc")), _msg(1, _obj(5, 1, b"", size=6)),
        _msg(1, _obj(5, 1, b"", size=2)), _msg(1, _obj(5, 1, bytes(4), size=40)),
        _msg(1, _obj(20, 1, bytes([1, 12]) + bytes(6))),
        _msg(1, _obj(20, 1, bytes([1, 0]) + bytes(6))),
        _msg(1, _obj(20, 1, bytes([1, 4]) + bytes(2))),
        _msg(1, _obj(20, 1, bytes([1, 8]) + bytes(4) + bytes([24, 0]))),
        _msg(1, _obj(204, 1, b"\0\x01\0\0" + b"\x01\x09ab")),
        _msg(1, _obj(204, 1, b"\0\x01\0\0" + b"\x01\x01ab")),
        _msg(1, _obj(9, 2, _intserv(_service(1, _param(127, bytes(20))[:8]))[:12])),
        _msg(1, b"", length=4), _msg(99, b"\1\2\3\4\5\6"), _msg(1, b"", flags=0x20),
        _msg(12, _msg(1, b"", flags=0x30)), _msg(12, _msg(1, b"", length=4)),
        _msg(12, _msg(1, bytes(8), length=40)), _msg(12, b"\x10\x01"),
    ]
    frames = [_frame(m) for m in [path, resv, errors, v6_session, hello, ack, bundle, *unis,
                                  *short_objects, *damaged]]
    frames += [_frame(_msg(kind, b"")) for kind in (4, 6, 7, 14, 99)]
    return frames + [_frame(path, v6=True), _frame(errors, v6=True)]
