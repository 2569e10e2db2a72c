"""ARP and RARP as tcpdump 4.99.3 prints them (print-arp.c): the operation with its
addresses, of whatever sizes the header gives."""

from __future__ import annotations

import struct

from .printer_atmarp import atm_arp_text, q922_text
from .printer_words import ETHERTYPES, hex_dump, need
from .printer_words import ip4 as _ip4
from .printer_words import mac as _mac

__all__ = ["arp_text"]

_ARP_HARDWARE = {1: "Ethernet", 6: "TokenRing", 7: "ArcNet", 15: "FrameRelay", 23: "Strip",
                 24: "IEEE 1394", 19: "ATM", 32: "InfiniBand"}
_ARP_OPS = {1: "Request", 2: "Reply", 3: "Reverse Request", 4: "Reverse Reply",
            8: "Inverse Request", 9: "Inverse Reply", 10: "NACK Reply"}


def arp_text(packet: bytes, length: int, *, prefix: bool, verbose: int) -> str:
    """ARP and RARP: the operation with its addresses, of any sizes the header gives."""
    need(packet, 8, "arp")
    hrd, pro, hln, pln, op = struct.unpack_from("!HHBBH", packet)
    if hrd == 19:   # ATMARP: addresses of another layout
        return atm_arp_text(packet, length, prefix=prefix, verbose=verbose)
    need(packet, 8 + 2 * hln + 2 * pln, "arp")
    sha, spa = packet[8:8 + hln], packet[8 + hln:8 + hln + pln]
    tha = packet[8 + hln + pln:8 + 2 * hln + pln]
    tpa = packet[8 + 2 * hln + pln:8 + 2 * hln + 2 * pln]
    ip_like = pro in (0x0800, 0x1000)
    text = "ARP, " if prefix else ""
    if not ip_like or pln != 4 or hln == 0 or verbose:
        text += (f"{_ARP_HARDWARE.get(hrd, f'Unknown Hardware ({hrd})')} (len {hln}), "
                 f"{ETHERTYPES.get(pro, f'Unknown Protocol (0x{pro:04x})')} (len {pln})")
        if not verbose:
            return text + f", length {length}"

    def link(raw: bytes) -> str:
        if not raw:
            return "<empty>"
        if hrd == 15:   # Frame Relay: a Q.922 address
            return q922_text(raw)
        return _mac(raw) if len(raw) == 6 else ":".join(f"{b:02x}" for b in raw)

    def address(raw: bytes) -> str:
        return "<wrong proto type>" if not ip_like else "<wrong len>" if pln != 4 \
            else _ip4(raw)
    text += (", " if verbose else "") + _ARP_OPS.get(op, f"Unknown ({op})") + " "
    if op == 1:
        text += (f"who-has {address(tpa)}" + (f" ({link(tha)})" if any(tha) else "")
                 + f" tell {address(spa)}")
    elif op == 2:
        text += f"{address(spa)} is-at {link(sha)}"
    elif op in (3, 8):
        text += f"who-is {link(tha)} tell {link(sha)}"
    elif op == 4:
        text += f"{link(tha)} at {address(tpa)}"
    elif op == 9:
        text += f"{link(sha)} at {address(spa)}"
    else:   # tcpdump dumps the message instead of its length
        return text + hex_dump(packet, ascii_too=True)   # whatever -q or -x say
    return text + f", length {length}"
