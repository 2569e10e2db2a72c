"""Enhanced GRE (version 1, RFC 2637: PPTP's tunnel of PPP) as ``tcpdump -n`` 4.99 prints
it: the call id from the key field, sequence and acknowledgement numbers, then the PPP
frame inside when a sequence number says there is one."""

from __future__ import annotations

from collections.abc import Callable

from .printer_words import ETHERTYPES, LongJump

__all__ = ["gre1_text"]

_FLAGS = ((0x8000, "checksum present"), (0x4000, "routing present"), (0x2000, "key present"),
          (0x1000, "sequence# present"), (0x0800, "source routing present"),
          (0x0080, "ack present"))


def gre1_text(data: bytes, length: int, verbose: int, link_header: bool,
              ppp: Callable[[bytes, int], str]) -> str:
    """The text after ``GREv1`` is known (``data`` holds at least the flags word)."""
    flags = int.from_bytes(data[0:2], "big")
    out = ["GREv1"]
    if verbose:
        out.append(", Flags [" + (", ".join(w for bit, w in _FLAGS if flags & bit) or "none")
                   + "]")
    at, left = 2, length - 2
    if len(data) < at + 2 or left < 2:
        return "".join(out) + " [|gre]"
    proto = int.from_bytes(data[at:at + 2], "big")
    at, left = at + 2, left - 2
    for bit, word in ((0x2000, "call"), (0x1000, "seq"), (0x0080, "ack")):
        if not flags & bit:
            continue
        if len(data) < at + 4 or left < 4:
            return "".join(out) + " [|gre]"
        value = int.from_bytes(data[at:at + 4], "big")
        out.append(f", {word} {value & 0xFFFF if bit == 0x2000 else value}")
        at, left = at + 4, left - 4
    if not flags & 0x1000:
        out.append(", no-payload")
    if link_header:
        out.append(f", proto {ETHERTYPES.get(proto, 'unknown')} (0x{proto:04x})")
    out.append(f", length {length}")
    if not flags & 0x1000:
        return "".join(out)
    out.append("\n\t" if verbose else ": ")
    if proto != 0x880B:
        return "".join(out) + f"gre-proto-0x{proto:x}"
    try:
        return "".join(out) + ppp(data[at:], left)
    except LongJump as jump:   # the capture ended inside the PPP frame
        return "".join(out) + jump.text + f" [|{jump.proto}]"
