"""Geneve packets with options of each class range (standard, named, unknown,
experimental), critical types, data words, an option longer than the option space, every
flag bit, and Ethernet, IPv4, IPv6 and unknown protocols inside."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, A6, B4, B6, ether, ipv4, ipv6, udp

__all__ = ["geneve_frames"]


def _option(kind_class: int, kind: int, data: bytes = b"", *, words: int | None = None) -> bytes:
    size = len(data) // 4 if words is None else words
    return struct.pack("!HBB", kind_class, kind, size) + data


def _geneve(options: bytes, proto: int, inner: bytes, *, flags: int = 0, vni: int = 0x2B,
            reserved: int = 0, v6: bool = False, opt_words: int | None = None) -> bytes:
    words = len(options) // 4 if opt_words is None else opt_words
    header = struct.pack("!BBH", words, flags, proto) + vni.to_bytes(3, "big") + bytes(
        [reserved])
    body = header + options + inner
    if v6:
        return ether(ipv6(A6, B6, 17, udp(A6, B6, 50002, 6081, body)), 0x86DD)
    return ether(ipv4(A4, B4, 17, udp(A4, B4, 50001, 6081, body)), 0x0800)


def geneve_frames() -> list[bytes]:
    inner4 = ipv4("10.0.0.1", "10.0.0.2", 17, udp("10.0.0.1", "10.0.0.2", 1, 2, b"in"))
    inner6 = ipv6("fd00::1", "fd00::2", 17, udp("fd00::1", "fd00::2", 1, 2, b"in6"))
    frame = ether(inner4, 0x0800)
    named = b"".join(_option(c, 1, bytes(range(4 * (c & 3)))) for c in range(0x100, 0x105))
    return [
        _geneve(_option(0x0102, 0x80, bytes(range(8))) + _option(0x0005, 0x01), 0x6558, frame),
        _geneve(named, 0x0800, inner4, flags=0x80),
        _geneve(_option(0x0200, 0x7F, b"\xde\xad\xbe\xef") + _option(0xFFF0, 0xFF)
                + _option(0xFFFF, 0, bytes(12)), 0x86DD, inner6, flags=0xC0, v6=True),
        _geneve(_option(0x0101, 3, words=4) + bytes(8), 0x0800, inner4, flags=0x3F),
        _geneve(_option(0x0101, 3, words=31), 0x1234, b"rest", reserved=7),
        _geneve(bytes(8), 0x0800, b"", opt_words=10),
        _geneve(_option(0x0104, 0x81, bytes(124), words=31), 0x6558, frame, vni=0xFFFFFF),
    ]
