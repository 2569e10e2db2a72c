"""Packet headers as the pybpf.lang programs of :mod:`pybpf.net` read them.

Fields are laid out as the bytes sit in the frame and are loaded little-endian without a
swap, so multi-byte values are compared against constants in that raw form
(``ETH_IPV4_RAW`` is EtherType 0x0800 read that way). The Ethernet addresses are split
into 4+2 / 2+4 bytes so every field sits at its natural alignment.
"""

from pybpf.lang import struct, u8, u16, u32

__all__ = ["ETH_IPV4_RAW", "ETH_IPV6_RAW", "IPPROTO_TCP", "IPPROTO_UDP", "ETH_HLEN",
           "EthHdr", "IPv4Hdr", "IPv6Hdr", "Ports"]

# Ethernet types as little-endian loads of network-order bytes see them
ETH_IPV4_RAW = 0x0008
ETH_IPV6_RAW = 0xDD86
IPPROTO_TCP = 6
IPPROTO_UDP = 17
ETH_HLEN = 14


class EthHdr(struct):
    dst_lo: u32
    dst_hi: u16
    src_lo: u16
    src_hi: u32
    proto: u16


class IPv4Hdr(struct):
    ver_ihl: u8
    tos: u8
    total_len: u16
    ident: u16
    frag: u16
    ttl: u8
    proto: u8
    check: u16
    saddr: u32
    daddr: u32


class IPv6Hdr(struct):
    """The fixed part up to the addresses (the programs read no further)."""
    ver_flow: u32
    payload_len: u16
    next_header: u8
    hop_limit: u8


class Ports(struct):
    """The first four bytes of a TCP or UDP header."""
    sport: u16
    dport: u16
