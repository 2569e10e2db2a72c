"""tcpdump's lines for LLDP (EtherType 0x88cc): the system name without -v; with -v every
TLV (chassis and port ids, time to live, descriptions, capabilities, management
addresses, and the organisation of a private TLV), with -vv each TLV's bytes as well.
Organisation-specific TLVs' sub-fields are :mod:`pybpf.net.printer_lldp_org`'s.
"""

from __future__ import annotations

import ipaddress
import struct

from .printer_lldp_org import organisation_text
from .printer_words import OUI_NAMES, mac, safe_text, unknown_data_lines

__all__ = ["lldp_text"]

_TLV_NAMES = {0: "End", 1: "Chassis ID", 2: "Port ID", 3: "Time to Live",
              4: "Port Description", 5: "System Name", 6: "System Description",
              7: "System Capabilities", 8: "Management Address",
              127: "Organization specific"}
_CHASSIS_SUBTYPES = {1: "Chassis component", 2: "Interface alias", 3: "Port component",
                     4: "MAC address", 5: "Network address", 6: "Interface name", 7: "Local"}
_PORT_SUBTYPES = {1: "Interface alias", 2: "Port component", 3: "MAC address",
                  4: "Network Address", 5: "Interface Name", 6: "Agent circuit ID",
                  7: "Local"}
_CAPABILITIES = ((0x01, "Other"), (0x02, "Repeater"), (0x04, "Bridge"), (0x08, "WLAN AP"),
                 (0x10, "Router"), (0x20, "Telephone"), (0x40, "Docsis"),
                 (0x80, "Station Only"))
_ADDRESS_FAMILIES = {0: "Reserved", 1: "IPv4", 2: "IPv6", 3: "NSAP", 4: "HDLC", 5: "BBN 1822",
                     6: "802", 7: "E.163", 8: "E.164", 9: "F.69", 10: "X.121",
                     11: "Novell IPX", 12: "Appletalk", 13: "Decnet IV", 14: "Banyan Vines",
                     15: "E.164 with NSAP subaddress", 25: "VPLS", 196: "Layer-2 VPN"}
_NUMBERINGS = {2: "Interface Index", 3: "System Port Number"}
# (chassis/port) subtypes whose value is text
_TEXT_SUBTYPES = {1: (1, 2, 3, 6, 7), 2: (1, 2, 5, 6, 7)}
_MAC_SUBTYPE = {1: 4, 2: 3}
_ADDRESS_SUBTYPE = {1: 5, 2: 4}


class _Cut(Exception):
    """tcpdump stops here with ' [|lldp]'."""


def _text(raw: bytes) -> str:
    """nd_printjnp: up to the first NUL, escaped."""
    return safe_text(raw.split(b"\0", 1)[0])


def _network_address(raw: bytes) -> str:
    if not raw:
        raise _Cut
    family, value = raw[0], raw[1:]
    name = f"AFI {_ADDRESS_FAMILIES.get(family, 'Unknown')} ({family})"
    sizes = {1: 4, 2: 16, 6: 6}
    if family not in sizes:
        return name + ", no AF printer !"
    if len(value) < sizes[family]:
        raise _Cut
    value = value[:sizes[family]]
    text = (str(ipaddress.IPv4Address(value)) if family == 1 else
            str(ipaddress.IPv6Address(value)) if family == 2 else mac(value))
    return f"{name}: {text}"


def lldp_text(payload: bytes, length: int, verbose: int) -> str:
    """An LLDP frame's text (``length`` bytes after the EtherType)."""
    out = [f"LLDP, length {length}"]
    left, at = length, 0
    try:
        while left >= 2:
            if at + 2 > len(payload):
                raise _Cut
            head = struct.unpack_from("!H", payload, at)[0]
            kind, size = head >> 9, head & 0x1FF
            left -= 2
            at += 2
            if verbose:
                out.append(f"\n\t{_TLV_NAMES.get(kind, 'Unknown')} TLV ({kind}), length {size}")
            if not kind or not size:
                break
            if at + size > len(payload) or left < size:
                raise _Cut
            body = payload[at:at + size]
            hexdump = _tlv(out, kind, body, verbose)
            if verbose > 1 or (verbose and hexdump):
                out.append(unknown_data_lines(body, "\n\t  "))
            left -= size
            at += size
    except _Cut:
        out.append(" [|lldp]")
    return "".join(out)


def _tlv(out: list[str], kind: int, body: bytes, verbose: int) -> bool:
    """Print one TLV's value; True when tcpdump -v would add its bytes in hex."""
    if kind == 5:       # the system name, printed even without -v
        out.append(": " + _text(body))
        return False
    if not verbose:
        return False
    if kind in (1, 2):
        if len(body) < 2:
            raise _Cut
        subtype = body[0]
        names = _CHASSIS_SUBTYPES if kind == 1 else _PORT_SUBTYPES
        out.append(f"\n\t  Subtype {names.get(subtype, 'Unknown')} ({subtype}): ")
        if subtype == _MAC_SUBTYPE[kind]:
            if len(body) < 7:
                raise _Cut
            out.append(mac(body[1:7]))
        elif subtype in _TEXT_SUBTYPES[kind]:
            out.append(_text(body[1:]))
        elif subtype == _ADDRESS_SUBTYPE[kind]:
            out.append(_network_address(body[1:]))
        else:
            return True
        return False
    if kind == 3:
        if len(body) < 2:
            raise _Cut
        out.append(f": TTL {struct.unpack_from('!H', body)[0]}s")
        return False
    if kind == 4:
        out.append(": " + _text(body))
        return False
    if kind == 6:
        out.append("\n\t  " + _text(body))
        return False
    if kind == 7:
        if len(body) < 4:
            raise _Cut
        system, enabled = struct.unpack_from("!HH", body)
        for label, value in (("System  Capabilities", system),
                             ("Enabled Capabilities", enabled)):
            words = ", ".join(name for bit, name in _CAPABILITIES if value & bit) or "none"
            out.append(f"\n\t  {label} [{words}] (0x{value:04x})")
        return False
    if kind == 8:
        _management_address(out, body)
        return False
    if kind == 127:
        if len(body) < 3:
            raise _Cut
        oui = int.from_bytes(body[:3], "big")
        out.append(f": OUI {OUI_NAMES.get(oui, 'Unknown')} (0x{oui:06x})")
        text, hexdump = organisation_text(oui, body, verbose)
        out.append(text)
        return hexdump
    return True


def _management_address(out: list[str], body: bytes) -> None:
    if not body or len(body) - 1 < body[0]:
        raise _Cut
    size = body[0]
    out.append(f"\n\t  Management Address length {size}, "
               + _network_address(body[1:1 + size]))
    rest = body[1 + size:]
    if len(rest) < 5:
        raise _Cut
    numbering = rest[0]
    out.append(f"\n\t  {_NUMBERINGS.get(numbering, 'Unknown')} Interface Numbering "
               f"({numbering}): {struct.unpack_from('!I', rest, 1)[0]}")
    rest = rest[5:]
    if rest:
        oid_size = rest[0]
        if len(rest) < 1 + oid_size:
            raise _Cut
        if oid_size:
            out.append(f"\n\t  OID length {oid_size}" + _text(rest[1:1 + oid_size]))
