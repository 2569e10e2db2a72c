"""BFD control packets of versions 0 and 1 in every state, with each flag, each
diagnostic, each authentication type (good and bad lengths), multihop and LAG ports,
echo packets and an unknown version."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, B4, ether, ipv4, udp

__all__ = ["bfd_frames"]


def _bfd(version: int, diag: int, flags: int, auth: bytes = b"", *, port: int = 3784,
         tx: int = 300_000, multiplier: int = 3) -> bytes:
    body = struct.pack("!BBBBIIIII", version << 5 | diag, flags, multiplier, 24 + len(auth),
                       0x11, 0x22, tx, 250_000, 0) + auth
    return ether(ipv4(A4, B4, 17, udp(A4, B4, 50001, port, body)), 0x0800)


def bfd_frames() -> list[bytes]:
    md5 = struct.pack("!BBBBI", 2, 24, 1, 0, 77) + bytes(range(16))
    sha1 = struct.pack("!BBBBI", 5, 28, 2, 0, 78) + bytes(range(20))
    return [
        *[_bfd(1, diag, state << 6) for state in range(4) for diag in (0, 3, 8, 9)],
        _bfd(1, 0, 0xFF & ~0x04), _bfd(0, 1, 0xFB), _bfd(0, 0, 0),
        _bfd(1, 0, 0xC4, struct.pack("!BBB", 1, 9, 5) + b"secr\x00t"),
        _bfd(1, 0, 0xC4, struct.pack("!BBB", 1, 2, 5) + b"x"),
        _bfd(1, 0, 0xC4, md5), _bfd(1, 0, 0xC4, sha1, port=4784),
        _bfd(0, 0, 0x04, md5[:1] + b"\x10" + md5[2:]), _bfd(1, 0, 0xC4, bytes([9, 4, 0, 0])),
        _bfd(1, 0, 0xC0, port=6784, tx=4_000_000_000, multiplier=255),
        _bfd(3, 0, 0), _bfd(1, 0, 0, port=3785),
        ether(ipv4(A4, B4, 17, udp(A4, B4, 50001, 3784, b"\x20\xc0\x03")), 0x0800),
    ]
