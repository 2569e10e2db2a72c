"""EtherTalk frames: DDP with NBP lookups, broadcast requests and replies (several tuples,
anomalies, names too long or cut), ATP requests, responses and releases with every flag
and bitmap shape, the other DDP types; AARP requests, replies, probes and odd ones."""

from __future__ import annotations

import struct

from tests.net.corpus import MAC_A, ether

__all__ = ["atalk_frames"]


def _ddp(kind: int, body: bytes, *, src: tuple[int, int, int] = (100, 5, 253),
         dst: tuple[int, int, int] = (0, 255, 2)) -> bytes:
    header = struct.pack("!HHHHBBBBB", 13 + len(body), 0, dst[0], src[0], dst[1], src[1],
                         dst[2], src[2], kind)
    return ether(header + body, 0x809B)


def _cstring(text: bytes) -> bytes:
    return bytes([len(text)]) + text


def _tuple(net: int, node: int, skt: int, enum: int, *names: bytes) -> bytes:
    return struct.pack("!HBBB", net, node, skt, enum) + b"".join(_cstring(n) for n in names)


def _aarp(op: int, sender: tuple[int, int], target: tuple[int, int], *,
          htype: int = 1, ptype: int = 0x809B) -> bytes:
    def at(net: int, node: int) -> bytes:
        return bytes([0]) + struct.pack("!HB", net, node)
    return ether(struct.pack("!HHBBH", htype, ptype, 6, 4, op) + MAC_A + at(*sender)
                 + bytes(6) + at(*target), 0x80F3)


def atalk_frames() -> list[bytes]:
    names = (b"LaserWriter", b"LaserWriter", b"*")
    long_zone = _cstring(b"obj") + _cstring(b"type") + bytes([40]) + b"z" * 40
    return [
        _ddp(2, bytes([0x21, 7]) + _tuple(100, 5, 253, 0, *names)),
        _ddp(2, bytes([0x13, 8]) + _tuple(101, 6, 250, 3, b"Mac\xa5", b"AFPServer", b"Zone")),
        _ddp(2, bytes([0x32, 9]) + _tuple(100, 5, 253, 1, b"Printer 1", b"LaserWriter", b"*")
             + _tuple(100, 9, 129, 2, b"Printer 2", b"LaserWriter", b"*")),
        _ddp(2, bytes([0x33, 9]) + _tuple(100, 5, 253, 1, b"One", b"T", b"*")
             + _tuple(100, 5, 253, 1) + long_zone),
        _ddp(2, bytes([0x21, 7]) + struct.pack("!HBBB", 100, 5, 253, 0) + long_zone),
        _ddp(2, bytes([0x35, 1]) + _tuple(1, 2, 3, 1, b"x" * 30, b"y" * 30)),
        _ddp(2, bytes([0x51, 7]) + bytes(8)), _ddp(2, bytes([0x21])), _ddp(2, bytes(5)),
        _ddp(3, struct.pack("!BBHI", 0x40 | 0x20, 0xFF, 1234, 0)),
        _ddp(3, struct.pack("!BBHI", 0x40 | 0x10, 0x05, 1, 0xDEAD) + b"req"),
        _ddp(3, struct.pack("!BBHI", 0x40 | 0x08, 0x01, 2, 0)),
        _ddp(3, struct.pack("!BBHI", 0x40 | 0x18, 0x00, 3, 0)),
        _ddp(3, struct.pack("!BBHI", 0x80 | 0x10 | 0x20, 3, 4, 7) + b"response"),
        _ddp(3, struct.pack("!BBHI", 0x80 | 0x08, 3, 5, 0)),
        _ddp(3, struct.pack("!BBHI", 0x80 | 0x28, 3, 5, 0)),
        _ddp(3, struct.pack("!BBHI", 0xC0 | 0x38, 0x0F, 6, 0) + b"x"),
        _ddp(3, struct.pack("!BBHI", 0xC0, 0x80, 6, 0)),
        _ddp(3, struct.pack("!BBHI", 0x07, 0x80, 6, 0)),
        *[_ddp(kind, b"payload") for kind in (1, 4, 5, 6, 22, 23, 0x4B, 99)],
        ether(bytes(10), 0x809B),
        _aarp(1, (100, 5), (100, 9)), _aarp(2, (100, 9), (100, 5)),
        _aarp(3, (65280, 1), (65280, 255)), _aarp(4, (1, 1), (1, 2)),
        _aarp(1, (1, 1), (1, 2), htype=6), _aarp(1, (1, 1), (1, 2), ptype=0),
    ]


def atalk_udp_frames() -> list[bytes]:
    """The DDP packets above in AppleTalk-in-UDP (KIP): a LocalTalk header saying DDP on a
    KIP port (at the ranges' ends too) decodes; another LAP type, or a port outside the
    ranges, is plain UDP; a LAP header cut short."""
    from tests.net.corpus import A4, B4, ipv4, udp
    ddps = [f[14:14 + int.from_bytes(f[14:16], "big") & 0x3FF] for f in atalk_frames()
            if f[12:14] == b"\x80\x9b"]

    def kip(payload: bytes, sport: int = 40000, dport: int = 200) -> bytes:
        return ether(ipv4(A4, B4, 17, udp(A4, B4, sport, dport, payload)), 0x0800)

    frames = [kip(bytes([9, 8, 2]) + ddp, dport=port)
              for ddp, port in zip(ddps, [200, 327, 768, 895, 16512, 16639] * 10)]
    frames += [kip(bytes([9, 8, 2]) + ddps[0], sport=300, dport=40001),
               kip(bytes([9, 8, 1]) + ddps[0]), kip(bytes([9, 8, 2]) + ddps[0], dport=328),
               kip(bytes([9, 8, 2]) + ddps[0], dport=16640), kip(bytes([9, 8, 2])),
               kip(bytes([9, 8, 2]) + ddps[0][:10]), kip(b"\x09\x08")]
    return frames
