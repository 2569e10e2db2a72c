"""Geneve's flags and options (RFC 8926) as ``tcpdump -n -v`` 4.99 prints them: each
option's class (named by IANA's ranges), type with its critical bit, and length; -vv adds
the option's data in 32-bit words."""

from __future__ import annotations

__all__ = ["geneve_flags", "geneve_options_text"]

_FLAGS = ((0x80, "O"), (0x40, "C"), (0x20, "R1"), (0x10, "R2"), (0x08, "R3"), (0x04, "R4"),
          (0x02, "R5"), (0x01, "R6"))
_CLASSES = {0x0100: "Linux", 0x0101: "Open vSwitch", 0x0102: "Open Virtual Networking (OVN)",
            0x0103: "In-band Network Telemetry (INT)", 0x0104: "VMware"}


def geneve_flags(flags: int) -> str:
    """The flag letters run together, as tcpdump writes them (``none`` for no flag)."""
    return "".join(word for bit, word in _FLAGS if flags & bit) or "none"


def _class_name(value: int) -> str:
    if value in _CLASSES:
        return _CLASSES[value]
    if value <= 0x00FF:
        return "Standard"
    return "Experimental" if value >= 0xFFF0 else "Unknown"


def geneve_options_text(raw: bytes, verbose: int) -> str:
    """The options (all captured: the caller checked), until one claims more than is left."""
    words = []
    at = 0
    while at < len(raw):
        kind_class, kind = int.from_bytes(raw[at:at + 2], "big"), raw[at + 2]
        size = 4 + (raw[at + 3] & 0x1F) * 4
        word = (f"class {_class_name(kind_class)} (0x{kind_class:x}) type 0x{kind:x}"
                + ("(C)" if kind & 0x80 else "") + f" len {size}")
        if size > len(raw) - at:
            words.append(word + " [bad length]")
            break
        if verbose > 1 and size > 4:
            word += " data" + "".join(f" {raw[i:i + 4].hex()}"
                                      for i in range(at + 4, at + size, 4))
        words.append(word)
        at += size
    return ", ".join(words)
