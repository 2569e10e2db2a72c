"""OSPFv2's traffic engineering LSAs (opaque type 1, RFC 3630, with RFC 4203's GMPLS and
RFC 4124's bandwidth constraints sub-TLVs) as ``tcpdump -n -v`` 4.99 prints them: the
router address TLV, and the link TLV's sub-TLVs (type, IDs, addresses, metric,
bandwidths, admin group, protection, switching capability, shared risk groups)."""

from __future__ import annotations

import struct

from .printer_gmpls import ENCODINGS, SWITCHING
from .printer_words import Words, ip4

__all__ = ["te_tlvs"]

_TLVS = {1: "Router Address", 2: "Link"}
_SUBTLVS = {1: "Link Type", 2: "Link ID", 3: "Local Interface IP address",
            4: "Remote Interface IP address", 5: "Traffic Engineering Metric",
            6: "Maximum Bandwidth", 7: "Maximum Reservable Bandwidth",
            8: "Unreserved Bandwidth", 9: "Administrative Group",
            11: "Link Local/Remote Identifier", 14: "Link Protection Type",
            15: "Interface Switching Capability", 16: "Shared Risk Link Group",
            17: "Bandwidth Constraints"}
_LINK_TYPES = {1: "Point-to-point", 2: "Multi-Access"}
_PROTECTION = ((0x01, "Extra Traffic"), (0x02, "Unprotected"), (0x04, "Shared"),
               (0x08, "Dedicated 1:1"), (0x10, "Dedicated 1+1"), (0x20, "Enhanced"),
               (0x40, "Reserved"), (0x80, "Reserved"))
_BC_MODELS = {0: "Russian dolls", 1: "Maximum allocation",
              254: "Maximum allocation with E-LSP support"}


class _Invalid(Exception):  # noqa: N818 - not an error: tcpdump's ' (invalid)'
    pass


def _mbps(w: Words, at: int) -> str:
    """A bandwidth in bytes/s (an IEEE single) as tcpdump's %.3f Mbps of it."""
    value = struct.unpack("!f", struct.pack("!I", w.get(at, 4)))[0] * 8 / 1000000
    return f"{struct.unpack('!f', struct.pack('!f', value))[0]:.3f}"


def te_tlvs(w: Words, at: int, left: int, verbose: int) -> bool:
    """A TE LSA's TLVs; False where tcpdump gives up on the LSA."""
    try:
        return _tlvs(w, at, left, verbose)
    except _Invalid:
        w.add(" (invalid)")
        return False


def _tlvs(w: Words, at: int, left: int, verbose: int) -> bool:
    while left:
        if at + 4 > len(w.data):
            return False
        if left < 4:
            w.add(f"\n\t    Remaining LS length {left} < 4")
            return False
        kind, size = w.get(at, 2), w.get(at + 2, 2)
        at, left = at + 4, left - 4
        w.add(f"\n\t    {_TLVS.get(kind, 'unknown')} TLV ({kind}), length: {size}")
        if size > left:
            w.add(f"\n\t    Bogus length {size} > {left}")
            return False
        if not (kind and size):
            return False
        if kind == 2:
            # tcpdump walks the sub-TLVs with the TLV's own pointer and length: after them
            # it has moved on, but its LS length still counts the whole link TLV
            end = _link(w, at, size, verbose)
            if end is None:
                return False
            at = end
            continue
        if kind == 1:
            if size < 4:
                w.add(f"\n\t    TLV length {size} < 4")
                return False
            w.get(at, 4)
            w.add(f", {ip4(w.data[at:at + 4])}")
        elif verbose <= 1 and not w.dump(at, size, "\n\t      "):
            return False
        size += -size % 4
        if size > left:
            w.add(f"\n\t    Bogus padded length {size} > {left}")
            return False
        at, left = at + size, left - size
    return True


def _link(w: Words, at: int, left: int, verbose: int) -> int | None:
    """A link TLV's sub-TLVs; where tcpdump's pointer ends, or None where it gives up."""
    while left:
        if left < 4:
            w.add(f"\n\t    Remaining TLV length {left} < 4")
            return None
        kind, size = w.get(at, 2), w.get(at + 2, 2)
        at, left = at + 4, left - 4
        if not (kind and size):
            raise _Invalid
        w.add(f"\n\t      {_SUBTLVS.get(kind, 'unknown')} subTLV ({kind}), length: {size}")
        if left < size:
            w.add(f"\n\t    Remaining TLV length {left + 4} < {size + 4}")
            return None
        if at + size > len(w.data):
            return None
        if kind == 16:   # tcpdump's pointer walks the groups, then skips them once more
            at += size
        _subtlv(w, kind, at - (size if kind == 16 else 0), size, verbose)
        if kind not in _SUBTLVS and verbose <= 1 and not w.dump(at, size, "\n\t\t"):
            return None
        size += -size % 4
        if left < size:
            w.add(f"\n\t    Remaining TLV length {left + 4} < {size + 4}")
            return None
        at, left = at + size, left - size
    return at


def _subtlv(w: Words, kind: int, at: int, size: int, verbose: int) -> None:
    def check(ok: bool, complaint: str) -> None:
        if not ok:
            w.add(complaint)
            raise _Invalid

    if kind == 9:
        check(size == 4, " != 4")
        w.add(f", 0x{w.get(at, 4):08x}")
    elif kind in (2, 11):
        check(size in (4, 8), " != 4 && != 8")
        for offset in ((0, 4) if size == 8 else (0,)):
            w.add(f", {ip4(w.data[at + offset:at + offset + 4])} "
                  f"(0x{w.get(at + offset, 4):08x})")
    elif kind in (3, 4):
        check(size == 4, " != 4")
        w.add(f", {ip4(w.data[at:at + 4])}")
    elif kind in (6, 7):
        check(size == 4, " != 4")
        w.add(f", {_mbps(w, at)} Mbps")
    elif kind == 8:
        check(size == 32, " != 32")
        for te_class in range(8):
            w.add(f"\n\t\tTE-Class {te_class}: {_mbps(w, at + 4 * te_class)} Mbps")
    elif kind == 17:
        check(size >= 4, " < 4")
        model = w.get(at)
        w.add(f"\n\t\tBandwidth Constraints Model ID: {_BC_MODELS.get(model, 'unknown')} "
              f"({model})")
        check(size % 4 == 0, f"\n\t\tlength {size} != N x 4")
        check(size <= 36, f"\n\t\tlength {size} > 36")
        for te_class in range((size - 4) // 4):
            w.add(f"\n\t\t  Bandwidth constraint CT{te_class}: "
                  f"{_mbps(w, at + 4 + 4 * te_class)} Mbps")
    elif kind == 5:
        check(size == 4, " != 4")
        w.add(f", Metric {w.get(at, 4)}")
    elif kind == 14:
        check(size == 4, " != 4")
        flags = w.get(at)
        w.add(", " + (", ".join(n for bit, n in _PROTECTION if flags & bit) or "none"))
    elif kind == 15:
        check(size >= 36, " < 36")
        w.add(f"\n\t\tInterface Switching Capability: {SWITCHING.get(w.get(at), 'Unknown')}"
              f"\n\t\tLSP Encoding: {ENCODINGS.get(w.get(at + 1), 'Unknown')}"
              "\n\t\tMax LSP Bandwidth:")
        for level in range(8):
            w.add(f"\n\t\t  priority level {level}: {_mbps(w, at + 4 + 4 * level)} Mbps")
    elif kind == 1:
        check(size == 1, " != 1")
        value = w.get(at)
        w.add(f", {_LINK_TYPES.get(value, 'unknown')} ({value})")
    elif kind == 16:
        check(size % 4 == 0, " != N x 4")
        if size:
            w.add("\n\t\t  Shared risk group: "
                  + ", ".join(str(w.get(at + o, 4)) for o in range(0, size, 4)))
