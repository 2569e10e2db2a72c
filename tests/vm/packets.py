"""Test packets: Ethernet + IPv4 + UDP/TCP with addresses from 198.18.0.0/15."""

from __future__ import annotations

import struct

SRC_MAC = bytes.fromhex("020000000001")
DST_MAC = bytes.fromhex("020000000002")
SRC_IP = bytes([198, 18, 0, 1])
DST_IP = bytes([198, 19, 0, 2])


def ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_packet(protocol: int, payload: bytes, *, ttl: int = 64) -> bytes:
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl,
                                   protocol, 0, SRC_IP, DST_IP))
    struct.pack_into("!H", header, 10, ipv4_checksum(bytes(header)))
    return DST_MAC + SRC_MAC + b"\x08\x00" + bytes(header) + payload


def udp_packet(dst_port: int, payload: bytes = b"hello", *, src_port: int = 40000) -> bytes:
    return ipv4_packet(17, struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0)
                       + payload)


def tcp_packet(dst_port: int, *, src_port: int = 40000) -> bytes:
    return ipv4_packet(6, struct.pack("!HHIIBBHHH", src_port, dst_port, 1, 0, 0x50, 0x02,
                                      65535, 0, 0))


def arp_packet() -> bytes:
    return b"\xff" * 6 + SRC_MAC + b"\x08\x06" + bytes(28)
