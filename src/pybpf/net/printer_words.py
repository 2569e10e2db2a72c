"""The small pieces of wording every tcpdump printer shares: addresses, text from the wire
(tcpdump's escapes), durations and its hex dump of bytes it does not decode."""

from __future__ import annotations

import ipaddress

__all__ = ["mac", "ip4", "ip6", "safe_text", "relative_time", "unknown_data_lines", "CutShort",
           "take", "u16", "u32"]


def mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def ip4(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def ip6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def safe_text(raw: bytes) -> str:
    """Bytes as tcpdump prints text from a packet: printable ASCII as is, a high byte as
    ``M-`` and the low seven bits, a control byte as ``^`` and its letter."""
    out = []
    for b in raw:
        if b >= 0x80:
            out.append("M-")
            b &= 0x7F
        out.append(chr(b) if 32 <= b < 127 else "^" + chr(b ^ 0x40))
    return "".join(out)


def relative_time(secs: int) -> str:
    """A duration as tcpdump writes one: ``1m45s``, ``2h``, ``0s``."""
    if secs == 0:
        return "0s"
    parts = []
    for unit, size in (("y", 31536000), ("w", 604800), ("d", 86400), ("h", 3600),
                       ("m", 60), ("s", 1)):
        if secs >= size:
            parts.append(f"{secs // size}{unit}")
            secs %= size
    return "".join(parts)


def unknown_data_lines(data: bytes, indent: str) -> str:
    """tcpdump's dump of bytes it does not decode, 16 bytes a line after ``indent``."""
    out = []
    for offset in range(0, len(data), 16):
        chunk = data[offset:offset + 16]
        groups = " ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
        out.append(f"{indent}0x{offset:04x}:  {groups}")
    return "".join(out)


class CutShort(Exception):  # noqa: N818 - not an error: where tcpdump prints [|proto]
    """A printer read past the captured bytes; the caller ends the line with ``[|proto]``."""


def take(data: bytes, at: int, size: int) -> bytes:
    """``size`` captured bytes at ``at``, or CutShort."""
    if len(data) < at + size:
        raise CutShort
    return data[at:at + size]


def u16(data: bytes, at: int) -> int:
    return int.from_bytes(take(data, at, 2), "big")


def u32(data: bytes, at: int) -> int:
    return int.from_bytes(take(data, at, 4), "big")
