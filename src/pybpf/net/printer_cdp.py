"""tcpdump's lines for Cisco's CDP (802.3 SNAP, OUI 0x00000c, PID 0x2000): the version,
TTL and Device-ID without -v (and, as tcpdump 4.99 does, every other TLV's bytes in hex),
each TLV decoded with -v."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable

from .printer_words import safe_text, unknown_data_lines

__all__ = ["cdp_text"]

_CAPABILITIES = ((0x01, "Router"), (0x02, "Transparent Bridge"), (0x04, "Source Route Bridge"),
                 (0x08, "L2 Switch"), (0x10, "L3 capable"), (0x20, "IGMP snooping"),
                 (0x40, "L1 capable"))
_IPV6_IN_SNAP = bytes([0xAA, 0xAA, 0x03, 0, 0, 0, 0x86, 0xDD])


class _Cut(Exception):
    """The capture ends inside the message."""


def _need(value: bytes, size: int) -> bytes:
    if len(value) < size:
        raise _Cut
    return value


class _CutAfter(_Cut):
    """Cut short after tcpdump had printed ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _string(value: bytes, size: int) -> str:
    """A quoted string, printed byte by byte (a cut leaves the quote open)."""
    if len(value) < size:
        raise _CutAfter("'" + safe_text(value))
    return "'" + safe_text(value[:size]) + "'"


def _power(value: bytes, size: int) -> str:
    return f"{int.from_bytes(_need(value, size)[:size], 'big') / 1000.0:1.2f}W"


def _capability(value: bytes, size: int) -> str:
    bits = struct.unpack_from("!I", _need(value, 4))[0]
    return f"(0x{bits:08x}): " + (", ".join(n for b, n in _CAPABILITIES if bits & b) or "none")


def _version(value: bytes, size: int) -> str:
    text = "\n\t  " + "".join("\n\t  " if b == 0x0A else safe_text(bytes([b]))
                               for b in value[:size])
    if len(value) < size:   # printed byte by byte up to the end of the capture
        raise _CutAfter(text)
    return text


def _uint16(value: bytes, size: int) -> str:
    return str(struct.unpack_from("!H", _need(value, 2))[0])


def _duplex(value: bytes, size: int) -> str:
    return "full" if _need(value, 1)[0] else "half"


def _ata186(value: bytes, size: int) -> str:
    if size == 2:
        return f"unknown 0x{struct.unpack_from('!H', _need(value, 2))[0]:04x}"
    _need(value, 3)
    return f"app {value[0]}, vlan {struct.unpack_from('!H', value, 1)[0]}"


def _mtu(value: bytes, size: int) -> str:
    return f"{struct.unpack_from('!I', _need(value, 4))[0]} bytes"


def _uint8x(value: bytes, size: int) -> str:
    return f"0x{_need(value, 1)[0]:02x}"


def _location(value: bytes, size: int) -> str:
    text = f"0x{_need(value, 1)[0]:02x}"
    return text + ("/" + safe_text(value[1:size]) if size > 1 else "")


def _prefixes(value: bytes, size: int) -> str:
    if size % 5:
        return f" [length {size} is not a multiple of 5]"
    text = f" IPv4 Prefixes ({size // 5}):"
    if len(value) < size:
        raise _CutAfter(text + "".join(
            f" {value[i]}.{value[i + 1]}.{value[i + 2]}.{value[i + 3]}/{value[i + 4]}"
            for i in range(0, len(value) - 4, 5)))
    return text + "".join(
        f" {value[i]}.{value[i + 1]}.{value[i + 2]}.{value[i + 3]}/{value[i + 4]}"
        for i in range(0, size, 5))


def _addresses(value: bytes, size: int) -> str:
    if size < 4:
        return " (not enough space for num)"
    count = struct.unpack_from("!I", _need(value, 4))[0]
    at, left = 4, size - 4
    out: list[str] = []
    while count:
        if left < 2:
            return "".join(out) + " (not enough space for PT+PL)"
        kind, plen = _need(value, at + 2)[at], value[at + 1]
        at += 2
        left -= 2
        if left < plen + 2:
            return "".join(out) + " (not enough space for P+AL)"
        protocol = _need(value, at + plen + 2)[at:at + plen]
        alen = struct.unpack_from("!H", value, at + plen)[0]
        if (kind == 1 and plen == 1 and protocol == b"\xcc" and alen == 4) or \
                (kind == 2 and protocol == _IPV6_IN_SNAP and alen == 16):
            at += plen + 2
            left -= plen + 2
            if left < alen:
                return "".join(out) + " (not enough space for A)"
            raw = _need(value, at + alen)[at:at + alen]
            out.append(f"IPv4 ({count}) {ipaddress.IPv4Address(raw)}" if alen == 4
                       else f"IPv6 ({count}) {ipaddress.IPv6Address(raw)}")
        else:
            out.append(f"pt=0x{kind:02x}, pl={plen}, pb=" + "".join(f" {b:02x}" for b in protocol)
                       + f", al={alen}, a=")
            at += plen + 2
            left -= plen + 2
            if left < alen:
                return "".join(out) + " (not enough space for A)"
            out.append("".join(f" {b:02x}" for b in _need(value, at + alen)[at:at + alen]))
        at += alen
        left -= alen
        count -= 1
        if count:
            out.append(" ")
    if left:
        out.append(f" ({left} bytes of stray data)")
    return "".join(out)


# type -> (name, printer or None, min length, max length); -1: no bound
_TLVS: dict[int, tuple[str, Callable[[bytes, int], str] | None, int, int]] = {
    0x01: ("Device-ID", _string, -1, -1), 0x02: ("Address", _addresses, -1, -1),
    0x03: ("Port-ID", _string, -1, -1), 0x04: ("Capability", _capability, 4, 4),
    0x05: ("Version String", _version, -1, -1), 0x06: ("Platform", _string, -1, -1),
    0x07: ("Prefixes", _prefixes, -1, -1), 0x08: ("Protocol-Hello option", None, -1, -1),
    0x09: ("VTP Management Domain", _string, -1, -1),
    0x0A: ("Native VLAN ID", _uint16, 2, 2), 0x0B: ("Duplex", _duplex, 1, 1),
    0x0E: ("ATA-186 VoIP VLAN assignment", _ata186, 3, 3),
    0x0F: ("ATA-186 VoIP VLAN request", _ata186, 2, 3),
    0x10: ("power consumption", _power, 1, 3), 0x11: ("MTU", _mtu, 4, 4),
    0x12: ("AVVID trust bitmap", _uint8x, 1, 1),
    0x13: ("AVVID untrusted ports CoS", _uint8x, 1, 1),
    0x14: ("System Name", _string, -1, -1),
    0x15: ("System Object ID (not decoded)", None, -1, -1),
    0x16: ("Management Addresses", _addresses, 4, -1),
    0x17: ("Physical Location", _location, 1, -1),
}


def cdp_text(data: bytes, length: int, verbose: int) -> str:
    """A CDP message of ``length`` bytes, ``data`` as captured."""
    out: list[str] = []
    try:
        if length < 4:
            return f" (packet length {length} < 4) (invalid)"
        _need(data, 2)
        out.append(f"CDPv{data[0]}, ttl: {data[1]}s")
        _need(data, 4)
        if verbose:
            out.append(f", checksum: 0x{struct.unpack_from('!H', data, 2)[0]:04x} "
                       f"(unverified), length {length}")
        at, left = 4, length - 4
        while left:
            if left < 4:
                out.append(f" (remaining packet length {left} < 4) (invalid)")
                return "".join(out)
            kind, size = struct.unpack_from("!HH", _need(data, at + 4), at)
            info = _TLVS.get(kind)
            name = info[0] if info else "unknown field type"
            if size < 4:
                out.append(f"\n\t{name} (0x{kind:02x}), TLV length: {size} byte"
                           f"{'' if size == 1 else 's'} (too short)" if verbose
                           else f", {name} TLV length {size} too short")
                out.append(" (invalid)")
                return "".join(out)
            if size > left:
                out.append(f" (TLV length {size} > {left}) (invalid)")
                return "".join(out)
            at += 4
            left -= 4
            size -= 4
            if not verbose and kind == 1:
                out.append(", Device-ID ")
            elif verbose:
                out.append(f"\n\t{name} (0x{kind:02x}), value length: {size} byte"
                           f"{'' if size == 1 else 's'}: ")
            covered = False
            if info:
                _, printer, low, high = info
                if (low > 0 and size < low) or (high > 0 and size > high):
                    out.append(" (malformed TLV)")
                elif verbose or kind == 1:
                    if printer:
                        out.append(printer(data[at:], size))
                    else:
                        _need(data, at + size)
                    covered = True
            if not covered:
                out.append(unknown_data_lines(_need(data, at + size)[at:at + size], "\n\t  "))
            at += size
            left -= size
        if not verbose:
            out.append(f", length {length}")
    except _CutAfter as cut:
        out.append(cut.text + " [|cdp]")
    except _Cut:
        out.append(" [|cdp]")
    return "".join(out)
