"""SCTP packets built chunk by chunk: an association's handshake, DATA with every flag and
odd sizes, SACK with gap blocks and duplicate TSNs, bundles, control chunks, chunks of no
known type, the damaged lengths tcpdump complains about, M3UA messages in DATA; over IPv4
and IPv6."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, A6, B4, B6, ether, ipv4, ipv6

__all__ = ["sctp_frames"]


def _chunk(kind: int, body: bytes, flags: int = 0, *, size: int | None = None,
           pad: bool = True) -> bytes:
    raw = struct.pack("!BBH", kind, flags, 4 + len(body) if size is None else size) + body
    return raw + bytes(-len(raw) % 4 if pad else 0)


def _packet(chunks: bytes, *, sport: int = 5000, dport: int = 36412, v6: bool = False,
            tag: int = 0x1234) -> bytes:
    segment = struct.pack("!HHII", sport, dport, tag, 0) + chunks
    if v6:
        return ether(ipv6(A6, B6, 132, segment), 0x86DD)
    return ether(ipv4(A4, B4, 132, segment), 0x0800)


def _data(tsn: int, sid: int, sseq: int, ppid: int, payload: bytes, flags: int = 3) -> bytes:
    return _chunk(0, struct.pack("!IHHI", tsn, sid, sseq, ppid) + payload, flags)


def _init(kind: int, tag: int, params: bytes = b"") -> bytes:
    return _chunk(kind, struct.pack("!IIHHI", tag, 106496, 10, 65535, 3_000_000_000) + params)


def _sack(cumulative: int, gaps: list[tuple[int, int]], dups: list[int],
          counts: tuple[int, int] | None = None) -> bytes:
    gap_count, dup_count = counts or (len(gaps), len(dups))
    body = struct.pack("!IIHH", cumulative, 65000, gap_count, dup_count)
    body += b"".join(struct.pack("!HH", a, b) for a, b in gaps)
    body += b"".join(struct.pack("!I", d) for d in dups)
    return _chunk(3, body)


def sctp_frames() -> list[bytes]:
    cookie = bytes(range(20))
    address = struct.pack("!HH4s", 5, 8, bytes([198, 18, 0, 1]))
    return [
        _packet(_init(1, 0xAABBCCDD, address + struct.pack("!HH", 0xC000, 4)), tag=0),
        _packet(_init(2, 0x01020304, struct.pack("!HH", 7, 24) + cookie), v6=True),
        _packet(_chunk(10, cookie) + _data(3_000_000_000, 0, 0, 18, b"hello"), v6=True),
        _packet(_chunk(11, b"") + _sack(3_000_000_000, [], [])),
        _packet(_data(7, 1, 2, 46, b"abc", 0) + _data(8, 1, 2, 46, b"defgh", 2)
                + _data(9, 1, 2, 46, b"ij", 1) + _data(10, 2, 0, 0, bytes(20), 7)
                + _data(11, 3, 0, 25, b"x" * 17, 4)),
        _packet(_sack(0xFFFFFFF0, [(2, 5), (0x20, 0x30)], [0xFFFFFFF0, 17])),
        _packet(_sack(100, [(2, 5)], [9], counts=(3, 2))),     # fewer than it claims
        _packet(_sack(100, [], [], counts=(0, 0)) + _chunk(4, struct.pack("!HH", 1, 8)
                                                              + b"info")),
        _packet(_chunk(5, struct.pack("!HH", 1, 12) + b"infoabcd") + _chunk(12, bytes(4))
                + _chunk(13, bytes(4)) + _chunk(7, struct.pack("!I", 99))
                + _chunk(8, b"") + _chunk(14, b"", 1)),
        _packet(_chunk(6, struct.pack("!HH", 1, 8) + bytes(4), 1) + _chunk(9, bytes(8))
                + _chunk(0xC0, struct.pack("!I", 5)) + _chunk(0xC1, b"") + _chunk(0xC2, b"")
                + _chunk(0x80, b"zz") + _chunk(0x3F, b"")),
        # damaged: a DATA chunk without payload, one without room for its fields, an INIT
        # too short, a SACK's gap block cut by its own length, a chunk shorter than its
        # descriptor, one longer than the packet, and a packet ending inside a descriptor
        _packet(_data(1, 0, 0, 0, b"")),
        _packet(_chunk(0, bytes(6), 3) + _chunk(11, b"")),
        _packet(_chunk(1, bytes(12))),
        _packet(_chunk(3, struct.pack("!IIHH", 5, 6, 2, 0) + bytes(6), pad=False)
                + bytes(2)),
        _packet(_chunk(11, b"", size=2) + _chunk(11, b"")),
        _packet(_chunk(11, b"") + _chunk(10, bytes(8), size=200)),
        _packet(_chunk(11, b"") + b"\x0b\x00"),
        _packet(_chunk(10, b"abcde", pad=False)),           # its padding is missing
        _packet(b""),
        # M3UA in DATA (-vv decodes it): classes, parameters, damaged lengths
        *[_packet(_data(20 + i, 0, i, 3, message)) for i, message in enumerate(_m3ua_messages())],
    ]


def _m3ua(kind_class: int, kind: int, parameters: bytes, *, version: int = 1,
          declared: int | None = None) -> bytes:
    size = 8 + len(parameters) if declared is None else declared
    return struct.pack("!BBBBI", version, 0, kind_class, kind, size) + parameters


def _parameter(tag: int, value: bytes, *, pad: bool = True) -> bytes:
    raw = struct.pack("!HH", tag, 4 + len(value)) + value
    return raw + bytes(-len(raw) % 4 if pad else 0)


def _m3ua_messages() -> list[bytes]:
    data = (_parameter(0x0200, struct.pack("!I", 7)) + _parameter(0x0006, struct.pack("!I", 1))
            + _parameter(0x0210, bytes(range(23))) + _parameter(0x0013, struct.pack("!I", 9)))
    return [
        _m3ua(1, 1, data),
        _m3ua(3, 1, _parameter(0x0011, struct.pack("!I", 1)) + _parameter(0x0004, b"asp-1")),
        _m3ua(3, 3, _parameter(0x0009, b"beat")), _m3ua(4, 3, b""), _m3ua(0, 0, b""),
        _m3ua(2, 1, _parameter(0x0012, struct.pack("!I", 0x00010203))),
        _m3ua(9, 2, _parameter(0x0208, bytes(8))), _m3ua(9, 7, b""), _m3ua(5, 1, b""),
        _m3ua(1, 1, _parameter(0x0006, b"\x01")),                    # a value too short
        _m3ua(1, 1, _parameter(0x7777, b"abc", pad=False) + b"xy"),
        _m3ua(1, 1, struct.pack("!HH", 0x0006, 2) + bytes(4)),
        _m3ua(1, 1, struct.pack("!HH", 0x0006, 200) + bytes(4)),       # beyond the capture
        _m3ua(1, 1, b"", declared=99), _m3ua(1, 1, b"", version=2), b"\x01\x00\x00",
    ]
