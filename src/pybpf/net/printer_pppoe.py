"""PPPoE (RFC 2516) as tcpdump 4.99.3 prints it (print-pppoe.c): discovery packets with
their tags, session packets with the PPP frame they carry (printed by the caller's
``ppp``)."""

from __future__ import annotations

import struct
from collections.abc import Callable

from .printer_words import LongJump, need

__all__ = ["pppoe_discovery_text", "pppoe_session_text"]

PppText = Callable[[bytes, int], str]   # a PPP frame (its bytes, its length) as text


def pppoe_discovery_text(payload: bytes, length: int, ppp: PppText) -> str:
    """A PPPoE discovery packet: code, session and tags (text when mostly printable)."""
    if length < 6:
        return f" (length {length} < 6) (invalid)"
    need(payload, 6, "pppoe")
    code, session, body_len = payload[1], *struct.unpack_from("!HH", payload, 2)
    text = "".join(f" [{word} {value}]" for word, value in (("ver", payload[0] >> 4),
                                                            ("type", payload[0] & 0xF))
                   if value != 1)
    names = {0x09: "PADI", 0x07: "PADO", 0x19: "PADR", 0x65: "PADS", 0xA7: "PADT", 0: ""}
    text += "PPPoE " + names.get(code, f"PAD-{code:x}")
    if code == 0x09 and body_len > 1484 - 6:
        text += f" [len {body_len}!]"
    if body_len > length - 6:
        text += f" [len {body_len} > {length - 6}!]"
        body_len = length - 6
    if not code:   # session data, whichever EtherType carried it
        return pppoe_session_text(payload, length, ppp)
    if session:
        text += f" [ses 0x{session:x}]"
    tag_names = {0x0101: "Service-Name", 0x0102: "AC-Name", 0x0103: "Host-Uniq",
                 0x0104: "AC-Cookie", 0x0105: "Vendor-Specific", 0x0110: "Relay-Session-ID",
                 0x0120: "PPP-Max-Payload", 0x0201: "Service-Name-Error",
                 0x0202: "AC-System-Error", 0x0203: "Generic-Error", 0x0000: "EOL"}
    tag, at, end = 0xFFFF, 6, 6 + body_len
    while tag and at < end:
        if len(payload) < at + 4:
            return text + " [|pppoe]"
        tag, size = struct.unpack_from("!HH", payload, at)
        at += 4
        name = tag_names.get(tag, f"TAG-0x{tag:x}")
        if not size:
            text += f" [{name}]"
            continue
        if len(payload) < at + size:
            return text + " [|pppoe]"
        value = payload[at:at + size]
        shown = value[:79]   # tcpdump judges (and shows) at most 79 characters
        printable = sum(1 for b in shown if 32 <= b < 127)
        if printable > len(shown) - printable:
            text += f' [{name} "' + "".join(chr(b) if 32 <= b < 127 else "."
                                            for b in shown) + '"]'
        else:
            text += f" [{name} 0x{value.hex().upper()}]"
        at += size
    return text

def pppoe_session_text(payload: bytes, length: int, ppp: PppText) -> str:
    """A PPPoE session packet: its header, then the PPP frame it carries."""
    if len(payload) >= 2 and payload[1]:   # a discovery code: tags, not PPP
        return pppoe_discovery_text(payload, length, ppp)
    need(payload, 6, "pppoe")
    session, body_len = struct.unpack_from("!HH", payload, 2)
    text = "".join(f" [{word} {value}]" for word, value in (("ver", payload[0] >> 4),
                                                            ("type", payload[0] & 0xF))
                   if value != 1)
    text += "PPPoE "
    if body_len > length - 6:
        text += f" [len {body_len} > {length - 6}!]"
        body_len = length - 6
    if session:
        text += f" [ses 0x{session:x}]"
    try:
        return text + " " + ppp(payload[6:], body_len)
    except LongJump as jump:
        return text + " " + jump.text + f" [|{jump.proto}]"
