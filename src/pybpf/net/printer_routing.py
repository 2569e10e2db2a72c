"""tcpdump's lines for the small IP protocols of routers and gateways: VRRP, IGRP and the
IPsec authentication header (AH) (PIM has :mod:`pybpf.net.printer_pim`). Kept apart from
:mod:`pybpf.net.printer`, which calls these from its IP demultiplexer; each returns the
text after ``A > B: ``.
"""

from __future__ import annotations

import ipaddress
import struct

from .inet_checksum import ones_sum
from .printer_words import CutShort, take, u16, u32

__all__ = ["vrrp_text", "igrp_text", "ah_header"]

_VRRP_TYPES = {1: "Advertisement"}
_VRRP_AUTH = {0: "none", 1: "simple", 2: "ah"}
_IGRP_OPS = {1: "update", 2: "request"}
_INVALID = " (invalid)"


def vrrp_text(payload: bytes, length: int, verbose: int, ttl: int,
              pseudo_header: bytes = b"") -> str:
    """VRRP (protocol 112; tcpdump reads it as VRRP unless told CARP). Version 3's
    checksum covers the IP ``pseudo_header`` too; version 2's only the message."""
    if not payload:
        return "VRRP [|vrrp]"
    version, kind = payload[0] >> 4, payload[0] & 0x0F
    text = f"VRRPv{version}, {_VRRP_TYPES.get(kind, f'unknown type ({kind})')}"
    if ttl != 255:
        text += f", (ttl {ttl})"
    if version not in (2, 3) or kind != 1:
        return text
    if len(payload) < 3:
        return text + " [|vrrp]"
    text += f", vrid {payload[1]}, prio {payload[2]}"
    if len(payload) < 5:
        return text + " [|vrrp]"
    if version == 2:
        text += f", authtype {_VRRP_AUTH.get(payload[4], f'#{payload[4]}')}"
        if len(payload) < 6:
            return text + " [|vrrp]"
        text += f", intvl {payload[5]}s, length {length}"
    else:
        if len(payload) < 6:
            return text + " [|vrrp]"
        text += f", intvl {(payload[4] & 0x0F) << 8 | payload[5]}cs, length {length}"
    if not verbose:
        return text
    covered = (b"" if version == 2 else pseudo_header) + payload[:length]
    if len(payload) >= length and ones_sum(covered) != 0xFFFF:
        text += f", (bad vrrp cksum {struct.unpack_from('!H', payload, 6)[0]:x})"
    count = payload[3]
    text += ", addrs" + (f"({count})" if count > 1 else "") + ":"
    size = 4   # IPv4 only here: the printer sends VRRP over IPv6 through the same path
    separator = " "
    at = 8
    for _ in range(count):
        if len(payload) < at + size:
            return text + " [|vrrp]"
        text += separator + str(ipaddress.IPv4Address(payload[at:at + size]))
        separator = ","
        at += size
    if version == 2 and payload[4] == 1:
        raw = payload[at:at + 8]
        secret = raw.split(b"\0", 1)[0]
        text += ' auth "' + "".join(chr(b) if 32 <= b < 127 else f"\\{b:03o}"
                                    for b in secret)
        if len(secret) == len(raw) < 8:   # read byte by byte up to the end of the capture
            return text + " [|vrrp]"
        text += '"'
    return text


def igrp_text(payload: bytes, length: int, verbose: int) -> str:
    """Cisco IGRP (protocol 9): the header, then each route entry, as far as captured."""
    out = ["igrp:"]
    try:
        _igrp(out, payload, length, verbose)
    except CutShort:
        out.append(" [|igrp]")
    return "".join(out)


def _igrp(out: list[str], payload: bytes, length: int, verbose: int) -> None:
    interior, system, exterior = u16(payload, 4), u16(payload, 6), u16(payload, 8)
    vop, edit = take(payload, 0, 2)
    op = vop & 0x0F
    out.append(f" {_IGRP_OPS.get(op, f'op-#{op}')} V{vop >> 4} edit={edit} "
               f"AS={u16(payload, 2)} ({interior}/{system}/{exterior})")
    cksum = u16(payload, 10)
    if verbose:
        out.append(f" checksum=0x{cksum:04x}")
    left, at = length - 12, 12
    while left >= 14:
        net = take(payload, at, 3)
        if interior:
            out.append(f" *.{net[0]}.{net[1]}.{net[2]}")
            interior -= 1
        elif system:
            out.append(f" {net[0]}.{net[1]}.{net[2]}.0")
            system -= 1
        elif exterior:
            out.append(f" X{net[0]}.{net[1]}.{net[2]}.0")
            exterior -= 1
        else:
            out.append(f" [extra bytes {left}]")
            break
        entry = take(payload, at, 14)
        delay = int.from_bytes(entry[3:6], "big")
        bandwidth = int.from_bytes(entry[6:9], "big")
        mtu, reliability, load, hops = struct.unpack_from("!HBBB", entry, 9)
        out.append(f" d={10 * delay} b={10000000 // bandwidth if bandwidth else 0} "
                   f"r={reliability} l={load} M={min(bandwidth + delay, 0xFFFFFF)} mtu={mtu} "
                   f"in {hops} hops")
        at += 14
        left -= 14
    if interior or system or exterior or left:
        out.append(_INVALID)


def ah_header(payload: bytes, verbose: int) -> tuple[str, int]:
    """The AH header's text and its size in bytes (what follows is the next protocol);
    size 0 when the capture ends inside it (the text then ends with ' [|ah]')."""
    if not payload:
        return " [|ah]", 0
    out = ["AH"]
    try:
        words = take(payload, 1, 1)[0]
        size = (words + 2) * 4
        out.append("(")
        if verbose:
            out.append(f"length={words}({size}-bytes),")
        reserved = u16(payload, 2)
        if reserved:
            out.append(f"reserved=0x{reserved:x}[MustBeZero],")
        out.append(f"spi=0x{u32(payload, 4):08x},")
        out.append(f"seq=0x{u32(payload, 8):x},")
        out.append("icv=0x")
        for at in range(12, size):
            out.append(f"{take(payload, at, 1)[0]:02x}")
    except CutShort:
        return "".join(out) + " [|ah]", 0
    return "".join(out) + "): ", size
