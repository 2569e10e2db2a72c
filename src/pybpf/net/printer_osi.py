"""OSI network-layer packets (ISO 9577's NLPID first) as ``tcpdump -n`` 4.99 prints them
without -v: CLNP's addresses and PDU type, ES-IS's PDU type, IS-IS's PDU type with its
system, LAN and LSP IDs, NULL, and unknown NLPIDs; tcpdump's complaints about damaged
headers (with its hex dump of the packet after them).

Only the one-line forms are decoded: under -v (CLNP's options, IS-IS's TLVs, ...) the
caller prints what it printed before."""

from __future__ import annotations

from .printer_words import LongJump, Words

__all__ = ["osi_text", "osi_prefix"]

_NLPIDS = {0x00: "NULL", 0x08: "Q.933", 0x09: "LMI", 0x80: "SNAP", 0x81: "CLNP",
           0x82: "ES-IS", 0x83: "IS-IS", 0x84: "CONS", 0x85: "IDRP", 0xC1: "ISIS_SPB",
           0xB1: "FRF.15", 0xCC: "IPv4", 0xCF: "PPP", 0x8A: "X25 ES-IS", 0x8E: "IPv6"}
_CLNP_PDUS = {1: "Error Report", 29: "MD", 28: "Data", 30: "Echo Request",
              31: "Echo Response"}
_ESIS_PDUS = {6: "redirect", 2: "ESH", 4: "ISH"}
_ISIS_PDUS = {15: "L1 Lan IIH", 16: "L2 Lan IIH", 17: "p2p IIH", 18: "L1 LSP", 20: "L2 LSP",
              24: "L1 CSNP", 25: "L2 CSNP", 26: "L1 PSNP", 27: "L2 PSNP"}
# IS-IS PDU type -> the fixed header's length
_ISIS_FIXED = {15: 27, 16: 27, 17: 20, 18: 27, 20: 27, 24: 33, 25: 33, 26: 17, 27: 17}


class _Unknown(Exception):  # noqa: N818 - not an error: tcpdump's dump after a complaint
    pass


def osi_prefix(nlpid: int) -> str:
    """What -e prints before the packet an NLPID introduces."""
    return f"OSI NLPID {_NLPIDS.get(nlpid, 'Unknown')} (0x{nlpid:02x}): "


def osi_text(data: bytes, length: int, verbose: int, link_header: bool, quiet: bool
             ) -> str | None:
    """The packet's line after the link's words, or None for CLNP, ES-IS and IS-IS under
    -v (not decoded)."""
    if not data:
        return " [|isoclns]"
    if verbose and data[0] in (0x81, 0x82, 0x83):
        return None
    w = Words(data, "isoclns")
    nlpid = data[0]
    if link_header:
        w.add(osi_prefix(nlpid))
    comma = "" if link_header else ", "
    try:
        if nlpid == 0x81:
            w.proto = "clnp"
            _clnp(w, length, comma)
        elif nlpid == 0x82:
            w.proto = "esis"
            _esis(w, length, comma, quiet)
        elif nlpid == 0x83:
            w.proto = "isis"
            _isis(w, length, comma)
        elif nlpid == 0x00:
            w.add(f"{comma}length: {length}")
        elif nlpid in (0x08, 0xCF):   # Q.933 and PPP inside: not decoded here
            return None
        else:
            if not link_header:
                w.add(f"OSI NLPID 0x{nlpid:02x} unknown")
            w.add(f"{comma}length: {length}")
            if length > 1:
                w.dump(0, length, "\n\t")
    except _Unknown:
        w.dump(0, length, "\n\t")
    except LongJump as jump:
        return jump.text + f" [|{jump.proto}]"
    return w.text()


def _short_header(w: Words, li: int) -> None:
    """tcpdump's complaint about a length indicator below the minimum, then every
    captured byte in hex."""
    w.add(f" length indicator {li} < min PDU size:" + w.data.hex().upper())


def _nsap(w: Words, at: int, size: int) -> str:
    if size < 1 or size > 20:
        return "isonsap_string: illegal length"
    w.get(at, size)
    raw = w.data[at:at + size]
    out = []
    for index, byte in enumerate(raw):
        out.append(f"{byte:02x}")
        if index % 2 == 0 and index + 1 < size:
            out.append(".")
    return "".join(out)


def _clnp(w: Words, length: int, comma: str) -> None:
    if len(w.data) < 9:
        raise LongJump(w.text(), "clnp")
    li = w.get(1)
    if comma:
        w.add("CLNP")
    if w.get(2) != 1:
        w.add(f"version {w.get(2)} packet not supported")
        raise _Unknown
    if li > length:
        w.add(f" length indicator({li}) > PDU size ({length})!")
        raise _Unknown
    if li < 9:
        _short_header(w, li)
        raise _Unknown
    kind = w.get(4) & 0x1F
    left, at = li - 9, 9
    addresses = []
    for _ in range(2):
        if left < 1:
            w.add("li < size of fixed part of CLNP header and addresses")
            raise _Unknown
        size = w.get(at)
        at, left = at + 1, left - 1
        if left < size:
            w.add("li < size of fixed part of CLNP header and addresses")
            raise _Unknown
        if at + size > len(w.data):
            raise LongJump(w.text(), "clnp")
        addresses.append((at, size))
        at, left = at + size, left - size
    (dst_at, dst_len), (src_at, src_len) = addresses
    w.add(f"{comma}{_nsap(w, src_at, src_len)} > {_nsap(w, dst_at, dst_len)}, "
          f"{_CLNP_PDUS.get(kind, f'unknown ({kind})')}, length {length}")


def _esis(w: Words, length: int, comma: str, quiet: bool) -> None:
    if comma:
        w.add("ES-IS")
    if length <= 2:
        w.add("bad pkt!" if quiet else "no header at all!")
        return
    if len(w.data) < 9:
        raise LongJump(w.text(), "esis")
    li = w.get(1)
    if w.get(2) != 1:
        w.add(f" version {w.get(2)} packet not supported")
        return
    if li > length:
        w.add(f" length indicator({li}) > PDU size ({length})!")
        return
    if li < 11:
        _short_header(w, li)
        return
    kind = w.get(4) & 0x1F
    w.add(f"{comma}{_ESIS_PDUS.get(kind, f'unknown type ({kind})')}, length {length}")


def _system_id(w: Words, at: int, size: int) -> str:
    """An IS-IS system ID (6 bytes), node ID (7) or LSP ID (8) as tcpdump writes them."""
    raw = bytes(w.get(at + i) for i in range(size))
    text = f"{raw[0:2].hex()}.{raw[2:4].hex()}.{raw[4:6].hex()}"
    if size >= 7:
        text += f".{raw[6]:02x}"
    if size == 8:
        text += f"-{raw[7]:02x}"
    return text


def _isis(w: Words, length: int, comma: str) -> None:
    if len(w.data) < 8 or length < 8:
        raise LongJump(w.text(), "isis")
    if comma:
        w.add("IS-IS")
    version, id_length, pdu_version = w.get(2), w.get(3), w.get(5)
    fixed, max_area = w.get(1), w.get(7)
    if version != 1:
        w.add(f"version {version} packet not supported")
        raise _Unknown
    if id_length not in (0, 6):
        w.add(f"system ID length of {id_length} is not supported")
        raise _Unknown
    if pdu_version != 1:
        w.add(f"version {pdu_version} packet not supported")
        raise _Unknown
    if length < fixed:
        w.add(f"fixed header length {fixed} > packet length {length}")
        raise _Unknown
    if fixed < 8:
        w.add(f"fixed header length {fixed} < minimum header size 8")
        raise _Unknown
    if max_area == 255:
        w.add("bad packet -- 255 areas")
        raise _Unknown
    kind = w.get(4)
    w.add(f"{comma}{_ISIS_PDUS.get(kind, f'unknown PDU-Type {kind}')}")
    if kind not in _ISIS_FIXED:
        w.add(f", length {length}")
        return
    want = _ISIS_FIXED[kind]
    if fixed != want:
        w.add(f"{'-' if kind in (26, 27) else ','} bogus fixed header length {fixed} should "
              f"be {want}")
        raise _Unknown
    if len(w.data) < want or length < want:
        raise LongJump(w.text(), "isis")
    if kind in (15, 16):
        w.add(f", src-id {_system_id(w, 9, 6)}, lan-id {_system_id(w, 20, 7)}, "
              f"prio {w.get(19)}")
    elif kind == 17:
        w.add(f", src-id {_system_id(w, 9, 6)}")
    elif kind in (18, 20):
        w.add(f", lsp-id {_system_id(w, 12, 8)}, seq 0x{w.get(20, 4):08x}, "
              f"lifetime {w.get(10, 2):5d}s")
    else:
        w.add(f", src-id {_system_id(w, 10, 7)}")
    w.add(f", length {length}")

