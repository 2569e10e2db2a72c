"""Ethernet frames for the filter tests: IPv4/IPv6, TCP/UDP/SCTP/ICMP/ICMPv6, ARP/RARP,
VLAN tags, IPv4 fragments and options, IPv6 fragment headers, truncated captures.

Addresses come from 198.18.0.0/15 (and a few outside it, to not match); every packet is a
``(name, bytes, wirelen)`` triple.
"""

from __future__ import annotations

import ipaddress
import struct

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
MAC_BROADCAST = b"\xff" * 6
MAC_MULTICAST = bytes.fromhex("01005e000001")
V4 = ["198.18.0.1", "198.18.0.2", "198.19.255.7", "10.1.2.3", "192.0.2.9", "224.0.0.5"]
V6 = ["2001:db8::1", "2001:db8::2", "2001:db8:1::5", "fe80::1", "ff02::1"]


def ether(payload: bytes, ethertype: int, *, dst: bytes = MAC_B, src: bytes = MAC_A,
          vlans: tuple[int, ...] = (), tpid: int = 0x8100) -> bytes:
    tags = b"".join(struct.pack("!HH", tpid, vid) for vid in vlans)
    return dst + src + tags + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, frag_offset: int = 0,
         more_fragments: bool = False, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    flags = (0x2000 if more_fragments else 0) | frag_offset
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload),
                         0x1234, flags, 64, proto, 0, ipaddress.IPv4Address(src).packed,
                         ipaddress.IPv4Address(dst).packed)
    return header + options + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes, *,
         fragment_of: int | None = None) -> bytes:
    if fragment_of is not None:  # a fragment header carrying next_header
        payload = struct.pack("!BBHI", next_header, 0, 0, 7) + payload
        next_header = 44
    return (struct.pack("!IHBB", 0x60000000, len(payload), next_header, 64)
            + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload)


def tcp(sport: int, dport: int, flags: int = 0x02) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 8192, 0, 0) + b"data"


def udp(sport: int, dport: int, payload: bytes = b"\x00\x01\x02\x03") -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def sctp(sport: int, dport: int) -> bytes:
    return struct.pack("!HHII", sport, dport, 0, 0)


def icmp(icmp_type: int, code: int = 0) -> bytes:
    return struct.pack("!BBHI", icmp_type, code, 0, 0) + b"ping"


def arp(op: int, sender: str, target: str) -> bytes:
    return (struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + MAC_A
            + ipaddress.IPv4Address(sender).packed + b"\x00" * 6
            + ipaddress.IPv4Address(target).packed)


def build_packets() -> list[tuple[str, bytes, int]]:
    """Every test packet as (name, captured bytes, length on the wire)."""
    frames: list[tuple[str, bytes]] = []
    add = frames.append
    a, b, c, d, e, mcast = V4
    for sport, dport in ((1025, 80), (80, 1025), (443, 22), (2000, 1500)):
        add((f"tcp4 {a}:{sport}>{b}:{dport}", ether(ipv4(a, b, 6, tcp(sport, dport)), 0x800)))
        add((f"udp4 {c}:{sport}>{d}:{dport}", ether(ipv4(c, d, 17, udp(sport, dport)), 0x800)))
    add(("tcp4 syn-ack", ether(ipv4(b, e, 6, tcp(80, 50000, 0x12)), 0x800)))
    add(("tcp4 rst", ether(ipv4(d, a, 6, tcp(22, 1000, 0x04)), 0x800)))
    add(("udp4 dns", ether(ipv4(a, c, 17, udp(53000, 53)), 0x800)))
    add(("sctp4", ether(ipv4(a, b, 132, sctp(80, 9999)), 0x800)))
    add(("icmp echo", ether(ipv4(a, b, 1, icmp(8)), 0x800)))
    add(("icmp reply", ether(ipv4(b, a, 1, icmp(0)), 0x800)))
    add(("icmp unreach", ether(ipv4(e, c, 1, icmp(3, 1)), 0x800)))
    add(("igmp to multicast", ether(ipv4(a, mcast, 2, b"\x11\x00\x00\x00"), 0x800,
                                    dst=MAC_MULTICAST)))
    add(("ip proto 47", ether(ipv4(a, b, 47, b"\x00" * 8), 0x800)))
    add(("tcp4 options", ether(ipv4(a, b, 6, tcp(1234, 80), options=b"\x01\x01\x01\x00"),
                               0x800)))
    add(("udp4 long options", ether(ipv4(c, a, 17, udp(80, 443), options=b"\x01" * 40),
                                    0x800)))
    add(("tcp4 first fragment", ether(ipv4(a, b, 6, tcp(1025, 80), more_fragments=True),
                                      0x800)))
    add(("tcp4 later fragment", ether(ipv4(a, b, 6, tcp(1025, 80), frag_offset=3), 0x800)))
    add(("udp4 later fragment", ether(ipv4(c, b, 17, udp(53, 53), frag_offset=100), 0x800)))
    v6a, v6b, v6c, v6d, v6m = V6
    add(("tcp6", ether(ipv6(v6a, v6b, 6, tcp(1025, 80)), 0x86DD)))
    add(("tcp6 back", ether(ipv6(v6b, v6a, 6, tcp(80, 1025, 0x12)), 0x86DD)))
    add(("udp6", ether(ipv6(v6c, v6d, 17, udp(53, 2000)), 0x86DD)))
    add(("sctp6", ether(ipv6(v6a, v6c, 132, sctp(443, 443)), 0x86DD)))
    add(("icmp6 echo", ether(ipv6(v6a, v6b, 58, icmp(128)), 0x86DD)))
    add(("icmp6 to multicast", ether(ipv6(v6d, v6m, 58, icmp(135)), 0x86DD,
                                     dst=bytes.fromhex("333300000001"))))
    add(("tcp6 fragment header", ether(ipv6(v6a, v6b, 6, tcp(22, 80), fragment_of=1),
                                       0x86DD)))
    add(("udp6 fragment header", ether(ipv6(v6c, v6a, 17, udp(80, 53), fragment_of=1),
                                       0x86DD)))
    add(("arp request", ether(arp(1, a, b), 0x806, dst=MAC_BROADCAST)))
    add(("arp reply", ether(arp(2, b, a), 0x806)))
    add(("arp other net", ether(arp(1, d, e), 0x806, dst=MAC_BROADCAST)))
    add(("rarp", ether(arp(3, c, a), 0x8035)))
    add(("vlan 5 tcp4", ether(ipv4(a, b, 6, tcp(1025, 80)), 0x800, vlans=(5,))))
    add(("vlan 7 udp4", ether(ipv4(b, c, 17, udp(53, 53)), 0x800, vlans=(7,))))
    add(("vlan 5 tcp6", ether(ipv6(v6a, v6b, 6, tcp(443, 80)), 0x86DD, vlans=(5,))))
    add(("qinq 100/5 tcp4", ether(ipv4(a, d, 6, tcp(22, 22)), 0x800, vlans=(100, 5),
                                  tpid=0x88A8)))
    add(("vlan 5 arp", ether(arp(1, a, b), 0x806, vlans=(5,), dst=MAC_BROADCAST)))
    add(("vlan 4095 prio icmp", ether(ipv4(a, b, 1, icmp(8)), 0x800, vlans=(0xE000 | 4095,))))
    add(("llc ip sap", MAC_B + MAC_A + struct.pack("!H", 50) + b"\x06\x06\x03" + b"\x00" * 47))
    add(("llc sap 100", MAC_B + MAC_A + struct.pack("!H", 50) + b"\x64\x64\x03" + b"\x00" * 47))
    add(("ether proto 0x88cc", ether(b"\x00" * 46, 0x88CC, dst=MAC_MULTICAST)))
    add(("broadcast ip", ether(ipv4(a, "198.19.255.255", 17, udp(68, 67)), 0x800,
                               dst=MAC_BROADCAST)))
    packets = [(name, frame, len(frame)) for name, frame in frames]
    # truncated captures: the wire length stays, the bytes stop short
    for name, frame in frames[:2] + frames[8:9] + frames[22:25] + frames[31:33] + frames[34:35]:
        for cut in (10, 13, 14, 20, 23, 24, 30, 34, 36, 38, 42, 50, 54, 55):
            if cut < len(frame):
                packets.append((f"{name} cut at {cut}", frame[:cut], len(frame)))
    packets.append(("empty capture", b"", 60))
    return packets
