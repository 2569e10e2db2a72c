"""Frames of L2TP (UDP 1701) and of PPP inside it and inside PPPoE, built byte by byte for
comparing ``pybpf sniff -r`` with ``tcpdump -n -r``: control messages with every attribute
tcpdump decodes (hidden, vendor, too short, past the end), data messages carrying LCP,
IPCP, IP6CP, CCP and BACP negotiations with every option, CHAP, PAP, multilink, IPv4 and
IPv6, and headers that contradict themselves."""

from __future__ import annotations

import ipaddress
import struct

from tests.net.corpus import A4, A6, B4, B6, ether, icmp, ipv4, ipv6, udp

__all__ = ["l2tp_frames", "pppoe_frames"]


def _avp(kind: int, value: bytes, *, flags: int = 0x8000, vendor: int = 0) -> bytes:
    return struct.pack("!HHH", flags | (6 + len(value)), vendor, kind) + value


def _control(avps: bytes, *, tunnel: int = 7, session: int = 0, ns: int = 1,
             nr: int = 2) -> bytes:
    return struct.pack("!HHHHHH", 0xC802, 12 + len(avps), tunnel, session, ns, nr) + avps


def _data(ppp: bytes, *, flags: int = 0x0002, tunnel: int = 7, session: int = 9) -> bytes:
    head = struct.pack("!H", flags)
    if flags & 0x4000:
        head += struct.pack("!H", 6 + len(ppp) + (4 if flags & 0x0800 else 0)
                            + (2 if flags & 0x0200 else 0))
    head += struct.pack("!HH", tunnel, session)
    if flags & 0x0800:
        head += struct.pack("!HH", 3, 4)
    if flags & 0x0200:
        head += struct.pack("!H", 0)
    return head + ppp


def _cp(proto: int, code: int, ident: int, body: bytes, *, acfc: bool = True) -> bytes:
    """A control protocol packet in a PPP frame (address and control bytes first)."""
    return ((b"\xff\x03" if acfc else b"") + struct.pack("!HBBH", proto, code, ident,
                                                          4 + len(body)) + body)


def _opt(kind: int, value: bytes) -> bytes:
    return bytes([kind, 2 + len(value)]) + value


def _ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


LCP, IPCP, IP6CP, CCP, BACP = 0xC021, 0x8021, 0x8057, 0x80FD, 0xC02B


def _ppp_frames() -> list[bytes]:
    lcp_options = (_opt(1, struct.pack("!H", 1460)) + _opt(2, bytes(4))
                   + _opt(3, struct.pack("!HB", 0xC223, 5)) + _opt(5, b"\x12\x34\x56\x78")
                   + _opt(7, b"") + _opt(8, b"") + _opt(0, b"\x00\x00\x0c\x01")
                   + _opt(4, struct.pack("!HI", 0xC025, 1)) + _opt(23, b"\x00\x07")
                   + _opt(13, b"\x06") + _opt(17, struct.pack("!H", 1600))
                   + _opt(19, b"\x02" + _ip(A4)) + _opt(19, b"\x03" + bytes(6))
                   + _opt(19, b"\x01abc") + _opt(9, b"\x01") + _opt(40, b"\x01\x02"))
    lcp_auth = (_opt(3, struct.pack("!H", 0xC023)) + _opt(3, struct.pack("!HB", 0xC223, 0x81))
                + _opt(3, struct.pack("!HB", 0xC223, 9)) + _opt(3, struct.pack("!HB", 0x1234, 1)))
    bogus = [_opt(1, b"\x05"), _opt(2, b"\x00"), _opt(0, b"\x00"), _opt(3, b""), _opt(4, b""),
             _opt(5, b""), _opt(23, b""), _opt(13, b""), _opt(17, b""), _opt(19, b""),
             _opt(19, b"\x02\x00"), _opt(19, b"\x03\x00"), bytes([1, 1, 0, 0]),
             bytes([1, 9, 0, 0])]
    ipcp_options = (_opt(3, _ip(B4)) + _opt(129, _ip("198.18.9.9")) + _opt(131, _ip(A4))
                    + _opt(130, bytes(4)) + _opt(132, bytes(4)) + _opt(4, _ip(A4))
                    + _opt(1, _ip(A4) + _ip(B4)) + _opt(2, struct.pack("!HBB", 0x2D, 15, 1))
                    + _opt(2, struct.pack("!HHHHHH", 0x61, 15, 16, 256, 5, 168)
                           + bytes([1, 2, 2, 3, 0]))
                    + _opt(2, struct.pack("!H", 0x77)) + _opt(99, b"\xab\xcd"))
    ipcp_bogus = [_opt(3, b"\x01"), _opt(1, b"\x01"), _opt(2, b""),
                  _opt(2, struct.pack("!HH", 0x61, 1)),
                  _opt(2, struct.pack("!HHHHHH", 0x61, 1, 2, 3, 4, 5) + bytes([1, 9])),
                  bytes([3, 1])]
    ccp_options = (_opt(26, b"\x78\x00") + _opt(21, b"\x2f") + _opt(24, b"\xe5\x03")
                   + _opt(18, bytes(4)) + _opt(26, b"") + _opt(21, b"") + _opt(24, b""))
    frames = [
        _cp(LCP, 1, 1, lcp_options), _cp(LCP, 2, 1, lcp_auth), _cp(LCP, 1, 2, b""),
        _cp(LCP, 9, 3, b"\x01\x02\x03\x04"), _cp(LCP, 10, 3, b"\x01\x02\x03\x04abcdef"),
        _cp(LCP, 11, 4, b"\x01\x02\x03\x04"), _cp(LCP, 12, 5, b"\x01\x02\x03\x04hello peer"),
        _cp(LCP, 13, 6, struct.pack("!II", 9, 3600)), _cp(LCP, 5, 7, b"bye"),
        _cp(LCP, 6, 7, b""), _cp(LCP, 7, 8, b"\x42\x00\x00\x04"),
        _cp(LCP, 8, 9, struct.pack("!H", 0x8057) + b"\x01\x01\x00\x04"),
        _cp(LCP, 0, 10, struct.pack("!I", 5) + b"\x00\x00\x0c\x01"),
        _cp(LCP, 14, 11, b"\x01\x02"), _cp(LCP, 42, 12, b"\x01"),
        _cp(LCP, 9, 13, b"\x01\x02"), _cp(IPCP, 1, 1, ipcp_options),
        _cp(IPCP, 3, 2, _opt(3, bytes(4)) + _opt(129, bytes(4))),
        _cp(IP6CP, 1, 1, _opt(1, bytes.fromhex("0211223344556677")) + _opt(2, b"\x00\x2d")),
        _cp(IP6CP, 4, 2, _opt(1, b"\x01\x02")),
        _cp(CCP, 1, 1, ccp_options), _cp(CCP, 14, 2, b""),
        _cp(BACP, 1, 1, _opt(1, b"\x01\x02\x03\x04") + _opt(1, b"") + _opt(7, b"\x01")),
        _cp(0x8023, 1, 1, _opt(1, b"\x01")), _cp(0x8281, 2, 1, b""),
        struct.pack("!HHBBHB", 0xFF03, 0xC021, 1, 9, 20, 2) + _opt(1, b"\x05\xdc"),
        struct.pack("!HHBBH", 0xFF03, 0xC021, 1, 9, 2),
        b"\xff\x03\xc0\x21\x01",
        _cp(LCP, 1, 9, b"", acfc=False), b"\x00\x03" + _cp(LCP, 1, 9, b"", acfc=False),
        b"\x01\x03" + _cp(IPCP, 1, 9, b"", acfc=False),
        # CHAP, PAP
        b"\xff\x03\xc2\x23\x01\x01\x00\x15\x08" + bytes(range(8)) + b"server",
        b"\xff\x03\xc2\x23\x02\x01\x00\x15\x08" + bytes(range(8, 16)) + b"client",
        b"\xff\x03\xc2\x23\x01\x01\x00\x13\x08" + bytes(range(8)) + b"server",
        b"\xff\x03\xc2\x23\x03\x01\x00\x0cWelcome!", b"\xff\x03\xc2\x23\x04\x01\x00\x06no",
        b"\xff\x03\xc2\x23\x05\x01\x00\x04", b"\xff\x03\xc2\x23\x01\x02",
        b"\xff\x03\xc2\x23\x01\x01\x00\x07\x03\x01\x02",
        b"\xff\x03\xc0\x23\x01\x01\x00\x10\x04user\x06secret",
        b"\xff\x03\xc0\x23\x02\x01\x00\x08\x03ok!", b"\xff\x03\xc0\x23\x03\x01\x00\x09\x04nope",
        b"\xff\x03\xc0\x23\x01\x01\x00\x05\x01", b"\xff\x03\xc0\x23\x02\x01\x00\x04",
        b"\xff\x03\xc0\x23\x01\x01\x00\x40\x04user", b"\xff\x03\xc0\x23\x01\x01\x00\x02",
        b"\xff\x03\xc0\x23\x07\x01\x00\x04", b"\xff\x03\xc0\x23\x01\x01\x00\x0a\x04us\x00\x00",
        # multilink, compressed, unknown, IP and IPv6 (with and without compressed headers)
        b"\xff\x03\x00\x3d\xc0\x12" + bytes(6), b"\xff\x03\x00\x3d\x00\x01",
        b"\xff\x03\x00\xfd\x01\x02", b"\xff\x03\x12\x34\x01\x02\x03",
        b"\xff\x03\x80\x31\x01\x02",
        b"\xff\x03\x00\x21" + ipv4("10.0.0.1", "10.0.0.2", 1, icmp(8, 0, b"\0\1\0\2")),
        b"\x21" + ipv4("10.0.0.1", "10.0.0.2", 17, udp("10.0.0.1", "10.0.0.2", 7, 9, b"x")),
        b"\x00\x57" + ipv6(A6, B6, 59, b""),
    ]
    frames += [_cp(LCP, 4, 20 + i, option) for i, option in enumerate(bogus)]
    frames += [_cp(IPCP, 4, 20 + i, option) for i, option in enumerate(ipcp_bogus)]
    return frames


def l2tp_frames() -> list[bytes]:
    """L2TP control and data messages over IPv4 and IPv6."""
    avps = (_avp(0, b"\x00\x01") + _avp(2, b"\x01\x00") + _avp(3, b"\x00\x00\x00\x03")
            + _avp(4, b"\x00\x00\x00\x01") + _avp(5, bytes(range(8)), flags=0)
            + _avp(6, b"\x06\x90") + _avp(7, b"lac-1") + _avp(8, b"Example\x01")
            + _avp(9, b"\x00\x07") + _avp(10, b"\x00\x04") + _avp(11, b"\xaa\xbb")
            + _avp(39, b"") + _avp(99, b"\x01") + _avp(20, b""))
    session = (_avp(0, b"\x00\x0a") + _avp(14, b"\x00\x09") + _avp(15, b"\x00\x00\x00\x01")
               + _avp(16, b"\x00\x00\x25\x80") + _avp(17, b"\x00\x01\x00\x00")
               + _avp(18, b"\x00\x00\x00\x02") + _avp(19, b"\x00\x00\x00\x01")
               + _avp(21, b"5551234") + _avp(22, b"5550000") + _avp(23, b"x")
               + _avp(24, b"\x00\x01\x00\x00") + _avp(25, b"\x00\x00\x00\x02")
               + _avp(26, b"\x01\x02") + _avp(27, b"\x03") + _avp(28, b"")
               + _avp(29, b"\x00\x02") + _avp(29, b"\x00\x09") + _avp(30, b"bob")
               + _avp(31, b"\x11") + _avp(32, b"\x00\x05") + _avp(33, b"\x22")
               + _avp(36, b"\x33") + _avp(37, b"grp") + _avp(38, b"\x00\x00\x10\x00")
               + _avp(13, bytes(range(16))) + _avp(12, b"\x00\x10\x01cause")
               + _avp(12, b"\x00\x10\x01"))
    errors = (_avp(0, b"\x00\x0e") + _avp(1, b"\x00\x02\x00\x06no carrier") + _avp(1, b"\x00\x01")
              + _avp(1, b"\x00\x01\x00") + _avp(1, b"\x00\x01\x00\x02")
              + _avp(34, bytes(2) + struct.pack("!6I", 1, 2, 3, 4, 5, 6))
              + _avp(34, bytes(2) + struct.pack("!2I", 1, 2)) + _avp(34, b"\x00")
              + _avp(35, bytes(2) + struct.pack("!2I", 0xFFFFFFFF, 0))
              + _avp(35, bytes(2) + struct.pack("!I", 1))
              + _avp(46, struct.pack("!HHB", 3, 0xC021, 1) + b"peer gone")
              + _avp(46, struct.pack("!HHB", 3, 0xC021, 7)) + _avp(46, b"\x00")
              + _avp(0, b"\x00\x63") + _avp(0, b"") + _avp(2, b"") + _avp(3, b"")
              + _avp(4, b"") + _avp(5, b"") + _avp(6, b"") + _avp(15, b"")
              + _avp(13, b"") + _avp(18, b"") + _avp(19, b"") + _avp(29, b"")
              + _avp(32, b"") + _avp(12, b"\x00") + _avp(7, b"", flags=0x4000)
              + _avp(8, b"secret", flags=0xC000) + _avp(1, b"", flags=0)
              + _avp(0x1234, b"\x01\x02\x03", vendor=9))
    messages = [
        _control(avps), _control(session, session=9), _control(errors),
        _control(b""), struct.pack("!HHH", 0x8002, 7, 0),
        struct.pack("!HHHH", 0xC002, 200, 7, 0), struct.pack("!HHHH", 0xC002, 4, 7, 0),
        _control(struct.pack("!HHH", 0x8004, 0, 0)),
        _control(struct.pack("!HHHH", 0x8010, 0, 0, 0)),
        _control(_avp(0, b"\x00\x06") + struct.pack("!H", 0x8000 | 40) + bytes(4)),
        struct.pack("!HH", 0x0001, 5), struct.pack("!HH", 0x0003, 5),
        struct.pack("!HHHH", 0x0202, 7, 9, 4) + b"pad!" + _cp(LCP, 9, 1, bytes(4)),
        struct.pack("!HHHH", 0x0202, 7, 9, 400),
    ]
    messages += [_data(ppp) for ppp in _ppp_frames()]
    messages += [_data(_cp(LCP, 9, 2, bytes(4)), flags=flags)
                 for flags in (0x4002, 0x4802, 0x0902, 0x4B02)]
    frames = [ether(ipv4(A4, B4, 17, udp(A4, B4, 1701, 1701, m)), 0x0800) for m in messages]
    frames.append(ether(ipv6(A6, B6, 17, udp(A6, B6, 1701, 1701, messages[0])), 0x86DD))
    frames.append(ether(ipv4(A4, B4, 17, udp(A4, B4, 40000, 1701, messages[-1])), 0x0800))
    return frames


def pppoe_frames() -> list[bytes]:
    """PPPoE sessions carrying PPP control protocols, and odd PPPoE headers."""
    def session(ppp: bytes, *, head: int = 0x11, declared: int | None = None) -> bytes:
        size = len(ppp) if declared is None else declared
        return ether(struct.pack("!BBHH", head, 0, 0x1234, size) + ppp, 0x8864)
    frames = [session(ppp[2:] if ppp[:2] == b"\xff\x03" else ppp) for ppp in _ppp_frames()]
    frames.append(session(_cp(LCP, 9, 1, bytes(4))[2:], head=0x22))
    frames.append(session(_cp(LCP, 9, 1, bytes(4))[2:], declared=300))
    return frames


def osi_ppp_frames() -> list[bytes]:
    """OSI packets in PPP (protocol 0x0023, in PPPoE sessions): CLNP of each PDU type with
    NSAPs of several lengths, ES-IS hellos and redirects, IS-IS hellos (LAN and
    point-to-point), LSPs, CSNPs and PSNPs, NULL and unknown NLPIDs; and damaged headers
    (versions, length indicators, address lengths, fixed lengths, areas)."""
    def session(osi: bytes) -> bytes:
        ppp = b"\x00\x23" + osi
        return ether(struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp)) + ppp, 0x8864)

    def clnp(kind: int, dst: bytes, src: bytes, *, li: int | None = None, version: int = 1,
             tail: bytes = b"payload") -> bytes:
        header = bytes([len(dst)]) + dst + bytes([len(src)]) + src
        size = 9 + len(header) if li is None else li
        return bytes([0x81, size, version, 30, kind, 0, 40, 0, 0]) + header + tail

    def esis(kind: int, *, li: int = 14, version: int = 1) -> bytes:
        return bytes([0x82, li, version, 0, kind, 0, 30, 0, 0, 5]) + bytes(range(1, 6)) + b"xx"

    def isis(kind: int, fixed: int, body: bytes, *, version: int = 1, id_len: int = 0,
             pdu_version: int = 1, areas: int = 0) -> bytes:
        return bytes([0x83, fixed, version, id_len, kind, pdu_version, 0, areas]) + body

    sys_id, lan_id = bytes.fromhex("1921680000010a"), bytes.fromhex("19216800000203")
    lan = b"\x03" + sys_id[:6] + b"\x00\x1e\x00\x40" + b"\x40" + lan_id + b"tlvs"
    area = bytes.fromhex("490001")
    nsap = bytes.fromhex("490001c0a800000100")
    frames = [clnp(kind, nsap, area + bytes(range(17))) for kind in (1, 28, 29, 30, 31, 7)]
    frames += [clnp(28, b"\x01", b"\x02\x03"), clnp(28, b"", nsap),
               clnp(28, bytes(21), nsap), clnp(28, nsap, nsap, version=2),
               clnp(28, nsap, nsap, li=200), clnp(28, nsap, nsap, li=5),
               clnp(28, nsap, nsap, li=9), clnp(28, nsap, nsap, li=12),
               clnp(28, nsap, nsap, li=20)]
    frames += [esis(kind) for kind in (2, 4, 6, 9)]
    frames += [esis(2, version=3), esis(2, li=200), esis(2, li=10), b"\x82\x01",
               b"\x82\x0e\x01"]
    frames += [isis(15, 27, lan), isis(16, 27, lan, id_len=6), isis(17, 20, b"\x01" + sys_id[:6]
                                                                  + b"\0\x1e\0\x30\x05tlv"),
               isis(18, 27, b"\0\x40\x04\xb0" + sys_id + b"\x00" + b"\0\0\0\x07\0\0\x03"),
               isis(20, 27, b"\0\x40\x00\x05" + sys_id + b"\x01" + b"\x80\0\0\0\0\0\x03"),
               isis(24, 33, b"\0\x40" + sys_id + bytes(16)), isis(25, 33, b"\0\x40" + sys_id
                                                                   + bytes(16)),
               isis(26, 17, b"\0\x40" + sys_id + b"tlv"), isis(27, 17, b"\0\x40" + sys_id),
               isis(19, 8, b"what"), isis(0x35, 8, b""),
               isis(15, 27, lan, version=2), isis(15, 27, lan, id_len=4),
               isis(15, 27, lan, pdu_version=9), isis(15, 99, lan), isis(15, 4, lan),
               isis(15, 27, lan, areas=255), isis(15, 26, lan), isis(26, 9, bytes(12)),
               isis(18, 27, b"\0\x40")]
    frames += [b"\x00\x01\x02", b"\x00", b"\x55\x01\x02\x03", b"\x44", b"\xcc"]
    return [session(f) for f in frames]
