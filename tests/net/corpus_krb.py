"""Kerberos messages on ports 88 and 750: version 5's AS-REQ, AS-REP, TGS-REQ and
KRB-ERROR (only the first two are named), versions 1 to 3, and version 4's KDC
requests and replies, application requests and error replies in both byte orders, other
types and unknown error codes, principals without their NUL."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, B4, ether, ipv4, udp

__all__ = ["krb_frames"]


def _krb(body: bytes, *, port: int = 88, reply: bool = False) -> bytes:
    ports = (port, 40000) if reply else (40000, port)
    return ether(ipv4(A4, B4, 17, udp(A4, B4, *ports, body)), 0x0800)


def _v4(kind: int, body: bytes, *, little: bool = False) -> bytes:
    return bytes([4, kind | little]) + body


def _principal(name: bytes, instance: bytes, realm: bytes) -> bytes:
    return name + b"\0" + instance + b"\0" + realm + b"\0"


def krb_frames() -> list[bytes]:
    user = _principal(b"alice", b"", b"EXAMPLE.TEST")
    return [
        _krb(bytes.fromhex("6a8188308185a103020105a20302010a")),
        _krb(bytes.fromhex("6b8188308185a003020105a10302010b"), reply=True),
        _krb(bytes.fromhex("6c8188308185a103020105a20302010c")),
        _krb(bytes.fromhex("7e8188308185a003020105a10302011e"), reply=True),
        *[_krb(bytes([version, 2]) + bytes(6)) for version in (1, 2, 3, 5, 0)],
        _krb(_v4(2, user + struct.pack("!I", 1000) + b"\x60krbtgt\0EXAMPLE.TEST\0"),
             port=750),
        _krb(_v4(2, user + struct.pack("<I", 1000) + b"\x0akrbtgt\0EX\x01AMPLE\0",
                 little=True)),
        _krb(_v4(2, user + struct.pack("!I", 1000) + b"\x60krbtgt\0EXAMPLE")),
        _krb(_v4(4, user + bytes(10) + struct.pack("!H", 300)), reply=True),
        _krb(_v4(4, user + bytes(10) + struct.pack("<H", 300), little=True), reply=True),
        _krb(_v4(6, b"\x07rcmd\0\x05\x09" + bytes(20))),
        _krb(_v4(10, user + bytes(4) + struct.pack("!HH", 8, 0) + b"no such principal\0"),
             reply=True),
        _krb(_v4(10, user + bytes(4) + struct.pack("<HH", 77, 0) + b"odd\0", little=True),
             reply=True),
        *[_krb(_v4(kind, user)) for kind in (8, 12, 14, 16, 126, 40)],
        _krb(_v4(2, b"alice\0in")), _krb(b"\x04"),
    ]
