"""TFTP messages of every opcode (RFC 1350, RFC 2347's options), with the strings cut
where their NUL is missing, odd bytes in names, unknown opcodes and error codes; to and
from port 69 over IPv4 and IPv6."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, A6, B4, B6, ether, ipv4, ipv6, udp

__all__ = ["tftp_frames"]


def _message(body: bytes, *, sport: int = 40000, dport: int = 69, v6: bool = False) -> bytes:
    if v6:
        return ether(ipv6(A6, B6, 17, udp(A6, B6, sport, dport, body)), 0x86DD)
    return ether(ipv4(A4, B4, 17, udp(A4, B4, sport, dport, body)), 0x0800)


def _op(code: int, *strings: bytes) -> bytes:
    return struct.pack("!H", code) + b"".join(s + b"\0" for s in strings)


def tftp_frames() -> list[bytes]:
    return [
        _message(_op(1, b"pxelinux.0", b"octet", b"blksize", b"1428", b"tsize", b"0")),
        _message(_op(2, b"boot/conf.txt", b"netascii"), v6=True),
        _message(struct.pack("!HH", 3, 1) + bytes(range(256)) * 2, sport=69, dport=40000),
        _message(struct.pack("!HH", 4, 1)),
        _message(struct.pack("!HH", 4, 65535), v6=True),
        _message(_op(6, b"blksize", b"1428", b"", b"tsize", b"4096"), sport=69, dport=40000),
        *[_message(struct.pack("!HH", 5, code) + b"File not found\0", sport=69, dport=40000)
          for code in (0, 1, 4, 7, 8, 300)],
        _message(struct.pack("!HH", 5, 2)),                  # no message
        _message(struct.pack("!HH", 5, 2) + b"no nul"),
        _message(struct.pack("!H", 9) + b"what"),
        _message(struct.pack("!H", 0)),
        _message(b"\x00"),
        _message(b""),
        _message(struct.pack("!H", 1) + b"name-without-nul"),
        _message(_op(1, b"no-mode")),
        _message(_op(1, b"f") + b"octet"),
        _message(_op(1, b"f\x01\x7f\xe9\xff name", b"mail", b"opt") + b"dangling"),
        _message(_op(2)),
        _message(struct.pack("!HB", 3, 1)),
        _message(struct.pack("!H", 4)),
        _message(struct.pack("!H", 5) + b"\x00"),
        _message(_op(6), sport=69, dport=40000),
        _message(_op(6, b"a") + b"\x00\x00"),
    ]
