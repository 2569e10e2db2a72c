"""PGM messages of every type over IPv4 and IPv6 (SPM, POLL, POLR, ODATA, RDATA, NAK,
NULL NAK, NCF, ACK, SPMR, an unknown type) with addresses of both families and a bad one,
and every option (fragment, NAK list, join, backoffs, redirect, parity, PGMCC data and
feedback, SYN/FIN/RST, path NLA, CR, unknown) whole and with bad lengths."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, B4, ether, ipv4, ipv6

__all__ = ["pgm_frames"]

_A6, _B6 = "2001:db8::1", "2001:db8::2"
_V4 = ipaddress.IPv4Address("198.18.0.9").packed
_V6 = ipaddress.IPv6Address("2001:db8::9").packed


def _pgm(kind: int, body: bytes, *, options: bytes | None = None, v6: bool = False) -> bytes:
    flags = 0 if options is None else 1
    rest = body + (options or b"")
    header = struct.pack("!HHBBH6sH", 3055, 7500, kind, flags, 0, b"\x01\x02\x03\x04\x05\x06",
                         len(rest))
    if v6:
        return ether(ipv6(_A6, _B6, 113, header + rest), 0x86DD)
    return ether(ipv4(A4, B4, 113, header + rest), 0x0800)


def _opts(items: list[bytes], *, last_end: bool = True, total: int | None = None) -> bytes:
    if last_end and items:
        items = items[:-1] + [bytes([items[-1][0] | 0x80]) + items[-1][1:]]
    body = b"".join(items)
    size = 4 + len(body) if total is None else total
    return struct.pack("!BBH", 0, 4, size) + body


def _opt(kind: int, body: bytes, size: int | None = None) -> bytes:
    return bytes([kind, 2 + len(body) if size is None else size]) + body


def _nla(family: int) -> bytes:
    return struct.pack("!HH", family, 0) + (_V4 if family == 1 else _V6)


def pgm_frames() -> list[bytes]:
    spm = struct.pack("!III", 10, 1, 20)
    nak = struct.pack("!I", 77) + _nla(1) + struct.pack("!HH", 1, 0) + _V4
    every = _opts([
        _opt(1, b"\0\0" + struct.pack("!III", 1, 2, 3)),
        _opt(2, b"\0\0" + struct.pack("!II", 4, 5)),
        _opt(3, b"\0\0" + struct.pack("!I", 6)), _opt(4, b"\0\0" + struct.pack("!II", 7, 8)),
        _opt(5, b"\0\0" + struct.pack("!II", 9, 10)), _opt(7, b"\0\0" + _nla(1)),
        _opt(7, b"\0\0" + _nla(2)), _opt(8, b"\0\0" + struct.pack("!I", 11)),
        _opt(9, b"\0\0" + struct.pack("!I", 12)), _opt(10, b"\0\0" + struct.pack("!I", 13)),
        _opt(11, b"\0\0"), _opt(12, b"\0\0abcd"), _opt(13, b"\0\0"), _opt(14, b"\0\0"),
        _opt(15, b"\0\0"), _opt(16, b"\0\0cr"), _opt(17, b"\0\0"),
        _opt(18, b"\0\0" + struct.pack("!I", 14) + _nla(1)),
        _opt(19, b"\0\0" + struct.pack("!I", 15) + _nla(2)), _opt(0, b"\0\x09"),
        _opt(0x33, b"\0\0xy")])
    bad_options = [
        _opts([_opt(1, b"\0\0" + bytes(10))]), _opts([_opt(2, b"\0\0\1\2\3")]),
        _opts([_opt(3, b"\0\0")]), _opts([_opt(4, b"\0\0")]), _opts([_opt(5, b"\0\0")]),
        _opts([_opt(7, b"\0\0")]), _opts([_opt(7, b"\0\0" + _nla(1) + b"xx")]),
        _opts([_opt(7, b"\0\0" + struct.pack("!HH", 9, 0) + _V4)]),
        _opts([_opt(8, b"\0\0")]), _opts([_opt(9, b"\0\0")]), _opts([_opt(10, b"\0\0")]),
        _opts([_opt(11, b"\0\0xx")]), _opts([_opt(13, b"\0\0xx")]), _opts([_opt(14, b"\0\0xx")]),
        _opts([_opt(15, b"\0\0xx")]), _opts([_opt(17, b"\0\0xx")]),
        _opts([_opt(18, b"\0\0")]), _opts([_opt(19, b"\0\0")]),
        _opts([_opt(18, b"\0\0" + struct.pack("!I", 1) + _nla(2) + b"zz")]),
        _opts([_opt(19, b"\0\0" + struct.pack("!I", 1) + _nla(1) + b"zz")]),
        _opts([_opt(0, b"\0\0\0\0")]), _opts([_opt(3, b"", size=2)]),
        _opts([_opt(3, b"\0\0" + bytes(4))], total=9), _opts([], total=6),
        _opts([_opt(3, b"\0\0" + bytes(4))], last_end=False, total=20),
        _opts([], total=3), b"\x01\x04\0\x08", b"\x00\x05\0\x08", _opts([]),
        _opts([_opt(3, b"\0\0" + bytes(4)), _opt(13, b"\0\0")], last_end=False),
    ]
    return [
        _pgm(0, spm + _nla(1)), _pgm(0, spm + _nla(2), v6=True), _pgm(0, spm + _nla(7)),
        _pgm(1, struct.pack("!IHHHH", 5, 2, 1, 1, 0) + _V4 + struct.pack("!III", 1, 2, 3)),
        _pgm(1, struct.pack("!IHHHH", 5, 2, 1, 2, 0) + _V6 + struct.pack("!III", 1, 2, 3)),
        _pgm(2, struct.pack("!IHH", 6, 3, 0)), _pgm(4, struct.pack("!II", 8, 7) + b"payload"),
        _pgm(5, struct.pack("!II", 9, 8), options=every), _pgm(8, nak), _pgm(9, nak),
        _pgm(10, nak), _pgm(8, struct.pack("!I", 77) + _nla(2) + struct.pack("!HH", 2, 0)
                            + _V6),
        _pgm(8, struct.pack("!I", 77) + _nla(1) + struct.pack("!HH", 1, 0) + b"\0\x07\0\0"),
        # tcpdump reads the group's family from its address's first bytes
        *[_pgm(kind, struct.pack("!I", 78) + _nla(1) + struct.pack("!HH", 1, 0)
               + b"\0\x01\x12\x34") for kind in (8, 9, 10)],
        _pgm(8, struct.pack("!I", 79) + _nla(2) + struct.pack("!HH", 2, 0) + b"\0\x02"
             + bytes(range(14)), v6=True),
        _pgm(11, struct.pack("!II", 12, 0xFFFF)), _pgm(12, b""), _pgm(12, b"", options=b""),
        _pgm(99, b"???"),
        *[_pgm(4, struct.pack("!II", 1, 2), options=o) for o in bad_options],
    ]
