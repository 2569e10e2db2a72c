"""Spanning tree BPDUs (802.1D, 802.1w, 802.1s, 802.1aq) as tcpdump 4.99.3 prints them
(print-stp.c): read field by field, so a cut BPDU prints what came before ``[|stp]``."""

from __future__ import annotations

import struct

from .printer_mstp import mstp_fields
from .printer_words import CutShort, take, u16, u32
from .printer_words import mac as _mac

__all__ = ["stp_text"]

_STP_VERSIONS = {0: "802.1d", 2: "802.1w", 3: "802.1s", 4: "802.1aq"}
_STP_TYPES = {0x00: "Config", 0x02: "Rapid STP", 0x80: "Topology Change"}
_STP_FLAGS = ((0x01, "Topology change"), (0x02, "Proposal"), (0x10, "Learn"),
              (0x20, "Forward"), (0x40, "Agreement"), (0x80, "Topology change ACK"))
_RSTP_ROLES = ("Unknown", "Alternate", "Root", "Designated")


def _bridge_id(raw: bytes) -> str:
    """An STP bridge id: priority in hex, then the MAC address."""
    return f"{raw[:2].hex()}.{_mac(raw[2:8])}"


def stp_text(bpdu: bytes, length: int, verbose: int) -> str:
    """A BPDU, read field by field as tcpdump reads it (a cut ends with [|stp])."""
    if length < 4:
        return " (invalid)"
    out: list[str] = []
    try:
        _stp_fields(out, bpdu, length, verbose)
    except CutShort:
        out.append(" [|stp]")
    return "".join(out)

def _stp_fields(out: list[str], bpdu: bytes, length: int, verbose: int) -> None:
    if take(bpdu, 0, 2) != b"\0\0":
        out.append(f"unknown STP version, length {length}")
        return
    version = take(bpdu, 2, 1)[0]
    if version not in _STP_VERSIONS:
        out.append(f"STP Unknown STP protocol (0x{version:02x})")
        return
    out.append(f"STP {_STP_VERSIONS[version]}")
    kind = take(bpdu, 3, 1)[0]
    out.append(", " + _STP_TYPES.get(kind, f"Unknown BPDU Type (0x{kind:02x})"))
    if kind == 0 or (kind == 2 and version == 2):
        if length < 35 + (kind == 2):
            out.append(" (invalid)")
            return
        _stp_config(out, bpdu, length, verbose, rapid=version == 2)
    elif kind == 2 and version in (3, 4):
        mstp_fields(out, bpdu, length, verbose, version)

def _stp_config(out: list[str], bpdu: bytes, length: int, verbose: int, *,
                rapid: bool) -> None:
    """A configuration (or 802.1w) BPDU: bridge and port, and -v's timers and root."""
    flags = take(bpdu, 4, 1)[0]
    out.append(", Flags [" + (", ".join(w for bit, w in _STP_FLAGS if flags & bit)
                              or "none") + "]")
    bridge, port_id = _bridge_id(take(bpdu, 17, 8)), u16(bpdu, 25)
    out.append(f", bridge-id {bridge}.{port_id:04x}, length {length}")
    if not verbose:
        return
    age, max_age, hello, delay = struct.unpack("!HHHH", take(bpdu, 27, 8))
    out.append(f"\n\tmessage-age {age / 256:.2f}s, max-age {max_age / 256:.2f}s, "
               f"hello-time {hello / 256:.2f}s, forwarding-delay {delay / 256:.2f}s")
    out.append(f"\n\troot-id {_bridge_id(take(bpdu, 5, 8))}, root-pathcost "
               f"{u32(bpdu, 13)}")
    if rapid:
        out.append(", port-role " + _RSTP_ROLES[(flags >> 2) & 3])
