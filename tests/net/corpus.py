"""A capture of many protocols, built byte by byte (no scapy), for line-by-line comparison
of ``pybpf sniff -r`` with ``tcpdump -n -r``: Ethernet II and 802.3/LLC/SNAP, ARP, VLAN and
QinQ, IPv4 (options, fragments) and IPv6 (extension headers), ICMP and ICMPv6 (echo, ND,
MLD, errors), TCP with every option, UDP, DNS, DHCP, NTP, IGMP, GRE, IPIP, VXLAN, Geneve,
MPLS, PPPoE, STP, LLDP, CDP, AH, PIMv2, VRRP, IGRP, SNMP. Addresses are from 198.18.0.0/15 and
2001:db8::/32; checksums are computed where tcpdump -v checks them."""

from __future__ import annotations

import ipaddress
import struct

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
A4, B4, C4 = "198.18.0.1", "198.18.0.2", "198.19.1.1"
A6, B6 = "2001:db8::1", "2001:db8::2"
LL6 = "fe80::1"


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ether(payload: bytes, ethertype: int, *, src: bytes = MAC_A, dst: bytes = MAC_B,
          tags: tuple[tuple[int, int], ...] = (), pad: bool = True) -> bytes:
    head = dst + src + b"".join(struct.pack("!HH", tpid, tci) for tpid, tci in tags)
    frame = head + struct.pack("!H", ethertype) + payload
    return frame + bytes(max(0, 60 - len(frame))) if pad else frame


def dot3(payload: bytes, *, dst: bytes = MAC_B, src: bytes = MAC_A) -> bytes:
    frame = dst + src + struct.pack("!H", len(payload)) + payload
    return frame + bytes(max(0, 60 - len(frame)))


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, ident: int = 1, ttl: int = 64,
         flags: int = 0x4000, tos: int = 0, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, 4 * ihl + len(payload), ident,
                         flags, ttl, proto, 0, ipaddress.IPv4Address(src).packed,
                         ipaddress.IPv4Address(dst).packed) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def _pseudo4(src: str, dst: str, proto: int, length: int) -> bytes:
    return (ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
            + struct.pack("!BBH", 0, proto, length))


def _pseudo6(src: str, dst: str, proto: int, length: int) -> bytes:
    return (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
            + struct.pack("!IxxxB", length, proto))


def ipv6(src: str, dst: str, next_header: int, payload: bytes, *, hop_limit: int = 64,
         flow: int = 0) -> bytes:
    return (struct.pack("!IHBB", 0x60000000 | flow, len(payload), next_header, hop_limit)
            + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload)


def tcp(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int, *,
        options: bytes = b"", data: bytes = b"", win: int = 64240, urg: int = 0) -> bytes:
    offset = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, win, 0,
                      urg) + options + data
    pseudo = (_pseudo6 if ":" in src else _pseudo4)(src, dst, 6, len(seg))
    return seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]


def udp(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    dgram = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = (_pseudo6 if ":" in src else _pseudo4)(src, dst, 17, len(dgram))
    return dgram[:6] + struct.pack("!H", checksum(pseudo + dgram) or 0xFFFF) + dgram[8:]


def icmp(kind: int, code: int, body: bytes) -> bytes:
    msg = struct.pack("!BBH", kind, code, 0) + body
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmp6(src: str, dst: str, kind: int, code: int, body: bytes) -> bytes:
    msg = struct.pack("!BBH", kind, code, 0) + body
    pseudo = _pseudo6(src, dst, 58, len(msg))
    return msg[:2] + struct.pack("!H", checksum(pseudo + msg)) + msg[4:]


def arp(op: int, sender_mac: bytes, sender: str, target_mac: bytes, target: str) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac,
                       ipaddress.IPv4Address(sender).packed, target_mac,
                       ipaddress.IPv4Address(target).packed)


def dns_name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def dns_query(ident: int, name: str, qtype: int, *, rd: bool = True) -> bytes:
    return struct.pack("!HHHHHH", ident, 0x0100 if rd else 0, 1, 0, 0, 0) + dns_name(
        name) + struct.pack("!HH", qtype, 1)


def dns_answer(ident: int, name: str, addresses: list[str]) -> bytes:
    head = struct.pack("!HHHHHH", ident, 0x8180, 1, len(addresses), 0, 0)
    question = dns_name(name) + struct.pack("!HH", 1, 1)
    answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4)
                       + ipaddress.IPv4Address(a).packed for a in addresses)
    return head + question + answers


SYN_OPTIONS = (bytes([2, 4]) + struct.pack("!H", 1460) + bytes([4, 2, 8, 10])
               + struct.pack("!II", 1000, 0) + bytes([1, 3, 3, 7]))
ACK_OPTIONS = bytes([1, 1, 8, 10]) + struct.pack("!II", 1001, 2000)
SACK_OPTIONS = bytes([1, 1, 5, 18]) + struct.pack("!IIII", 3000000100, 3000000200,
                                                  3000000300, 3000000400)
TFO_OPTIONS = bytes([2, 4, 5, 0xB4, 34, 10]) + bytes(range(8)) + bytes([1, 1])
MPTCP_OPTIONS = bytes([30, 12, 0x00, 0x81]) + bytes(range(8)) + bytes([1, 1, 1, 0])
ODD_OPTIONS = bytes([19, 18]) + bytes(16) + bytes([28, 4, 0x80, 0x10, 0, 0])


def tcp_conversation() -> list[bytes]:
    c, s = 3_000_000_000, 123_456
    segs = [
        (A4, B4, 40000, 80, c, 0, 0x02, SYN_OPTIONS, b"", 64240),
        (B4, A4, 80, 40000, s, c + 1, 0x12, SYN_OPTIONS, b"", 65160),
        (A4, B4, 40000, 80, c + 1, s + 1, 0x10, ACK_OPTIONS, b"", 502),
        (A4, B4, 40000, 80, c + 1, s + 1, 0x18, ACK_OPTIONS,
         b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 502),
        (B4, A4, 80, 40000, s + 1, c + 28, 0x18, ACK_OPTIONS,
         b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 509),
        (A4, B4, 40000, 80, c + 28, s + 39, 0x10, SACK_OPTIONS, b"", 502),
        (A4, B4, 40000, 80, c + 28, s + 39, 0x11, b"", b"", 502),
        (B4, A4, 80, 40000, s + 39, c + 29, 0x14, b"", b"", 0),
        (A4, B4, 40010, 443, 5, 0, 0xC2, TFO_OPTIONS, b"", 1024),
        (A4, B4, 40011, 22, 9, 0, 0x02, MPTCP_OPTIONS, b"", 1024),
        (A4, B4, 40012, 179, 9, 1, 0x38, ODD_OPTIONS, b"\x00" * 4, 1024),
        (A4, B4, 40013, 25, 0, 0, 0x00, b"", b"", 0),
        (A4, B4, 40014, 25, 1, 2, 0xFF, b"", b"", 7),
    ]
    frames = []
    for src, dst, sp, dp, seq, ack, flags, opts, data, win in segs:
        frames.append(ether(ipv4(src, dst, 6, tcp(src, dst, sp, dp, seq, ack, flags,
                                                    options=opts, data=data, win=win,
                                                    urg=3 if flags & 0x20 else 0)), 0x0800))
    frames.append(ether(ipv6(A6, B6, 6, tcp(A6, B6, 41000, 9000, 77, 0, 0x02,
                                            options=SYN_OPTIONS)), 0x86DD))
    frames.append(ether(ipv6(B6, A6, 6, tcp(B6, A6, 9000, 41000, 500, 78, 0x12)), 0x86DD))
    return frames


def build_frames() -> list[bytes]:
    """Every frame of the corpus, in capture order."""
    frames = tcp_conversation()
    add = frames.append
    bcast = b"\xff" * 6
    # ARP
    add(ether(arp(1, MAC_A, A4, bytes(6), B4), 0x0806, dst=bcast))
    add(ether(arp(2, MAC_B, B4, MAC_A, A4), 0x0806))
    add(ether(arp(1, MAC_A, A4, bytes(6), A4), 0x0806, dst=bcast))  # gratuitous
    add(ether(arp(3, MAC_A, A4, MAC_A, A4), 0x8035, dst=bcast))  # RARP
    # UDP, DNS
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40001, 9999, b"datagram")), 0x0800))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40002, 53, dns_query(0x1234, "example.com",
                                                               1))), 0x0800))
    add(ether(ipv4(B4, A4, 17, udp(B4, A4, 53, 40002, dns_answer(
        0x1234, "example.com", ["198.18.9.9", "198.18.9.10"]))), 0x0800))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40003, 53, dns_query(7, "example.org", 28))),
              0x0800))
    add(ether(ipv6(A6, B6, 17, udp(A6, B6, 40004, 53, dns_query(8, "www.example.net",
                                                               15))), 0x86DD))
    # ICMP
    add(ether(ipv4(A4, B4, 1, icmp(8, 0, struct.pack("!HH", 77, 1) + bytes(56))), 0x0800))
    add(ether(ipv4(B4, A4, 1, icmp(0, 0, struct.pack("!HH", 77, 1) + bytes(56))), 0x0800))
    inner = ipv4(A4, B4, 17, udp(A4, B4, 40005, 33434, bytes(12)))
    add(ether(ipv4(B4, A4, 1, icmp(3, 3, bytes(4) + inner[:28])), 0x0800))
    add(ether(ipv4(B4, A4, 1, icmp(3, 1, bytes(4) + inner[:28])), 0x0800))
    add(ether(ipv4(C4, A4, 1, icmp(11, 0, bytes(4) + inner[:28])), 0x0800))
    # ICMPv6
    add(ether(ipv6(A6, B6, 58, icmp6(A6, B6, 128, 0, struct.pack("!HH", 5, 9) + bytes(8))),
              0x86DD))
    add(ether(ipv6(B6, A6, 58, icmp6(B6, A6, 129, 0, struct.pack("!HH", 5, 9) + bytes(8))),
              0x86DD))
    ns_target = ipaddress.IPv6Address(B6).packed
    add(ether(ipv6(A6, "ff02::1:ff00:2", 58, icmp6(A6, "ff02::1:ff00:2", 135, 0, bytes(4)
                                                     + ns_target + bytes([1, 1]) + MAC_A),
                   hop_limit=255), 0x86DD, dst=bytes.fromhex("3333ff000002")))
    add(ether(ipv6(B6, A6, 58, icmp6(B6, A6, 136, 0, b"\x60\0\0\0" + ns_target
                                     + bytes([2, 1]) + MAC_B), hop_limit=255), 0x86DD))
    add(ether(ipv6(LL6, "ff02::2", 58, icmp6(LL6, "ff02::2", 133, 0, bytes(4)),
                   hop_limit=255), 0x86DD, dst=bytes.fromhex("333300000002")))
    ra = bytes([64, 0]) + struct.pack("!HII", 1800, 0, 0)
    add(ether(ipv6(LL6, "ff02::1", 58, icmp6(LL6, "ff02::1", 134, 0, ra), hop_limit=255),
              0x86DD, dst=bytes.fromhex("333300000001")))
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # hop-by-hop: router alert
    mld = icmp6(LL6, "ff02::16", 143, 0, struct.pack("!HH", 0, 1) + bytes([4, 0])
                + struct.pack("!H", 0) + ipaddress.IPv6Address("ff02::fb").packed)
    add(ether(ipv6(LL6, "ff02::16", 0, hbh + mld, hop_limit=1), 0x86DD,
              dst=bytes.fromhex("333300000016")))
    add(ether(ipv6(B6, A6, 58, icmp6(B6, A6, 1, 4, bytes(4) + ipv6(A6, B6, 17, b"")[:40])),
              0x86DD))
    # VLAN, QinQ
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40006, 9998, b"tagged")), 0x0800,
              tags=((0x8100, 5),)))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40007, 9997, b"qinq")), 0x0800,
              tags=((0x88A8, 100), (0x8100, 0x2005))))
    # IPv4 fragments and options, IPv6 fragment header
    add(ether(ipv4(A4, B4, 17, b"later fragment!!", flags=100), 0x0800))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40008, 9996, bytes(16)), flags=0x2000,
                   ident=99), 0x0800))
    add(ether(ipv4(A4, B4, 1, icmp(8, 0, struct.pack("!HH", 1, 2)), options=bytes(
        [7, 7, 4, 0, 0, 0, 0, 1])), 0x0800))
    frag6 = struct.pack("!BBHI", 17, 0, 1, 0xABCD) + udp(A6, B6, 40009, 9995, bytes(8))
    add(ether(ipv6(A6, B6, 44, frag6), 0x86DD))
    # IGMP, GRE, IPIP, VXLAN, Geneve, MPLS
    add(ether(ipv4(A4, "224.0.0.251", 2, struct.pack("!BBH4s", 0x16, 0, 0, ipaddress.
                                                      IPv4Address("224.0.0.251").packed),
                   ttl=1, options=bytes([0x94, 4, 0, 0])), 0x0800,
              dst=bytes.fromhex("01005e0000fb")))
    add(ether(ipv4(A4, B4, 47, struct.pack("!HH", 0, 0x0800) + ipv4(
        "10.0.0.1", "10.0.0.2", 1, icmp(8, 0, struct.pack("!HH", 3, 4)))), 0x0800))
    add(ether(ipv4(A4, B4, 4, ipv4("10.0.0.1", "10.0.0.2", 17, udp(
        "10.0.0.1", "10.0.0.2", 1000, 2000, b"ipip"))), 0x0800))
    inner_eth = ether(ipv4("10.0.0.1", "10.0.0.2", 17, udp("10.0.0.1", "10.0.0.2", 1, 2,
                                                          b"in")), 0x0800, pad=False)
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 50000, 4789, b"\x08\0\0\0\0\0\x2a\0" + inner_eth)),
              0x0800))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 50001, 6081, b"\0\0\x65\x58\0\0\x2b\0"
                                    + inner_eth)), 0x0800))
    mpls = struct.pack("!I", 16 << 12 | 1 << 8 | 64)
    add(ether(mpls + ipv4(A4, B4, 17, udp(A4, B4, 1, 2, b"mpls")), 0x8847))
    # PPPoE
    add(ether(struct.pack("!BBHH", 0x11, 0x09, 0, 4) + b"\x01\x01\0\0", 0x8863, dst=bcast))
    ppp = ipv4(A4, B4, 17, udp(A4, B4, 3, 4, b"ppp"))
    add(ether(struct.pack("!BBHHH", 0x11, 0, 0x1234, len(ppp) + 2, 0x21) + ppp, 0x8864))
    # DHCP, NTP, SNMP-ish
    bootp = (struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x3903F326, 0, 0,
                         bytes(4), bytes(4), bytes(4), bytes(4), MAC_A + bytes(10), bytes(64),
                         bytes(128)) + b"\x63\x82\x53\x63" + bytes([53, 1, 1, 255]))
    add(ether(ipv4("0.0.0.0", "255.255.255.255", 17, udp("0.0.0.0", "255.255.255.255", 68,
                                                         67, bootp)), 0x0800, dst=bcast))
    ntp = bytes([0x23, 0, 6, 0xEC]) + bytes(44)
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 123, 123, ntp)), 0x0800))
    add(ether(ipv4(B4, A4, 17, udp(B4, A4, 67, 68, dhcp_ack())), 0x0800))
    add(ether(ipv4(B4, A4, 17, udp(B4, A4, 123, 123, ntp_server_reply())), 0x0800))
    # SIP (a request and a response) and syslog (RFC 3164, and a damaged priority)
    invite = (b"INVITE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5060\r\n"
              b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 5060, 5060, invite)), 0x0800))
    add(ether(ipv4(B4, A4, 17, udp(B4, A4, 5060, 5060, b"SIP/2.0 180 Ringing\r\n"
                                                       b"Content-Length: 0\r\n\r\n")), 0x0800))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40200, 514, b"<34>Oct 11 22:14:15 host su: "
                                                       b"'su root' failed\n")), 0x0800))
    add(ether(ipv4(A4, B4, 17, udp(A4, B4, 40201, 514, b"<1x>broken")), 0x0800))
    # 802.3 / LLC / SNAP, STP, LLDP
    stp = bytes([0x42, 0x42, 0x03]) + struct.pack("!HBBB", 0, 0, 0, 0) + (
        struct.pack("!H6sI", 0x8000, MAC_A, 0) + struct.pack("!H6sH", 0x8000, MAC_A, 0x8001)
        + struct.pack("!HHHH", 0, 20 * 256, 2 * 256, 15 * 256))
    add(dot3(stp, dst=bytes.fromhex("0180c2000000")))
    rstp = bytes([0, 0, 2, 2, 0x3C]) + stp[8:] + b"\0"   # designated, learning, forwarding
    add(dot3(bytes([0x42, 0x42, 0x03]) + rstp, dst=bytes.fromhex("0180c2000000")))
    add(dot3(bytes([0x42, 0x42, 0x03, 0, 0, 0, 0x80]), dst=bytes.fromhex("0180c2000000")))
    add(dot3(bytes([0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]) + ipv4(A4, B4, 17, udp(
        A4, B4, 5, 6, b"snap"))))
    add(dot3(bytes([0xF0, 0xF0, 0x03]) + bytes(30)))
    lldp = (struct.pack("!HB", 1 << 9 | 7, 4) + MAC_A + struct.pack("!HB", 2 << 9 | 2, 3)
            + b"p1" + struct.pack("!HH", 3 << 9 | 2, 120) + struct.pack("!H", 5 << 9 | 4)
            + b"sw01" + b"\0\0")
    add(ether(lldp, 0x88CC, dst=bytes.fromhex("0180c200000e")))
    add(ether(lldp_frame(), 0x88CC, dst=bytes.fromhex("0180c200000e")))
    add(dot3(bytes([0xAA, 0xAA, 0x03, 0, 0, 0x0C, 0x20, 0x00]) + cdp_message(),
             dst=bytes.fromhex("01000ccccccc")))
    add(ether(bytes(46), 0x88B5))  # an EtherType nobody knows
    frames.extend(routing_frames())
    frames.extend(snmp_frames())
    return frames


def _ber(tag: int, value: bytes) -> bytes:
    assert len(value) < 128
    return bytes([tag, len(value)]) + value


def _ber_oid(text: str) -> bytes:
    parts = [int(x) for x in text.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        encoded = [part & 0x7F]
        part >>= 7
        while part:
            encoded.append(0x80 | (part & 0x7F))
            part >>= 7
        out += bytes(reversed(encoded))
    return _ber(6, out)


def _ber_int(n: int) -> bytes:
    return _ber(2, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def _snmp(version: int, community: bytes, pdu: int, request: int,
          bindings: list[tuple[str, bytes]], error: int = 0, index: int = 0) -> bytes:
    body = b"".join(_ber(0x30, _ber_oid(name) + value) for name, value in bindings)
    inner = _ber_int(request) + _ber_int(error) + _ber_int(index) + _ber(0x30, body)
    return _ber(0x30, _ber_int(version) + _ber(4, community) + _ber(pdu, inner))


def snmp_frames() -> list[bytes]:
    """SNMP v1/v2c requests, responses (one with an error), a bulk get, traps of both
    versions and a damaged message."""
    null = b"\x05\x00"
    ticks = _ber(0x43, (123456).to_bytes(3, "big"))
    messages = [
        (161, _snmp(0, b"public", 0xA0, 1234, [("1.3.6.1.2.1.1.5.0", null)])),
        (161, _snmp(0, b"public", 0xA2, 1234, [("1.3.6.1.2.1.1.5.0", _ber(4, b"router1")),
                                               ("1.3.6.1.2.1.1.3.0", ticks)])),
        (161, _snmp(1, b"private", 0xA1, 7, [("1.3.6.1.2.1.2.2.1.10.2", null)])),
        (161, _snmp(1, b"public", 0xA3, 9, [
            ("1.3.6.1.4.1.9999.1", _ber_int(-5)),
            ("1.3.6.1.2.1.4.20.1.1.198.18.0.1", _ber(0x40, bytes([198, 18, 0, 1]))),
            ("1.3.6.1.4.1.9999.2", _ber(4, b"\x00\xff"))])),
        (161, _snmp(1, b"public", 0xA5, 11, [("1.3.6.1.2.1.1", null)], index=10)),
        (162, _snmp(1, b"public", 0xA7, 12, [("1.3.6.1.2.1.1.3.0", _ber(0x43, b"\x05")),
                                             ("1.3.6.1.6.3.1.1.4.1.0",
                                              _ber_oid("1.3.6.1.6.3.1.1.5.3"))])),
        (161, _snmp(1, b"public", 0xA2, 13, [
            ("1.3.6.1.2.1.1.9.9", _ber(0x80, b"")),
            ("1.3.6.1.2.1.31.1.1.1.6.1", _ber(0x46, (2**40).to_bytes(6, "big")))],
            error=2, index=1)),
        (162, _ber(0x30, _ber_int(0) + _ber(4, b"public") + _ber(0xA4, (
            _ber_oid("1.3.6.1.4.1.9999") + _ber(0x40, bytes([198, 18, 0, 2]))
            + _ber_int(6) + _ber_int(42) + _ber(0x43, b"\x10\x00")
            + _ber(0x30, _ber(0x30, _ber_oid("1.3.6.1.4.1.9999.3") + _ber_int(1))))))),
        (161, bytes.fromhex("302602010104067075626c6963a01902040001e240020100020100300b3009"
                            "06052b06010201050500")),
    ]
    return [ether(ipv4(A4, B4, 17, udp(A4, B4, 40100 + i, port, message)), 0x0800)
            for i, (port, message) in enumerate(messages)]


def snmpv3_frames() -> list[bytes]:
    """SNMPv3 messages: a discovery request, an authenticated response and a report, a
    private (encrypted) one, other security models and damaged headers."""
    def message(flags: bytes, model: int, usm: bytes, scoped: bytes, *,
                header_extra: bytes = b"", msg_id: bytes | None = None) -> bytes:
        header = _ber(0x30, (msg_id if msg_id is not None else _ber_int(91))
                      + _ber_int(65507) + _ber(4, flags) + _ber_int(model) + header_extra)
        return _ber(0x30, _ber_int(3) + header + _ber(4, usm) + scoped)

    def usm(engine: bytes, boots: int, clock: int, user: bytes, auth: bytes = b"",
            extra: bytes = b"") -> bytes:
        return _ber(0x30, _ber(4, engine) + _ber_int(boots) + _ber_int(clock)
                    + _ber(4, user) + _ber(4, auth) + _ber(4, b"") + extra)

    def scoped(engine: bytes, context: bytes, pdu: int, request: int,
               bindings: list[tuple[str, bytes]]) -> bytes:
        body = b"".join(_ber(0x30, _ber_oid(name) + value) for name, value in bindings)
        inner = _ber_int(request) + _ber_int(0) + _ber_int(0) + _ber(0x30, body)
        return _ber(0x30, _ber(4, engine) + _ber(4, context) + _ber(pdu, inner))
    engine = bytes.fromhex("80001f888059dc486145a26322")
    null = b"\x05\x00"
    messages = [
        message(b"\x04", 3, usm(b"", 0, 0, b""), scoped(b"", b"", 0xA0, 1, [])),
        message(b"\x00", 3, usm(engine, 3, 12345, b""),
                scoped(engine, b"", 0xA8, 1, [("1.3.6.1.6.3.15.1.1.4.0",
                                               _ber(0x41, b"\x07"))])),
        message(b"\x05", 3, usm(engine, 3, 12346, b"admin", bytes(12)),
                scoped(engine, b"ctx", 0xA0, 2, [("1.3.6.1.2.1.1.5.0", null)])),
        message(b"\x01", 3, usm(engine, 3, 12347, b"admin", bytes(12)),
                scoped(engine, b"\x01ctx", 0xA2, 2, [("1.3.6.1.2.1.1.5.0",
                                                    _ber(4, b"router1"))])),
        message(b"\x07", 3, usm(engine, 3, 12348, b"admin", bytes(12)),
                _ber(4, bytes(range(20)))),
        message(b"\x00", 2, usm(b"", 0, 0, b""), scoped(b"", b"", 0xA0, 1, [])),
        message(b"\x02", 3, usm(b"", 0, 0, b""), scoped(b"", b"", 0xA0, 1, [])),
        message(b"\x00\x00", 3, usm(b"", 0, 0, b""), scoped(b"", b"", 0xA0, 1, [])),
        message(b"\x04", 3, usm(b"", 0, 0, b"", extra=_ber_int(1)),
                scoped(b"", b"", 0xA1, 1, []), header_extra=_ber_int(5)),
        message(b"\x04", 3, usm(b"", 0, 0, b""), scoped(b"", b"", 0xA0, 1, []),
                msg_id=_ber(4, b"x")),
        message(b"\x04", 3, _ber_int(5), scoped(b"", b"", 0xA0, 1, [])),
        message(b"\x04", 3, usm(b"", 0, 0, b"\xff"), _ber_int(9)),
        message(b"\x04", 3, usm(b"", 0, 0, b"u"), scoped(b"", b"", 0xA7, 4, [
            ("1.3.6.1.2.1.1.3.0", _ber(0x43, b"\x05"))])),
    ]
    return [ether(ipv4(A4, B4, 17, udp(A4, B4, 40300 + i, 161, m)), 0x0800)
            for i, m in enumerate(messages)]


def cdp_message() -> bytes:
    """A Cisco switch's CDPv2 announcement, with a TLV type tcpdump does not know."""
    def tlv(kind: int, value: bytes) -> bytes:
        return struct.pack("!HH", kind, len(value) + 4) + value
    address = (struct.pack("!I", 1) + bytes([1, 1, 0xCC]) + struct.pack("!H", 4)
               + ipaddress.IPv4Address(B4).packed)
    return bytes([2, 180, 0, 0]) + (
        tlv(1, b"switch-b") + tlv(2, address) + tlv(3, b"GigabitEthernet0/7")
        + tlv(4, struct.pack("!I", 0x28)) + tlv(5, b"Example IOS 15.2\nCopyright (c) 2026")
        + tlv(6, b"cisco WS-C2960") + tlv(0x0A, struct.pack("!H", 5)) + tlv(0x0B, b"\x01")
        + tlv(0x1A, b"\x01\x02\x03") + tlv(0x11, struct.pack("!I", 1500))
        + tlv(7, bytes([198, 18, 0, 0, 15])))


def lldp_frame() -> bytes:
    """A switch's LLDPDU: every standard TLV and an unknown organisation's."""
    def tlv(kind: int, value: bytes) -> bytes:
        return struct.pack("!H", kind << 9 | len(value)) + value
    management = (bytes([5, 1]) + ipaddress.IPv4Address(B4).packed + bytes([2])
                  + struct.pack("!I", 7) + bytes([0]))
    return (tlv(1, b"\x04" + MAC_B) + tlv(2, b"\x05ge-0/0/7") + tlv(3, b"\x00\x78")
            + tlv(4, b"uplink to core") + tlv(5, b"switch-b")
            + tlv(6, b"Example OS 1.2\x01") + tlv(7, b"\x00\x14\x00\x04")
            + tlv(8, management) + tlv(127, b"\x00\x00\x0c\x01\x02") + tlv(0, b""))


def dhcp_ack() -> bytes:
    """A DHCP ACK with the options a server usually sends."""
    def option(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value
    addr = ipaddress.IPv4Address
    options = (option(53, b"\x05") + option(54, addr(B4).packed)
               + option(51, struct.pack("!I", 86400)) + option(1, addr("255.254.0.0").packed)
               + option(3, addr(B4).packed) + option(6, addr(B4).packed + addr(C4).packed)
               + option(15, b"example.test") + option(12, b"host-a")
               + option(55, bytes([1, 3, 6, 15, 28, 42, 119]))
               + option(61, b"\x01" + MAC_A) + option(57, struct.pack("!H", 1500))
               + option(19, b"\x00") + option(240, b"\x01\x02\x03") + b"\xff")
    return (struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 2, 1, 6, 1, 0x3903F326, 3, 0x8000,
                        bytes(4), addr(A4).packed, addr(B4).packed, bytes(4),
                        MAC_A + bytes(10), b"boot-server".ljust(64, b"\0"),
                        b"pxelinux.0".ljust(128, b"\0"))
            + b"\x63\x82\x53\x63" + options)


def ntp_server_reply() -> bytes:
    """An NTPv4 server reply, stratum 2, with every timestamp set."""
    def stamp(seconds: int, fraction: int) -> bytes:
        return struct.pack("!II", seconds, fraction)
    era = 3_900_000_000
    return (bytes([0x24, 2, 10, 0xE9]) + struct.pack("!HHHH", 0, 0x1234, 1, 0x8000)
            + ipaddress.IPv4Address(C4).packed + stamp(era - 60, 1 << 31)
            + stamp(era, 0x40000000) + stamp(era, 0x50000000) + stamp(era + 1, 0x10000000))


def control_message_frames() -> list[bytes]:
    """ICMP of every type and code tcpdump names, IGMP v1/v2/v3 and DVMRP, and ICMPv6
    errors, MLD v1/v2 and neighbour discovery with its options."""
    def ip4(text: str) -> bytes:
        return ipaddress.IPv4Address(text).packed

    def ip6(text: str) -> bytes:
        return ipaddress.IPv6Address(text).packed

    frames = []
    quoted = ipv4(A4, B4, 17, udp(A4, B4, 40005, 33434, bytes(12)))[:28]
    quoted_tcp = ipv4(A4, B4, 6, tcp(A4, B4, 40005, 80, 1, 0, 2))[:28]

    def icmp4(kind: int, code: int, body: bytes) -> None:
        frames.append(ether(ipv4(B4, A4, 1, icmp(kind, code, body)), 0x0800))
    for code in range(16):
        icmp4(3, code, bytes(4) + quoted)
    icmp4(3, 4, struct.pack("!HH", 0, 1400) + quoted)
    icmp4(3, 3, bytes(4) + quoted_tcp)
    icmp4(5, 1, ip4(C4) + quoted)
    icmp4(5, 0, ip4(C4) + quoted)
    icmp4(11, 1, bytes(4) + quoted)
    icmp4(12, 0, bytes([20, 0, 0, 0]) + quoted)
    icmp4(13, 0, struct.pack("!HHIII", 1, 2, 1000, 0, 0))
    icmp4(14, 0, struct.pack("!HHIII", 1, 2, 1000, 2000, 3000))
    icmp4(17, 0, struct.pack("!HH", 1, 2) + bytes(4))
    icmp4(18, 0, struct.pack("!HH", 1, 2) + ip4("255.254.0.0"))
    icmp4(9, 0, struct.pack("!BBH", 1, 2, 1800) + ip4(C4) + bytes(4))
    icmp4(10, 0, bytes(4))
    icmp4(4, 0, bytes(4) + quoted)
    icmp4(15, 0, struct.pack("!HH", 1, 2))
    icmp4(42, 0, bytes(8))

    def igmp(body: bytes, dst: str = "224.0.0.1") -> None:
        message = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        frames.append(ether(ipv4(A4, dst, 2, message, ttl=1, options=bytes([0x94, 4, 0, 0])),
                            0x0800, dst=bytes.fromhex("01005e000001")))
    igmp(bytes([0x11, 100, 0, 0]) + bytes(4))
    igmp(bytes([0x11, 50, 0, 0]) + ip4("224.1.2.3"))
    igmp(bytes([0x11, 100, 0, 0]) + bytes(4) + bytes([2, 125, 0, 0]))
    igmp(bytes([0x11, 100, 0, 0]) + ip4("224.1.2.3") + bytes([2, 125]) + struct.pack("!H", 2)
         + ip4(A4) + ip4(B4))
    igmp(bytes([0x22, 0, 0, 0, 0, 0]) + struct.pack("!H", 2) + bytes([1, 0])
         + struct.pack("!H", 1) + ip4("224.1.2.3") + ip4(A4) + bytes([4, 0, 0, 0])
         + ip4("239.1.1.1"), dst="224.0.0.22")
    igmp(bytes([0x17, 0, 0, 0]) + ip4("224.1.2.3"), dst="224.0.0.2")
    igmp(bytes([0x12, 0, 0, 0]) + ip4("224.1.2.3"))
    igmp(bytes([0x13, 0, 0, 0]) + bytes(4))

    def icmp_v6(kind: int, code: int, body: bytes, dst: str = A6, hop_limit: int = 64) -> None:
        frames.append(ether(ipv6(B6, dst, 58, icmp6(B6, dst, kind, code, body),
                                 hop_limit=hop_limit), 0x86DD))
    quoted6 = ipv6(A6, B6, 17, udp(A6, B6, 1, 2, b""))[:48]
    for kind, code, head in ((1, 0, bytes(4)), (1, 1, bytes(4)), (1, 3, bytes(4)),
                             (2, 0, struct.pack("!I", 1280)), (3, 0, bytes(4)),
                             (3, 1, bytes(4)), (4, 0, struct.pack("!I", 40)),
                             (4, 1, struct.pack("!I", 6))):
        icmp_v6(kind, code, head + quoted6)
    group = ip6("ff02::fb")
    icmp_v6(130, 0, struct.pack("!HH", 1000, 0) + bytes(16), dst="ff02::1", hop_limit=1)
    icmp_v6(130, 0, struct.pack("!HH", 1000, 0) + bytes(16) + bytes([2, 125])
            + struct.pack("!H", 1) + ip6(A6), dst="ff02::1", hop_limit=1)
    icmp_v6(131, 0, bytes(4) + group, dst="ff02::fb", hop_limit=1)
    icmp_v6(132, 0, bytes(4) + group, dst="ff02::2", hop_limit=1)
    icmp_v6(137, 0, bytes(4) + ip6(A6) + ip6(B6), hop_limit=255)
    advert = (bytes([64, 0xC0]) + struct.pack("!HII", 1800, 1000, 2000)
              + bytes([3, 4, 64, 0xC0]) + struct.pack("!III", 86400, 14400, 0)
              + ip6("2001:db8::") + bytes([5, 1, 0, 0]) + struct.pack("!I", 1500)
              + bytes([25, 3, 0, 0]) + struct.pack("!I", 600) + ip6(A6))
    icmp_v6(134, 0, advert, hop_limit=255)
    icmp_v6(135, 0, bytes(4) + ip6(A6), hop_limit=255)
    icmp_v6(200, 0, bytes(4))
    return frames


def tcp_option_frames() -> list[bytes]:
    """SYNs, ACKs and SYN-ACKs carrying every kind of TCP option, some malformed (MPTCP
    with a wrong length, SACK of an odd size), for cutting at every byte."""
    option_sets = [
        bytes([2, 4, 5, 0xB4, 4, 2, 8, 10]) + struct.pack("!II", 1000, 0)
        + bytes([1, 3, 3, 7, 5, 10]) + struct.pack("!II", 5, 10)
        + bytes([1, 1, 30, 6, 0x00, 0x81, 1, 2, 3, 4]),
        bytes([2, 4, 5, 0xB4, 30, 12, 0x00, 0x81]) + bytes(range(8))
        + bytes([34, 2, 254, 4, 0xF9, 0x89, 253, 3, 7, 99, 5, 1]),
        bytes([1, 1, 19, 18]) + bytes(16)
        + bytes([28, 4, 0x81, 0x2C, 20, 4, 1, 2, 6, 6, 0, 0, 0, 9, 0]),
        bytes([2, 3, 1, 8, 10, 0, 0, 0, 1]),
        bytes([5, 9]) + bytes(7) + bytes([1, 1, 1]),
    ]
    frames = []
    for flags in (0x02, 0x10, 0x12):
        for options in option_sets:
            options = (options + bytes(-len(options) % 4))[:40]
            frames.append(ether(ipv4(A4, B4, 6, tcp(A4, B4, 5000, 80, 1, 0, flags,
                                                    options=options)), 0x0800))
    return frames


def ip_option_frames() -> list[bytes]:
    """IPv4 options of every kind tcpdump -v decodes, with wrong lengths and pointers,
    around an ICMP echo and a TCP segment with data (for cutting at every byte)."""
    options = [bytes([7, 11, 4]) + bytes(8), bytes([7, 7, 8, 1, 2, 3, 4, 0]),
               bytes([7, 2, 0, 0]), bytes([0x83, 7, 4, 1, 2, 3, 4, 1]),
               bytes([0x89, 11, 12]) + bytes(8), bytes([0x44, 12, 5, 0]) + bytes(8),
               bytes([0x44, 12, 13, 1]) + bytes(8), bytes([0x44, 12, 5, 0x33]) + bytes(8),
               bytes([0x44, 8, 5, 0x22]) + bytes(4), bytes([0x44, 3, 0, 0]),
               bytes([0x94, 4, 1, 2]), bytes([0x94, 3, 1, 0]), bytes([0x82, 4, 0, 0]),
               bytes([1, 1, 0x52, 4, 0, 0, 0, 0]), bytes([1, 1, 1, 9]), bytes([9, 1, 0, 0]),
               bytes([0, 1, 1, 1]), bytes([0x44, 16, 5, 1]) + bytes(12)]
    frames = [ether(ipv4(A4, B4, 1, icmp(8, 0, b"\0\1\0\2"), options=o), 0x0800)
              for o in options]
    frames.append(ether(ipv4(A4, B4, 6, tcp(A4, B4, 5000, 7000, 1, 2, 0x18,
                                            options=bytes([2, 4, 5, 0xB4, 0, 0, 0, 0]),
                                            data=b"data"), options=options[0]), 0x0800))
    return frames


def tcp_restart_frames() -> list[bytes]:
    """Connections whose numbering tcpdump restarts: a SYN-ACK from the side that sent the
    SYN, a SYN again on a known connection, SACKs before and after, and ports either way
    round (tcpdump keys a connection from its lower port's side)."""
    sack = bytes([1, 1, 5, 10]) + struct.pack("!II", 7000, 7100)
    segments = [
        (A4, B4, 40020, 80, 100, 0, 0x02, b""), (A4, B4, 40020, 80, 500, 101, 0x12, b""),
        (B4, A4, 80, 40020, 101, 501, 0x10, sack), (A4, B4, 40020, 80, 501, 101, 0x18, sack),
        (A4, B4, 40020, 80, 9000, 800, 0x12, b""), (B4, A4, 80, 40020, 800, 9001, 0x10, sack),
        (B4, A4, 80, 40020, 6000, 9001, 0x02, sack), (A4, B4, 40020, 80, 9001, 6001, 0x10, b""),
        (A4, B4, 80, 40021, 1, 2, 0x10, sack), (B4, A4, 40021, 80, 2, 1, 0x12, b""),
        (B4, A4, 40021, 80, 3, 5, 0x10, sack), (A4, B4, 80, 40021, 5, 3, 0x11, b""),
        (A4, B4, 7, 7, 10, 20, 0x10, b""), (B4, A4, 7, 7, 20, 11, 0x10, sack),
        (B4, A4, 7, 7, 30, 40, 0x12, b""), (A4, B4, 7, 7, 41, 31, 0x10, sack),
    ]
    return [ether(ipv4(src, dst, 6, tcp(src, dst, sp, dp, seq, ack, flags, options=opts,
                                        data=b"x" if flags & 0x08 else b"")), 0x0800)
            for src, dst, sp, dp, seq, ack, flags, opts in segments]


def _with_checksum(message: bytes, at: int) -> bytes:
    return message[:at] + struct.pack("!H", checksum(message)) + message[at + 2:]


def routing_frames() -> list[bytes]:
    """AH (around UDP and TCP), PIMv2, VRRP v2/v3 and IGRP."""
    frames = []
    add = frames.append
    ah = struct.pack("!BBHII", 17, 4, 0, 0x1000, 7) + bytes(12)
    add(ether(ipv4(A4, B4, 51, ah + udp(A4, B4, 1, 2, b"ah")), 0x0800))
    ah6 = struct.pack("!BBHII", 6, 4, 0, 0x2000, 9) + bytes(12)
    add(ether(ipv6(A6, B6, 51, ah6 + tcp(A6, B6, 5000, 80, 1, 0, 0x02)), 0x86DD))
    pim_group = bytes.fromhex("01005e00000d")
    hello = _with_checksum(bytes([0x20, 0, 0, 0]) + struct.pack("!HHH", 1, 2, 105), 2)
    add(ether(ipv4(A4, "224.0.0.13", 103, hello, ttl=1), 0x0800, dst=pim_group))
    options = (struct.pack("!HHH", 1, 2, 3600 * 17 + 61) + struct.pack("!HHI", 19, 4, 7)
               + struct.pack("!HHI", 20, 4, 0xDEADBEEF)
               + struct.pack("!HHHH", 2, 4, 0x8000 | 500, 2500))
    add(ether(ipv4(A4, "224.0.0.13", 103, bytes([0x20, 0, 0, 0]) + options, ttl=1), 0x0800,
              dst=pim_group))
    for kind in (3, 1, 5):  # join/prune, register, assert
        add(ether(ipv4(A4, B4, 103, _with_checksum(bytes([0x20 | kind]) + bytes(15), 2)),
                  0x0800))
    vrrp_group = bytes.fromhex("01005e000012")
    v2 = _with_checksum(struct.pack("!BBBBBBH4s", 0x21, 7, 100, 1, 0, 1, 0,
                                    ipaddress.IPv4Address(C4).packed) + bytes(8), 6)
    add(ether(ipv4(A4, "224.0.0.18", 112, v2, ttl=255), 0x0800, dst=vrrp_group))
    simple = _with_checksum(struct.pack("!BBBBBBH4s4s", 0x21, 9, 200, 2, 1, 3, 0,
                                        ipaddress.IPv4Address(C4).packed,
                                        ipaddress.IPv4Address(B4).packed) + b"secret\0\0", 6)
    add(ether(ipv4(A4, "224.0.0.18", 112, simple, ttl=64), 0x0800, dst=vrrp_group))
    v3 = struct.pack("!BBBBHH4s", 0x31, 3, 100, 1, 100, 0, ipaddress.IPv4Address(C4).packed)
    add(ether(ipv4(A4, "224.0.0.18", 112, v3, ttl=255), 0x0800, dst=vrrp_group))

    def route(net: list[int]) -> bytes:
        return (bytes(net) + (1000).to_bytes(3, "big") + (100).to_bytes(3, "big")
                + struct.pack("!HBBB", 1500, 255, 1, 2))
    add(ether(ipv4(A4, B4, 9, bytes([0x11, 0, 0, 1]) + bytes(8)), 0x0800))
    add(ether(ipv4(A4, B4, 9, struct.pack("!BBHHHHH", 0x11, 3, 100, 1, 1, 0, 0)
                   + route([10, 1, 2]) + route([198, 18, 5])), 0x0800))
    return frames


LINKTYPES = {"LINUX_SLL": 113, "LINUX_SLL2": 276, "RAW": 101, "NULL": 0, "LOOP": 108}


def reframe(frames: list[bytes], linktype: str) -> list[bytes]:
    """The IPv4 and IPv6 packets of Ethernet ``frames`` under another link-layer header
    (BSD's family numbers for loopback: IPv6 is 24 there)."""
    out = []
    for index, frame in enumerate(frames):
        etype = struct.unpack_from("!H", frame, 12)[0]
        if etype not in (0x0800, 0x86DD):
            continue
        packet = frame[14:]
        total = (struct.unpack_from("!H", packet, 2)[0] if etype == 0x0800
                 else 40 + struct.unpack_from("!H", packet, 4)[0])
        packet = packet[:total]  # no Ethernet padding on the other link types
        if linktype == "LINUX_SLL":
            head = struct.pack("!HHH8sH", 4 if index % 2 else 0, 1, 6, MAC_A + b"\0\0", etype)
        elif linktype == "LINUX_SLL2":
            head = struct.pack("!HHIHBB8s", etype, 0, 1, 1, 4 if index % 2 else 0, 6,
                               MAC_A + b"\0\0")
        elif linktype == "RAW":
            head = b""
        else:
            family = 2 if etype == 0x0800 else 24
            head = struct.pack("<I" if linktype == "NULL" else ">I", family)
        out.append(head + packet)
    return out
