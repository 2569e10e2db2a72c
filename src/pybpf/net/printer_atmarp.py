"""ARP over ATM (RFC 2225's ATMARP, hardware type 19) and the Frame Relay DLCIs of
inverse ARP (RFC 2390, hardware type 15), as ``tcpdump -n`` 4.99 prints them.

ATMARP's addresses are an ATM number and subaddress of their own lengths (the low six
bits of their type-and-length bytes); Frame Relay's hardware address is a Q.922 address
whose DLCI tcpdump prints."""

from __future__ import annotations

from .printer_words import ETHERTYPES, hex_dump, ip4, need

__all__ = ["atm_arp_text", "q922_text"]

_OPS = {1: "Request", 2: "Reply", 3: "Reverse Request", 4: "Reverse Reply",
        8: "Inverse Request", 9: "Inverse Reply", 10: "NACK Reply"}


def q922_text(raw: bytes) -> str:
    """A Q.922 address (2 to 4 bytes, the EA bit ending it) as ``DLCI n``."""
    if not raw:
        return "<Truncated>"
    if raw[0] & 1:
        return "<Invalid DLCI>"
    if len(raw) < 2:
        return "<Truncated>"
    dlci = ((raw[0] & 0xFC) << 2) | ((raw[1] & 0xF0) >> 4)
    if raw[1] & 1:
        return f"DLCI {dlci}"
    at = 2
    if len(raw) <= at:
        return "<Truncated>"
    if not raw[at] & 1:          # a 4-byte address: seven more bits of DLCI
        dlci = (dlci << 7) | (raw[at] >> 1)
        at += 1
    if len(raw) <= at:
        return "<Truncated>"
    if not raw[at] & 1:
        return "<Invalid DLCI>"
    return f"DLCI {(dlci << 6) | (raw[at] >> 2)}"


def _hex_address(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def atm_arp_text(packet: bytes, length: int, *, prefix: bool, verbose: int) -> str:
    """An ATMARP packet (Truncated when the capture ends before its last address)."""
    need(packet, 12, "arp")
    pro = int.from_bytes(packet[2:4], "big")
    op = int.from_bytes(packet[6:8], "big")
    sha_len, ssa_len, spa_len = packet[4] & 0x3F, packet[5] & 0x3F, packet[8]
    tha_len, tsa_len, tpa_len = packet[9] & 0x3F, packet[10] & 0x3F, packet[11]
    fields, at = [], 12
    for size in (sha_len, ssa_len, spa_len, tha_len, tsa_len, tpa_len):
        fields.append(packet[at:at + size])
        at += size
    need(packet, at, "arp")
    sha, ssa, spa, tha, tsa, tpa = fields
    ip_like = pro in (0x0800, 0x1000)
    text = "ARP, " if prefix else ""
    if not ip_like or spa_len != 4 or tpa_len != 4 or verbose:
        text += (f"ATM, {ETHERTYPES.get(pro, f'Unknown Protocol (0x{pro:04x})')} "
                 f"(len {spa_len}/{tpa_len})")
        if not verbose:
            return text + f", length {length}"

    def protocol(raw: bytes, which: str) -> str:
        if not ip_like:
            return "<wrong proto type>"
        return ip4(raw) if len(raw) == 4 else f"<wrong {which}plen>"

    def hardware(number: bytes, sub: bytes) -> str:
        if not number:
            return "<No address>"
        return _hex_address(number) + (f",{_hex_address(sub)}" if sub else "")

    text += (", " if verbose else "") + _OPS.get(op, f"Unknown ({op})") + " "
    if op == 1:
        text += "who-has " + protocol(tpa, "t")
        if tha:
            text += f" ({hardware(tha, tsa)})"
        text += " tell " + protocol(spa, "s")
    elif op == 2:
        text += protocol(spa, "s") + " is-at " + hardware(sha, ssa)
    elif op == 8:
        text += f"who-is {hardware(tha, tsa)} tell {hardware(sha, ssa)}"
    elif op == 9:
        text += hardware(sha, ssa) + "at " + protocol(spa, "s")
    elif op == 10:
        text += "for " + protocol(spa, "s")
    else:   # tcpdump dumps the packet whatever -q or -x say
        return text + hex_dump(packet, ascii_too=True)
    return text + f", length {length}"
