"""Multiple spanning tree BPDUs (802.1s, protocol version 3) and shortest path bridging
ones (802.1aq, version 4) as ``tcpdump -n`` 4.99 prints them: the CIST flags, then under
-v the CIST's priority vectors and timers, the MST configuration identifier, each MSTI, and
SPB's auxiliary identifier and agreement. Fields are read one by one, so a cut BPDU ends
with what came before ``[|stp]``."""

from __future__ import annotations

from .printer_words import mac as _mac
from .printer_words import safe_text, take, u16, u32

__all__ = ["mstp_fields"]

_FLAGS = ((0x01, "Topology change"), (0x02, "Proposal"), (0x10, "Learn"),
          (0x20, "Forward"), (0x40, "Agreement"), (0x80, "Topology change ACK"))
_ROLES = ("Unknown", "Alternate", "Root", "Designated")
_BPDU = 36             # the 802.1w BPDU, version 1 length byte included
_MSTI = 16


def _flags(value: int) -> str:
    return ", ".join(word for bit, word in _FLAGS if value & bit) or "none"


def _bridge(bpdu: bytes, at: int) -> str:
    raw = take(bpdu, at, 8)
    return f"{raw[:2].hex()}.{_mac(raw[2:8])}"


def _name(out: list[str], bpdu: bytes, at: int) -> None:
    """A configuration name: up to 32 bytes, ending at a NUL, printed byte by byte (a cut
    keeps the bytes before it)."""
    for i in range(32):
        byte = take(bpdu, at + i, 1)[0]
        if not byte:
            break
        out.append(safe_text(bytes([byte])))


def _seconds(bpdu: bytes, at: int) -> str:
    return f"{u16(bpdu, at) / 256:.2f}s"


def mstp_fields(out: list[str], bpdu: bytes, length: int, verbose: int, version: int) -> None:
    """Appends an MSTP or SPB BPDU's words after its type (CutShort: the capture ended)."""
    if length < 102 or take(bpdu, 35, 1)[0]:   # too short, or a version 1 length
        out.append(" (invalid)")
        return
    v3_size = u16(bpdu, 36) + 2
    if length < _BPDU + v3_size:
        out.append(" (invalid)")
        return
    flags = take(bpdu, 4, 1)[0]
    out.append(f", CIST Flags [{_flags(flags)}], length {length}")
    if verbose:
        _cist(out, bpdu, flags)
    if version != 4:
        return
    v4_size = u16(bpdu, _BPDU + v3_size) + 2
    if length < _BPDU + v3_size + v4_size or v4_size < 87:
        out.append(" (invalid)")
        return
    if verbose:
        _spb(out, bpdu, _BPDU + v3_size)


def _cist(out: list[str], bpdu: bytes, flags: int) -> None:
    out.append(f"\n\tport-role {_ROLES[(flags >> 2) & 3]}, ")
    out.append(f"CIST root-id {_bridge(bpdu, 5)}, CIST ext-pathcost {u32(bpdu, 13)}")
    out.append(f"\n\tCIST regional-root-id {_bridge(bpdu, 17)}, ")
    out.append(f"CIST port-id {u16(bpdu, 25):04x},")
    out.append(f"\n\tmessage-age {_seconds(bpdu, 27)}, max-age {_seconds(bpdu, 29)}, "
               f"hello-time {_seconds(bpdu, 31)}, forwarding-delay {_seconds(bpdu, 33)}")
    out.append(f"\n\tv3len {u16(bpdu, 36)}, ")
    out.append("MCID Name ")
    _name(out, bpdu, 39)
    out.append(f", rev {u16(bpdu, 71)},\n\t\tdigest {take(bpdu, 73, 16).hex()}, ")
    out.append(f"CIST int-root-pathcost {u32(bpdu, 89)},")
    out.append(f"\n\tCIST bridge-id {_bridge(bpdu, 93)}, ")
    out.append(f"CIST remaining-hops {take(bpdu, 101, 1)[0]}")
    left = u16(bpdu, 36) - 64    # the configuration identifier and CIST fields take 64
    at = 102
    while left >= _MSTI:
        msti_flags = take(bpdu, at, 1)[0]
        out.append(f"\n\tMSTI {u16(bpdu, at + 1) & 0x0FFF}, Flags [{_flags(msti_flags)}], "
                   f"port-role {_ROLES[(msti_flags >> 2) & 3]}")
        out.append(f"\n\t\tMSTI regional-root-id {_bridge(bpdu, at + 1)}, "
                   f"pathcost {u32(bpdu, at + 9)}")
        out.append(f"\n\t\tMSTI bridge-prio {take(bpdu, at + 13, 1)[0] >> 4}, "
                   f"port-prio {take(bpdu, at + 14, 1)[0] >> 4}, "
                   f"hops {take(bpdu, at + 15, 1)[0]}")
        left -= _MSTI
        at += _MSTI


def _spb(out: list[str], bpdu: bytes, at: int) -> None:
    out.append(f"\n\tv4len {u16(bpdu, at)}, ")
    out.append("AUXMCID Name ")
    _name(out, bpdu, at + 3)
    # each line's fields are all read before it is printed: a cut prints none of that line
    rev, digest = u16(bpdu, at + 35), take(bpdu, at + 37, 16).hex()
    out.append(f", Rev {rev},\n\t\tdigest {digest}")
    agreement, form, convention = (take(bpdu, at + 53, 1)[0], take(bpdu, at + 55, 1)[0],
                                   take(bpdu, at + 56, 1)[0])
    edges, agreement_digest = u16(bpdu, at + 57), take(bpdu, at + 67, 20).hex()
    out.append(f"\n\tAgreement num {agreement >> 6}, Discarded Agreement num "
               f"{agreement >> 4 & 3}, Agreement valid-flag {agreement >> 3 & 1},\n\t"
               f"Restricted role-flag: {agreement >> 2 & 1}, Format id {form >> 4} cap {form}, "
               f"Convention id {convention >> 4} cap {convention},\n\tEdge count {edges}, "
               f"Agreement digest {agreement_digest}")
