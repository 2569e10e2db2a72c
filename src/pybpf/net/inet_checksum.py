"""The Internet checksum's one's-complement sum (RFC 1071), for printers that check it."""

from __future__ import annotations

import struct

__all__ = ["ones_sum"]


def ones_sum(data: bytes) -> int:
    """The folded 16-bit one's-complement sum of ``data``: 0xFFFF when a checksum in it
    is right."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total
