"""DCCP packets of every type, with short (24-bit) and extended (48-bit) sequence numbers,
every option tcpdump names (good and bad lengths), partial checksum coverage, right and
wrong checksums, and headers longer than their packet; over IPv4 and IPv6."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, A6, B4, B6, _pseudo4, _pseudo6, checksum, ether, ipv4, ipv6

__all__ = ["dccp_frames"]


def _packet(kind: int, more: bytes, options: bytes = b"", data: bytes = b"", *,
            extended: bool = True, seq: int = 0x123456789A, cscov: int = 0, ccval: int = 0,
            v6: bool = False, good: bool = True, doff: int | None = None) -> bytes:
    seq_part = struct.pack("!BB", kind << 1 | 1, 0) + seq.to_bytes(6, "big") if extended \
        else bytes([kind << 1]) + (seq & 0xFFFFFF).to_bytes(3, "big")
    options += bytes(-len(options) % 4)
    size = 4 + 2 + 2 + len(seq_part) + len(more) + len(options)
    header = struct.pack("!HHBBH", 40000, 5001, size // 4 if doff is None else doff,
                         ccval << 4 | cscov, 0) + seq_part + more + options
    segment = header + data
    covered = len(segment) if cscov == 0 else min((size // 4 + cscov - 1) * 4, len(segment))
    pseudo = (_pseudo6(A6, B6, 33, len(segment)) if v6
              else _pseudo4(A4, B4, 33, len(segment)))
    value = checksum(pseudo + segment[:covered]) ^ (0 if good else 0x00F0)
    segment = segment[:6] + struct.pack("!H", value) + segment[8:]
    if v6:
        return ether(ipv6(A6, B6, 33, segment), 0x86DD)
    return ether(ipv4(A4, B4, 33, segment), 0x0800)


def _ack(number: int, extended: bool = True) -> bytes:
    return struct.pack("!H", 0) + number.to_bytes(6, "big") if extended \
        else bytes([0]) + number.to_bytes(3, "big")


def dccp_frames() -> list[bytes]:
    features = (bytes([32, 4, 1, 2]) + bytes([33, 5, 3, 0, 100]) + bytes([34, 3, 9])
                + bytes([35, 4, 12, 1]) + bytes([34, 2]))
    stamps = (bytes([41, 6]) + struct.pack("!I", 123456) + bytes([41, 4, 0, 0])
              + bytes([42, 6]) + struct.pack("!I", 7) + bytes([42, 8]) + struct.pack("!IH", 7, 9)
              + bytes([42, 10]) + struct.pack("!II", 7, 70000) + bytes([42, 5, 1, 2, 3])
              + bytes([43, 4, 1, 2]) + bytes([43, 6]) + struct.pack("!I", 99)
              + bytes([43, 3, 1]))
    vectors = (bytes([0, 1, 2, 36, 6, 1, 2, 3, 4, 36, 2, 37, 4, 5, 6, 38, 5, 0xAA, 0xBB, 0xCC]
                     ) + bytes([39, 3, 0x40, 40, 4, 1, 2, 44, 6, 1, 2, 3, 4, 50, 3, 1])
               + bytes([128, 4, 1, 2, 192, 6, 0, 1, 0, 0, 130, 3, 1, 3]))
    return [
        _packet(0, struct.pack("!I", 42), features),
        _packet(1, _ack(0x123456789B) + struct.pack("!I", 42), stamps, v6=True),
        _packet(2, b"", data=b"payload", extended=False, ccval=5, cscov=1),
        _packet(2, b"", data=b"payload!" * 4, cscov=2, good=False),
        _packet(3, _ack(77), vectors),
        _packet(3, _ack(77, False), extended=False, v6=True),
        _packet(4, _ack(78), data=b"both", ccval=15, cscov=15),
        _packet(5, _ack(79)),
        _packet(6, _ack(80), good=False),
        *[_packet(7, _ack(81) + bytes([code, 1, 2, 3])) for code in (0, 3, 11, 12, 200)],
        _packet(8, _ack(82)),
        _packet(9, _ack(83), bytes([44, 2, 1, 0])),
        _packet(12, _ack(84)),
        _packet(3, _ack(85), bytes([41, 1])),          # a length shorter than two
        _packet(3, _ack(86), bytes([200, 1])),
        _packet(3, _ack(87), bytes([41, 40])),         # beyond the header's length
        _packet(3, _ack(88), bytes([0, 0, 0, 0]), doff=40),   # beyond the packet
        _packet(0, b"", extended=True),                # too short for its service code
        _packet(1, _ack(1)[:4], extended=False),
        _packet(7, _ack(1)),
        _packet(3, b""),
    ]
