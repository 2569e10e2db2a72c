"""OSPFv2 packets of every type: hellos (designated routers, neighbours, simple and MD5
authentication, an LLS block), database descriptions, link state requests, updates
carrying every LSA body tcpdump decodes (router links of each kind with TOS metrics,
network, summary, ASBR summary, external and NSSA, group membership, graceful restart,
router information, an opaque type it dumps) and acknowledgements; damaged lengths, an
unknown type, version and authentication, an update promising more LSAs than it has."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, ether, ipv4

__all__ = ["ospf_frames"]

_ALL_ROUTERS = "224.0.0.5"


def _ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def _ospf(kind: int, body: bytes, *, area: str = "0.0.0.0", auth: int = 0,
          auth_data: bytes = bytes(8), version: int = 2, declared: int | None = None,
          trailer: bytes = b"") -> bytes:
    size = 24 + len(body) if declared is None else declared
    packet = (struct.pack("!BBH4s4sHH", version, kind, size, _ip("198.18.0.1"), _ip(area), 0,
                          auth) + auth_data + body + trailer)
    return ether(ipv4(A4, _ALL_ROUTERS, 89, packet, ttl=1), 0x0800)


def _hello(*, options: int = 0x02, dr: str = "198.18.0.1", bdr: str = "198.18.0.2",
           neighbours: tuple[str, ...] = ("198.18.0.2", "198.18.0.3")) -> bytes:
    return (struct.pack("!4sHBBI4s4s", _ip("255.255.255.0"), 10, options, 1, 40, _ip(dr),
                        _ip(bdr)) + b"".join(_ip(n) for n in neighbours))


def _header(kind: int, lsa_id: str, body_size: int = 0, *, age: int = 3, options: int = 0x22,
            size: int | None = None) -> bytes:
    return struct.pack("!HBB4s4sIHH", age, options, kind, _ip(lsa_id), _ip("198.18.0.1"),
                       0x80000001, 0, 20 + body_size if size is None else size)


def _lsa(kind: int, lsa_id: str, body: bytes) -> bytes:
    return _header(kind, lsa_id, len(body)) + body


def _update(*lsas: bytes, count: int | None = None) -> bytes:
    return struct.pack("!I", len(lsas) if count is None else count) + b"".join(lsas)


def _tlv(kind: int, value: bytes, *, pad: bool = True) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + bytes(-len(value) % 4 if pad else 0)


def _links() -> bytes:
    link = struct.Struct("!4s4sBBH")
    return (struct.pack("!BxH", 0x03, 5)
            + link.pack(_ip("198.18.0.2"), _ip("198.18.0.1"), 1, 1, 10) + struct.pack(
                "!BxH", 1, 20)
            + link.pack(_ip("198.18.1.1"), _ip("198.18.1.2"), 2, 0, 1)
            + link.pack(_ip("198.18.2.0"), _ip("255.255.255.0"), 3, 0, 100)
            + link.pack(_ip("198.18.0.9"), _ip("198.18.0.1"), 4, 2, 7)
            + struct.pack("!BxHBxH", 2, 30, 9, 40)
            + link.pack(_ip("198.18.0.2"), _ip("198.18.0.1"), 1, 0, 5))


def ospf_frames() -> list[bytes]:
    lls = struct.pack("!HH", 0xBEEF, 7) + _tlv(1, struct.pack("!I", 3)) + _tlv(
        2, struct.pack("!I", 99)) + _tlv(9, b"ab")
    md5 = struct.pack("!HBBI", 0, 5, 16, 0x01020304)
    external = (_ip("255.255.0.0") + struct.pack("!I4s4s", 0x80000014, _ip("198.18.0.254"),
                                                  _ip("0.0.0.42"))
                + struct.pack("!I4s4s", 0x01FFFFFF, bytes(4), bytes(4)))
    grace = (_tlv(1, struct.pack("!I", 120)) + _tlv(2, b"\x01") + _tlv(3, _ip("198.18.0.1"))
             + _tlv(9, b"xyz"))
    info = _tlv(1, struct.pack("!I", 0x3F1), pad=False) + _tlv(7, b"hello", pad=False)
    return [
        _ospf(1, _hello()),
        _ospf(1, _hello(options=0x12) + lls, declared=24 + 28),
        _ospf(1, _hello(dr="0.0.0.0", bdr="0.0.0.0", neighbours=()), area="0.0.0.1", auth=1,
              auth_data=b"pa\x01s\0\0\0\0"),
        _ospf(1, _hello(options=0xFF, bdr="0.0.0.0"), auth=1, auth_data=b"12345678"),
        _ospf(1, _hello(), auth=2, auth_data=md5, trailer=bytes(range(16))),
        _ospf(1, _hello(options=0x10, neighbours=()) + bytes(16) + lls, auth=2, auth_data=md5,
              declared=24 + 20, trailer=bytes(range(16))),
        _ospf(2, struct.pack("!HBBI", 1500, 0x52, 0x07, 0x1234) + _header(1, "198.18.0.1")
              + _header(10, "4.0.0.0", options=0) + _header(8, "198.18.0.0")),
        _ospf(2, struct.pack("!HBBI", 0, 0, 0x08, 9)),
        _ospf(2, struct.pack("!HBBI", 1500, 0x10, 1, 9) + struct.pack("!HH", 1, 4),
              declared=32),
        _ospf(3, struct.pack("!I4s4s", 1, _ip("198.18.0.1"), _ip("198.18.0.1"))
              + struct.pack("!I4s4s", 9, bytes([3, 0, 0, 5]), _ip("198.18.0.2"))
              + struct.pack("!I4s4s", 12, _ip("198.18.0.3"), _ip("198.18.0.2"))),
        _ospf(4, _update(_lsa(1, "198.18.0.1", _links()),
                         _lsa(2, "198.18.1.1", _ip("255.255.255.0") + _ip("198.18.0.1")
                              + _ip("198.18.0.2")))),
        _ospf(4, _update(_lsa(3, "198.18.5.0", _ip("255.255.255.0") + struct.pack(
            "!II", 10, 0x01000020)), _lsa(4, "198.18.0.7", struct.pack("!II", 0, 5)),
            _lsa(5, "198.19.0.0", external), _lsa(7, "198.19.1.0", external[:16]))),
        _ospf(4, _update(_lsa(6, "198.18.0.1", struct.pack("!I4sI4sI4s", 1, _ip("198.18.0.1"),
                                                           2, _ip("198.18.0.2"), 5,
                                                           _ip("198.18.0.3"))),
                         _lsa(8, "198.18.0.1", b"link"))),
        _ospf(4, _update(_lsa(9, "3.0.0.0", grace), _lsa(10, "4.0.0.0", info),
                         _lsa(11, "7.0.0.1", bytes(range(10))))),
        _ospf(4, _update(_lsa(9, "3.0.0.0", _tlv(1, b"\0\0\0\x05\0\0")),
                         _lsa(9, "3.0.0.0", _tlv(0, b"1234")),
                         _lsa(10, "4.0.0.0", _tlv(1, b"\0\0\1"))[:-1] + b"\0")),
        _ospf(4, _update(_lsa(9, "3.0.0.0", _tlv(2, b"\x07") + b"\0\x01\0"),
                         _lsa(10, "4.0.0.0", _tlv(1, b"\0\0\0\x10") + b"\0\1"))),
        _ospf(4, _update(_lsa(1, "198.18.0.1", struct.pack("!BxH4s4sBBH", 0, 2, bytes(4),
                                                            bytes(4), 9, 0, 1)),
                         _lsa(2, "198.18.1.1", _ip("255.255.255.0")))),
        _ospf(4, _update(_lsa(2, "198.18.1.1", _ip("255.255.255.0")), count=3)),
        _ospf(4, _update(_header(1, "198.18.0.1", size=12))),
        _ospf(5, _header(1, "198.18.0.1") + _header(11, "4.0.0.9")),
        _ospf(5, _header(1, "198.18.0.1") + _header(2, "198.18.1.1", size=0)),
        _ospf(9, b"\0" * 8), _ospf(1, _hello(), version=3), _ospf(1, _hello(), auth=7),
        _ospf(1, _hello(), declared=30), _ospf(1, b"\xff\xff\xff\x00\x00"),
    ]


def ospf_te_frames() -> list[bytes]:
    """Traffic engineering LSAs (opaque type 1): the router address TLV, a link TLV with
    every sub-TLV tcpdump decodes (bandwidths as IEEE singles), wrong sub-TLV lengths
    (each ends the LSA ' (invalid)'), bogus TLV lengths, an unknown TLV and sub-TLV."""
    def te(body: bytes, lsa_id: str = "1.0.0.1") -> bytes:
        return _lsa(10, lsa_id, body)

    def f(value: float) -> bytes:
        return struct.pack("!f", value)

    subs = [_tlv(1, b"\x01"), _tlv(1, b"\x07"), _tlv(2, _ip("198.18.0.2")),
            _tlv(11, _ip("0.0.0.5") + _ip("0.0.0.6")), _tlv(3, _ip("198.18.0.1")),
            _tlv(4, _ip("198.18.0.2")), _tlv(5, struct.pack("!I", 10)),
            _tlv(6, f(1.25e9)), _tlv(7, f(123456.789)),
            _tlv(8, b"".join(f(1e6 * (i + 1) / 3) for i in range(8))),
            _tlv(9, struct.pack("!I", 0xF0)), _tlv(14, b"\x14\0\0\0"), _tlv(14, bytes(4)),
            _tlv(15, b"\x33\x02\0\0" + b"".join(f(1e5 * i) for i in range(8))),
            _tlv(15, b"\x07\x63\0\0" + bytes(32)), _tlv(17, b"\x00\0\0\0" + f(1e7) + f(2e7)),
            _tlv(17, b"\xfe\0\0\0"), _tlv(17, b"\x09\0\0\0" + f(1.0)), _tlv(99, b"abcde"),
            # tcpdump skips a shared risk group's bytes twice: last, what follows is garbage
            _tlv(16, struct.pack("!III", 1, 2, 3)), _tlv(16, b"")]
    link = _tlv(2, b"".join(subs))
    bad_subs = [_tlv(9, b"12"), _tlv(2, b"123456"), _tlv(3, b"12345678"), _tlv(6, b"12"),
                _tlv(8, bytes(8)), _tlv(17, b"1"), _tlv(17, bytes(6)), _tlv(17, bytes(40)),
                _tlv(5, b""), _tlv(14, b"1"), _tlv(15, bytes(8)), _tlv(1, b"12"),
                _tlv(16, b"123"), _tlv(0, b"1234")]
    return [
        _ospf(4, _update(te(_tlv(1, _ip("198.18.0.1"))), te(link, "1.0.0.2"),
                         te(_tlv(1, _ip("198.18.0.9")) + _tlv(7, b"other TLV")))),
        *[_ospf(4, _update(te(_tlv(2, sub)), te(_tlv(1, _ip("198.18.0.1")))))
          for sub in bad_subs],
        _ospf(4, _update(te(_tlv(1, b"12")), te(_tlv(2, b"\0\x01\0\x08\x01")),
                         te(_tlv(2, b"\0\x01\0\x01\x01\0\0")), te(_tlv(1, b"\1\2\3\4", pad=False)
                                                                  + b"\0\2\0\x09abc"),
                         te(b"\0\x01\0\x04"), te(b"\0\x01"), te(_tlv(0, b"1234")))),
    ]
