"""Ethernet frames for the decoder tests: a TCP conversation with options, UDP, ICMP echo,
ICMPv6, ARP, a VLAN tag, a later fragment; addresses from 198.18.0.0/15 and 2001:db8::/32.
Checksums are left zero (tcpdump does not check them without -v)."""

from __future__ import annotations

import ipaddress
import struct

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
A4, B4 = "198.18.0.1", "198.18.0.2"
A6, B6 = "2001:db8::1", "2001:db8::2"


def ether(payload: bytes, ethertype: int, *, src: bytes = MAC_A, dst: bytes = MAC_B,
          vlan: int | None = None) -> bytes:
    tag = b"" if vlan is None else struct.pack("!HH", 0x8100, vlan)
    frame = dst + src + tag + struct.pack("!H", ethertype) + payload
    return frame + bytes(max(0, 60 - len(frame)))  # Ethernet's minimum frame, padded


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, frag_offset: int = 0) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag_offset, 64,
                       proto, 0, ipaddress.IPv4Address(src).packed,
                       ipaddress.IPv4Address(dst).packed) + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes) -> bytes:
    return (struct.pack("!IHBB", 0x60000000, len(payload), next_header, 64)
            + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload)


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, *, options: bytes = b"",
        data: bytes = b"", win: int = 64240) -> bytes:
    offset = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, win, 0,
                       0) + options + data


def udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp_echo(kind: int, ident: int, seq: int, data: bytes = bytes(56)) -> bytes:
    return struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data


def arp(op: int, sender_mac: bytes, sender: str, target: str) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac,
                       ipaddress.IPv4Address(sender).packed, bytes(6),
                       ipaddress.IPv4Address(target).packed)


SYN_OPTIONS = (bytes([2, 4]) + struct.pack("!H", 1460) + bytes([4, 2, 8, 10])
               + struct.pack("!II", 1000, 0) + bytes([1, 3, 3, 7]))
ACK_OPTIONS = bytes([1, 1, 8, 10]) + struct.pack("!II", 1001, 2000)


def conversation() -> list[bytes]:
    """A few frames of every kind the decoder knows, in the order of a capture."""
    c, s = 3_000_000_000, 123_456
    v4_tcp = [
        (A4, B4, tcp(40000, 7777, c, 0, 0x02, options=SYN_OPTIONS)),
        (B4, A4, tcp(7777, 40000, s, c + 1, 0x12, options=SYN_OPTIONS)),
        (A4, B4, tcp(40000, 7777, c + 1, s + 1, 0x10, options=ACK_OPTIONS, win=502)),
        (A4, B4, tcp(40000, 7777, c + 1, s + 1, 0x18, options=ACK_OPTIONS, data=b"hello",
                     win=502)),
        (B4, A4, tcp(7777, 40000, s + 1, c + 6, 0x10, options=ACK_OPTIONS, win=509)),
        (A4, B4, tcp(40000, 7777, c + 6, s + 1, 0x11, win=502)),
        (B4, A4, tcp(7777, 40000, s + 1, c + 7, 0x14, win=0)),
    ]
    frames = [ether(ipv4(a, b, 6, seg), 0x0800) for a, b, seg in v4_tcp]
    frames += [
        ether(ipv4(A4, B4, 17, udp(40001, 9999, b"datagram")), 0x0800),
        ether(ipv4(A4, B4, 1, icmp_echo(8, 77, 1)), 0x0800),
        ether(ipv4(B4, A4, 1, icmp_echo(0, 77, 1)), 0x0800),
        ether(ipv6(A6, B6, 17, udp(5000, 6000, b"six")), 0x86DD),
        ether(ipv6(A6, B6, 58, icmp_echo(128, 5, 9, bytes(8))), 0x86DD),
        ether(ipv6(A6, B6, 6, tcp(41000, 9000, 77, 0, 0x02)), 0x86DD),
        ether(arp(1, MAC_A, A4, B4), 0x0806, dst=b"\xff" * 6),
        ether(arp(2, MAC_B, B4, A4), 0x0806),
        ether(ipv4(A4, B4, 17, udp(40002, 9998, b"tagged")), 0x0800, vlan=5),
        ether(ipv4(A4, B4, 17, b"later fragment!!", frag_offset=100), 0x0800),
    ]
    return frames
