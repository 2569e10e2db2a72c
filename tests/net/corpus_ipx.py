"""IPX packets in Ethernet II frames and in PPP (over PPPoE): SAP requests and responses
(names with odd bytes, too many servers, damaged lengths), RIP requests and responses,
the named sockets and others, and headers whose length is too short."""

from __future__ import annotations

import struct

from tests.net.corpus import ether

__all__ = ["ipx_frames"]

_NODE_A = bytes.fromhex("00000c010203")
_NODE_B = bytes.fromhex("ffffffffffff")


def _ipx(dst_socket: int, body: bytes, *, src_socket: int = 0x4003, declared: int | None = None,
         kind: int = 4) -> bytes:
    size = 30 + len(body) if declared is None else declared
    return (struct.pack("!HHBB", 0xFFFF, size, 0, kind) + struct.pack("!I", 0xC0A80100)
            + _NODE_B + struct.pack("!H", dst_socket) + struct.pack("!I", 0x0000ABCD) + _NODE_A
            + struct.pack("!H", src_socket) + body)


def _server(kind: int, name: bytes, network: int = 0x1234) -> bytes:
    return (struct.pack("!H", kind) + name.ljust(48, b"\0")[:48] + struct.pack("!I", network)
            + _NODE_A + struct.pack("!HH", 0x0451, 1))


def _pppoe(ppp_payload: bytes) -> bytes:
    ppp = struct.pack("!H", 0x002B) + ppp_payload
    return ether(struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp)) + ppp, 0x8864)


def ipx_frames() -> list[bytes]:
    servers = b"".join(_server(4 + i, b"SERVER-%d" % i) for i in range(9))
    packets = [
        _ipx(0x0452, struct.pack("!HH", 1, 4)),
        _ipx(0x0452, struct.pack("!HH", 3, 0x0278)),
        _ipx(0x0452, struct.pack("!H", 2) + _server(4, b"FS\x01\xe9") + _server(7, b"P" * 48)),
        _ipx(0x0452, struct.pack("!H", 4) + servers),
        _ipx(0x0452, struct.pack("!H", 2) + _server(4, b"SHORT")[:40]),
        _ipx(0x0452, struct.pack("!H", 2) + _server(4, b"SHORT")[:55]),
        _ipx(0x0452, struct.pack("!H", 2) + _server(4, b"SHORT")[:62]),
        _ipx(0x0452, struct.pack("!H", 2) + b"\x00"),
        _ipx(0x0452, struct.pack("!H", 9)),
        _ipx(0x0452, b"\x00"),
        _ipx(0x0453, struct.pack("!H", 1)),
        _ipx(0x0453, struct.pack("!HIHH", 1, 0xFFFFFFFF, 0xFFFF, 0xFFFF)),
        _ipx(0x0453, struct.pack("!H", 2) + b"".join(struct.pack("!IHH", n, n % 16, n * 3)
                                                      for n in range(1, 55))),
        _ipx(0x0453, struct.pack("!HIH", 2, 5, 1)),
        _ipx(0x0453, struct.pack("!H", 7)), _ipx(0x0453, b"\x00"),
        _ipx(0x0451, b"ncp request"), _ipx(0x0456, b"diag"), _ipx(0x9001, b"other"),
        _ipx(0x4000, b"", declared=29),
    ]
    return ([ether(p, 0x8137) for p in packets]
            + [_pppoe(p) for p in packets[:3] + packets[10:13] + packets[-2:]])


def ipx_llc_frames() -> list[bytes]:
    """IPX in Novell's raw 802.3 frames and in 802.2 LLC ones, and DDP and AARP in SNAP."""
    from tests.net.corpus import dot3
    from tests.net.corpus_atalk import atalk_frames
    sap = _ipx(0x0452, struct.pack("!H", 2) + _server(4, b"FS1"))
    rip = _ipx(0x0453, struct.pack("!HIHH", 1, 0xFFFFFFFF, 0xFFFF, 0xFFFF))
    frames = [dot3(sap), dot3(rip), dot3(_ipx(0x9001, b"other")),
              dot3(b"\xe0\xe0\x03" + sap), dot3(b"\xe0\xe0\x03" + rip)]
    for frame in atalk_frames():
        etype, payload = frame[12:14], frame[14:]
        oui = b"\x08\x00\x07" if etype == b"\x80\x9b" else b"\x00\x00\x00"
        frames.append(dot3(b"\xaa\xaa\x03" + oui + etype + payload[:120]))
    return frames
