"""The small pieces of wording every tcpdump printer shares: addresses, text from the wire
(tcpdump's escapes), durations and its hex dump of bytes it does not decode."""

from __future__ import annotations

import ipaddress

__all__ = ["mac", "ip4", "ip6", "safe_text", "relative_time", "unknown_data_lines", "hex_dump",
           "CutShort", "LongJump", "Truncated", "Words", "need", "take", "u16", "u32", "OUI_NAMES",
           "ETHERTYPES", "etype_name", "etype_text"]

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


# tcpdump's EtherType names (its table's order: for 0x9100 the first name wins)
ETHERTYPES = {0x0800: "IPv4", 0x8847: "MPLS unicast", 0x8848: "MPLS multicast",
              0x86DD: "IPv6", 0x8100: "802.1Q", 0x9100: "802.1Q-9100", 0x88A8: "802.1Q-QinQ",
              0x9200: "802.1Q-9200", 0x88E5: "802.1AE MACsec", 0x0200: "PUP", 0x0806: "ARP",
              0x8035: "Reverse ARP", 0x0600: "NS", 0x0500: "Sprite", 0x1000: "Trail",
              0x6001: "MOP DL", 0x6002: "MOP RC", 0x6003: "DN", 0x6004: "LAT", 0x6007: "SCA",
              0x6558: "TEB", 0x8038: "Lanbridge", 0x803C: "DEC DNS", 0x803E: "DEC DTS",
              0x805B: "VEXP", 0x805C: "VPROD", 0x809B: "Appletalk", 0x80F3: "Appletalk ARP",
              0x8137: "IPX", 0x880B: "PPP", 0x8808: "MPCP", 0x8809: "Slow Protocols",
              0x8863: "PPPoE D", 0x8864: "PPPoE S", 0x888E: "EAPOL",
              0x8899: "Realtek protocols", 0x886F: "MS NLB heartbeat", 0x8870: "Jumbo",
              0x894F: "NSH", 0x9000: "Loopback", 0xFEFE: "OSI", 0x00FE: "GRE-OSI",
              0xABCD: "CFM (old)", 0x8902: "CFM", 0x893A: "IEEE1905.1", 0x88CC: "LLDP",
              0x88CA: "TIPC", 0x0707: "GeoNet (old)", 0x8947: "GeoNet", 0x1111: "CALM FAST",
              0x88A2: "AoE", 0x88F7: "PTP", 0xD28B: "Arista Vendor Specific Protocol"}


def etype_name(etype: int) -> str:
    return ETHERTYPES.get(etype, "Unknown")


def etype_text(etype: int) -> str:
    return f"{ETHERTYPES.get(etype, 'Unknown')} (0x{etype:04x})"


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


def hex_dump(data: bytes, *, ascii_too: bool) -> str:
    """tcpdump's -x/-X dump: 16 bytes a line, in groups of two, at a tab."""
    lines = []
    for offset in range(0, len(data), 16):
        chunk = data[offset:offset + 16]
        groups = " ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
        line = f"\n\t0x{offset:04x}:  {groups}"
        if ascii_too:
            line = f"{line:<50}" + "  " + "".join(chr(b) if 32 < b < 127 else "."
                                                   for b in chunk)
        lines.append(line)
    return "".join(lines)


class CutShort(Exception):  # noqa: N818 - not an error: where tcpdump prints [|proto]
    """A printer read past the captured bytes; the caller ends the line with ``[|proto]``."""


class LongJump(Exception):  # noqa: N818 - not an error: tcpdump leaving a packet
    """A printer read past the captured bytes where tcpdump abandons the whole packet:
    ``text`` is what it had printed, and the line ends with `` [|proto]`` after it (no
    closing brace or later field follows)."""

    def __init__(self, text: str, proto: str) -> None:
        super().__init__(text, proto)
        self.text, self.proto = text, proto


class Words:
    """The words a printer has written so far, over the captured bytes ``data``: a read
    past them is where tcpdump leaves the whole packet (LongJump with the words, then
    `` [|proto]``)."""

    def __init__(self, data: bytes, proto: str) -> None:
        self.data, self.proto, self.words = data, proto, [""]

    def add(self, text: str) -> None:
        self.words.append(text)

    def get(self, at: int, size: int = 1) -> int:
        if at < 0 or at + size > len(self.data):
            raise LongJump(self.text(), self.proto)
        return int.from_bytes(self.data[at:at + size], "big")

    def text(self) -> str:
        return "".join(self.words)

    def dump(self, at: int, size: int, indent: str) -> bool:
        """tcpdump's dump of undecoded bytes (what was captured of them); False when they
        start beyond the capture, where tcpdump complains instead."""
        if at > len(self.data):
            self.add(f"{indent}Dissector error: print_unknown_data called with pointer past "
                     "end of packet")
            return False
        self.add(unknown_data_lines(self.data[at:at + size], indent))
        return True


class Truncated(Exception):  # noqa: N818 - not an error: where tcpdump prints [|proto]
    """The captured bytes end inside the header of ``proto``."""

    def __init__(self, proto: str) -> None:
        super().__init__(proto)
        self.proto = proto


def need(data: bytes, size: int, proto: str) -> None:
    if len(data) < size:
        raise Truncated(proto)


def take(data: bytes, at: int, size: int) -> bytes:
    """``size`` captured bytes at ``at``, or CutShort."""
    if len(data) < at + size:
        raise CutShort
    return data[at:at + size]


def u16(data: bytes, at: int) -> int:
    return int.from_bytes(take(data, at, 2), "big")


def u32(data: bytes, at: int) -> int:
    return int.from_bytes(take(data, at, 4), "big")
