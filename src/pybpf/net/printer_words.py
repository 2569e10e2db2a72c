"""The small pieces of wording every tcpdump printer shares: addresses, text from the wire
(tcpdump's escapes), durations and its hex dump of bytes it does not decode."""

from __future__ import annotations

import ipaddress

__all__ = ["mac", "ip4", "ip6", "safe_text", "relative_time", "unknown_data_lines", "CutShort",
           "LongJump", "take", "u16", "u32", "OUI_NAMES"]

# tcpdump's names of organisations (0x0080c2 is both RFC 2684 and 802.1: the first wins)
OUI_NAMES = {0x000000: "Ethernet", 0x00000C: "Cisco", 0x00005E: "IANA",
             0x000081: "Nortel Networks SONMP", 0x0000F8: "Cisco bridged",
             0x0080C2: "Ethernet bridged", 0x00A03E: "ATM Forum",
             0x00E02F: "DOCSIS Spanning Tree", 0x080007: "Appletalk", 0x009069: "Juniper",
             0x080009: "Hewlett-Packard", 0x00120F: "IEEE 802.3 Private", 0x0012BB: "ANSI/TIA",
             0x001B21: "DCBX", 0x002320: "Nicira Networks", 0x5C16C7: "Big Switch Networks",
             0xB0D2F5: "Vello Systems", 0x002481: "HP", 0x0004EA: "HP-Labs",
             0x748771: "Infoblox Inc", 0xA42305: "Open Networking Lab", 0x00049F: "Freescale",
             0x0015AD: "Netronome", 0x001018: "Broadcom", 0x00E004: "PMC-Sierra",
             0xD0F0DB: "Ericsson"}


def mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def ip4(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def ip6(raw: bytes) -> str:
    """An IPv6 address as inet_ntop writes it: an IPv4-compatible one (96 zero bits, a
    non-zero seventh group) ends in dotted decimal, which Python's form does not."""
    if raw[:12] == bytes(12) and raw[12:14] != b"\0\0":
        return "::" + ip4(raw[12:])
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


class LongJump(Exception):  # noqa: N818 - not an error: tcpdump leaving a packet
    """A printer read past the captured bytes where tcpdump abandons the whole packet:
    ``text`` is what it had printed, and the line ends with `` [|proto]`` after it (no
    closing brace or later field follows)."""

    def __init__(self, text: str, proto: str) -> None:
        super().__init__(text, proto)
        self.text, self.proto = text, proto


def take(data: bytes, at: int, size: int) -> bytes:
    """``size`` captured bytes at ``at``, or CutShort."""
    if len(data) < at + size:
        raise CutShort
    return data[at:at + size]


def u16(data: bytes, at: int) -> int:
    return int.from_bytes(take(data, at, 2), "big")


def u32(data: bytes, at: int) -> int:
    return int.from_bytes(take(data, at, 4), "big")
