"""IPsec's NAT traversal (RFC 3948: ESP in UDP on port 4500, and its keep-alives) and
IPComp (RFC 3173), as ``tcpdump -n`` 4.99 prints them without keys: ESP's SPI and
sequence number, IPComp's CPI."""

from __future__ import annotations

__all__ = ["udp_encap_text", "ipcomp_text"]


def udp_encap_text(data: bytes, length: int) -> str | None:
    """Port 4500's payload; None for IKE behind a non-ESP marker (not decoded here)."""
    if length == 1 and data[:1] == b"\xff":
        return "isakmp-nat-keep-alive"
    if length < 4:
        return " [|isakmp_rfc3948]"
    if len(data) < 4:
        return " [|isakmp_rfc3948]"
    if data[:4] == bytes(4):
        return None
    # tcpdump wants a byte past the 8-byte header before it reads it
    if len(data) <= 8:
        return "UDP-encap:  [|esp]"
    spi, seq = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    return f"UDP-encap: ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {length}"


def ipcomp_text(data: bytes) -> str:
    """IPComp's header: the compression parameter index (the payload stays compressed)."""
    if len(data) < 4:
        return " [|ipcomp]"
    return f"IPComp(cpi=0x{int.from_bytes(data[2:4], 'big'):04x})"
