"""ISAKMP/IKE messages: IKEv1 main, aggressive and quick mode exchanges (initiator, the
responder's answer, a stranger's cookie), SAs with proposals and transforms of every
protocol and their attributes (named, raw, long, cut by their transform), key exchange,
every ID type (good and short), certificates, hashes, signatures, nonces, notifications
(IPsec DOI and others, lifetimes, replay status, data), deletes, vendor IDs, encrypted
messages, zero-length payloads; IKEv2 SA/KE/nonce/notify/ID/auth/vendor/TS/encrypted
payloads, critical flags, bogus proposal lengths; over IPv4 and IPv6, on ports 500, 4500
(behind the non-ESP marker) and 7500, with a length that disagrees with the IP one."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, B4, ether, ipv4, ipv6, udp

__all__ = ["isakmp_frames"]

_A6, _B6 = "2001:db8::1", "2001:db8::2"
_ICK, _RCK = bytes.fromhex("1122334455667788"), bytes.fromhex("99aabbccddeeff00")


def _chain(payloads: list[tuple[int, bytes]], *, critical: int = 0) -> tuple[int, bytes]:
    """Generic headers linking ``(type, body)`` payloads; the first one's type and the
    bytes."""
    out = b""
    for i, (_, body) in enumerate(payloads):
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += struct.pack("!BBH", nxt, critical, 4 + len(body)) + body
    return (payloads[0][0] if payloads else 0), out


def _message(payloads: list[tuple[int, bytes]], *, version: int = 0x10, exchange: int = 2,
             flags: int = 0, msgid: int = 0, i_ck: bytes = _ICK, r_ck: bytes = bytes(8),
             length: int | None = None, critical: int = 0) -> bytes:
    first, body = _chain(payloads, critical=critical)
    size = 28 + len(body) if length is None else length
    return i_ck + r_ck + struct.pack("!BBBBII", first, version, exchange, flags, msgid,
                                     size) + body


def _frame(message: bytes, *, v6: bool = False, sport: int = 500, dport: int = 500,
           reverse: bool = False) -> bytes:
    src, dst = (_A6, _B6) if v6 else (A4, B4)
    if reverse:
        src, dst = dst, src
    dgram = udp(src, dst, sport, dport, message)
    if v6:
        return ether(ipv6(src, dst, 17, dgram), 0x86DD)
    return ether(ipv4(src, dst, 17, dgram), 0x0800)


def _attr(kind: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return struct.pack("!HH", 0x8000 | kind, value)
    return struct.pack("!HH", kind, len(value)) + value


def _transform(number: int, ident: int, attrs: bytes) -> tuple[int, bytes]:
    return 3, struct.pack("!BBH", number, ident, 0) + attrs


def _proposal(number: int, proto: int, spi: bytes, transforms: list[tuple[int, bytes]]
              ) -> tuple[int, bytes]:
    _, body = _chain(transforms)
    return 2, struct.pack("!BBBB", number, proto, len(spi), len(transforms)) + spi + body


def _sa(proposals: list[tuple[int, bytes]], *, situation: int = 1, doi: int = 1
        ) -> tuple[int, bytes]:
    _, body = _chain(proposals)
    extra = b"" if situation == 1 else bytes(4)
    return 1, struct.pack("!II", doi, situation) + extra + body


def _id(kind: int, data: bytes, proto: int = 17, port: int = 500) -> tuple[int, bytes]:
    return 5, struct.pack("!BBH", kind, proto, port) + data


def _notify(kind: int, data: bytes = b"", *, doi: int = 1, proto: int = 1,
            spi: bytes = b"") -> tuple[int, bytes]:
    return 11, struct.pack("!IBBH", doi, proto, len(spi), kind) + spi + data


def _v4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def _v6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def _v1_messages() -> list[bytes]:
    ike = _transform(1, 1, _attr(1, 7) + _attr(14, 128) + _attr(2, 2) + _attr(3, 1)
                     + _attr(4, 14) + _attr(4, 18) + _attr(11, 1) + _attr(12, b"\0\0\x70\x80")
                     + _attr(99, 5) + _attr(5, 9))
    esp = _transform(1, 12, _attr(1, 1) + _attr(2, b"\0\0\x0e\x10") + _attr(4, 1)
                     + _attr(5, 2) + _attr(6, 256) + _attr(3, 5))
    main1 = _message([_sa([_proposal(1, 1, b"", [ike, _transform(2, 9, b"")])]),
                      (13, b"RFC 3947 vendor"), (13, bytes(16))])
    answer = _message([_sa([_proposal(1, 1, b"", [ike])])], r_ck=_RCK)
    keys = _message([(4, bytes(range(64))), (10, bytes(range(20))), (10, b"\1\2"),
                     (20, bytes(8))], r_ck=_RCK)
    ids = _message([_id(1, _v4("198.18.0.1")), _id(1, b"\1\2"), _id(2, b"vpn.example"),
                    _id(3, b"me@example\x01"), _id(4, _v4("198.18.0.0") + _v4("255.255.0.0")),
                    _id(4, b"\0" * 4), _id(5, _v6(_A6)), _id(5, bytes(8)),
                    _id(6, _v6(_A6) + b"\xff" * 8 + bytes(8)), _id(6, bytes(20)),
                    _id(7, _v4("198.18.0.1") + _v4("198.18.0.9")), _id(7, bytes(4)),
                    _id(8, _v6(_A6) + _v6(_B6)), _id(8, bytes(16)), _id(9, b"\x30\x03abc"),
                    _id(11, b"key-1"), _id(0, b"zz"), _id(77, b"?"), _id(1, b"", 6, 0),
                    (6, b"\x04cert-bytes"), (6, b"\x63x"), (7, b"\x04"), (8, bytes(20)),
                    (9, bytes(range(40)))], r_ck=_RCK, flags=2, exchange=4)
    notes = _message([_notify(14), _notify(8192), _notify(8193), _notify(16384),
                      _notify(16390), _notify(24576, _attr(11, 1) + _attr(12, b"\0\0\1\0"),
                                          spi=bytes(range(4))),
                      _notify(24577, b"\0\0\0\1"), _notify(24577, bytes(4)),
                      _notify(24578, bytes(range(30))), _notify(24579, b"ab"),
                      _notify(40000), _notify(9, doi=7, proto=3, spi=b"\1\2\3\4"),
                      _notify(16390, doi=0), _notify(24576, doi=0), _notify(8200, doi=0),
                      (12, struct.pack("!IBBH", 1, 3, 4, 2) + bytes(range(8))),
                      (12, struct.pack("!IBBH", 9, 1, 16, 1) + bytes(16)),
                      (12, struct.pack("!IBBH", 1, 2, 4, 0))],
                     r_ck=_RCK, exchange=5, msgid=0x1234)
    quick = _message([(8, bytes(20)),
                      _sa([_proposal(1, 3, b"\xca\xfe\xba\xbe", [esp]),
                           _proposal(2, 2, b"\1\2\3\4", [_transform(1, 3, _attr(4, 2))]),
                           _proposal(3, 4, b"\0\0\1\2", [_transform(1, 2, b"")]),
                           _proposal(4, 9, b"", [_transform(1, 5, _attr(1, 2))])],
                          situation=3),
                      _sa([], doi=2)], r_ck=_RCK, exchange=32, msgid=0xDEADBEEF)
    long_attr = _message([_sa([_proposal(1, 1, b"", [
        (3, struct.pack("!BBH", 1, 1, 0) + struct.pack("!HH", 12, 40) + b"x")])])],
        r_ck=_RCK)
    odd = _message([(14, b"abc"), (33, b"\0\0\0\0"), (46, b"\0\0\0\0"), (99, b"zz"),
                    (5, b"")], r_ck=_RCK, exchange=6)
    return [main1, answer, keys, ids, notes, quick, long_attr, odd,
            _message([(1, b"")], flags=1, r_ck=_RCK),
            _message([(13, b"a")], flags=7, r_ck=_RCK, length=999),
            _message([(13, b"a")], i_ck=bytes(8), r_ck=_RCK),
            _message([(13, b"a")], version=0x33)]


def _v2_transform(kind: int, ident: int, attrs: bytes = b"") -> tuple[int, bytes]:
    return 3, struct.pack("!BBH", kind, 0, ident) + attrs


def _v2_proposal(number: int, proto: int, spi: bytes, transforms: list[tuple[int, bytes]],
                 ) -> tuple[int, bytes]:
    _, body = _chain(transforms)
    return 2, struct.pack("!BBBB", number, proto, len(spi), len(transforms)) + spi + body


def _v2_sa(proposals: list[tuple[int, bytes]]) -> tuple[int, bytes]:
    return 33, _chain(proposals)[1]


def _v2_notify(kind: int, data: bytes = b"", *, spi: bytes = b"", proto: int = 0
               ) -> tuple[int, bytes]:
    return 41, struct.pack("!BBH", proto, len(spi), kind) + spi + data


def _v2_messages() -> list[bytes]:
    sa = _v2_sa([_v2_proposal(1, 1, b"", [
        _v2_transform(1, 12, _attr(14, 256)), _v2_transform(1, 20, _attr(14, 128)),
        _v2_transform(2, 2), _v2_transform(2, 7), _v2_transform(3, 2), _v2_transform(3, 12),
        _v2_transform(4, 14), _v2_transform(4, 19), _v2_transform(5, 1), _v2_transform(9, 3),
        _v2_transform(1, 3, _attr(7, 1))]),
        _v2_proposal(2, 3, b"\x01\x02\x03\x04", [_v2_transform(1, 3)])])
    init = _message([sa, (34, struct.pack("!HH", 14, 0) + bytes(range(32))),
                     (40, bytes(range(32))), _v2_notify(16388, bytes(20)),
                     _v2_notify(16389, bytes(20)), _v2_notify(16390, bytes(range(40))),
                     _v2_notify(16390, b"short"), _v2_notify(14, spi=b"\1\2\3\4", proto=3),
                     _v2_notify(4, spi=b"\1\2"), _v2_notify(16384), _v2_notify(100),
                     _v2_notify(9000), _v2_notify(30000), _v2_notify(50000),
                     (43, b"strongSwan\x01"), (43, b"ab"), (34, b"\0\2")],
                    version=0x20, exchange=34, flags=0x08)
    auth = _message([(35, struct.pack("!BBH", 2, 0, 0) + b"moon.example"),
                     (36, struct.pack("!BBH", 1, 0, 0) + _v4("198.18.0.2")),
                     (35, struct.pack("!BBH", 3, 0, 0) + b"a@b\x7f"),
                     (35, struct.pack("!BBH", 5, 0, 0) + _v6(_A6)),
                     (35, struct.pack("!BBH", 9, 0, 0) + b"\x30\x00"),
                     (35, struct.pack("!BBH", 11, 0, 0) + b"k"),
                     (35, struct.pack("!BBH", 4, 0, 0) + b"other"),
                     (39, struct.pack("!BBBB", 2, 0, 0, 0) + bytes(range(40))),
                     (39, struct.pack("!BBBB", 1, 0, 0, 0) + b"sig"), (39, b"\x09"),
                     (37, b"\x04certificate"), (38, b"\x04ca"), (42, b"\3\4\0\1"),
                     (44, b"\1\0\0\0ts"), (45, b"\1\0\0\0ts"), (47, b"\1\0\0\0"),
                     (48, b"\2\1\0\5\1"), (40, b"n"), (35, b"\1\0")],
                    version=0x20, exchange=35, flags=0x20, msgid=1, r_ck=_RCK)
    bad = _message([_v2_sa([(2, struct.pack("!BBBB", 1, 1, 8, 1) + b"\1\2")]),
                    _v2_sa([_v2_proposal(1, 1, b"", [(3, b"\1\0\0\1")])])],
                   version=0x20, exchange=34, flags=0x08)
    bad2 = _message([(33, struct.pack("!BBH", 0, 0, 200) + bytes(8))],
                    version=0x20, exchange=34, flags=0x18)
    bad3 = _message([(33, struct.pack("!BBH", 0, 0, 2))], version=0x20, exchange=34)
    encrypted = _message([(46, bytes(range(24))), (40, b"never")], version=0x20,
                         exchange=35, flags=0x08, msgid=2, r_ck=_RCK, critical=0x80)
    return [init, auth, bad, bad2, bad3, encrypted,
            _message([(40, b"n")], version=0x20, exchange=37, flags=0x01, msgid=3),
            _message([(40, b"n")], version=0x20, exchange=99, flags=0x38, msgid=3,
                     length=20)]


def isakmp_frames() -> list[bytes]:
    v1, v2 = _v1_messages(), _v2_messages()
    frames = [_frame(m) for m in v1] + [_frame(m) for m in v2]
    # the responder answering, then a third party reusing the initiator's cookie
    frames += [_frame(v1[1], reverse=True), _frame(v1[1], v6=True),
               _frame(v1[0], v6=True), _frame(v1[1], v6=True, reverse=True),
               _frame(v1[2], v6=True)]
    frames += [_frame(bytes(4) + v1[0], sport=4500, dport=4500),
               _frame(bytes(4) + v2[0], sport=4500, dport=4500),
               _frame(v1[3], sport=7500, dport=7500), _frame(v1[3][:27]),
               _frame(bytes(4) + v1[0][:20], sport=4500, dport=4500)]
    return frames
