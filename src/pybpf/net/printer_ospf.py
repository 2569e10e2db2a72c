"""OSPFv2 (RFC 2328; opaque LSAs RFC 5250, graceful restart RFC 3623, router
information RFC 7770, link-local signalling RFC 5613) as ``tcpdump -n`` 4.99 prints it.

Without -v a packet is its version, type and length; -v adds the router and area, the
authentication, then each type's fields: a hello's timers and neighbours, a database
description's LSA headers, a request's LSAs, an update's LSAs with their bodies (router
links, network, summary, external, NSSA, group membership, and the opaque ones:
graceful restart, router information and traffic engineering, printer_ospf_te.py), an
acknowledgement's headers, and the LLS block after the
packet. -vv adds a dump of each LSA body.

tcpdump reads everything through bounds-checked reads: a read beyond the capture leaves
the packet there, `` [|ospf2]`` after what was printed. With MD5 authentication the
digest after the packet is taken off both the length and the captured bytes first."""

from __future__ import annotations

from .printer_ospf_te import te_tlvs
from .printer_words import LongJump, Words, ip4, safe_text

__all__ = ["ospf_text", "OspfWords", "grace_tlvs"]

_TYPES = {1: "Hello", 2: "Database Description", 3: "LS-Request", 4: "LS-Update",
          5: "LS-Ack"}
_OPTIONS = ((0x01, "MultiTopology"), (0x02, "External"), (0x04, "Multicast"),
            (0x08, "NSSA"), (0x10, "LLS"), (0x20, "Demand Circuit"), (0x40, "Opaque"),
            (0x80, "Up/Down"))
_AUTH = {0: "none", 1: "simple", 2: "MD5"}
_DD_FLAGS = ((0x04, "Init"), (0x02, "More"), (0x01, "Master"), (0x08, "OOBResync"))
_ROUTER_FLAGS = ((0x01, "ABR"), (0x02, "ASBR"), (0x04, "Virtual"), (0x08, "Wildcard"),
                 (0x10, "Nt"), (0x80, "Host"))
_LSAS = {1: "Router", 2: "Network", 3: "Summary", 4: "ASBR Summary", 5: "External",
         6: "Multicast Group", 7: "NSSA", 9: "Link Local Opaque", 10: "Area Local Opaque",
         11: "Domain Wide Opaque"}
_OPAQUE = {1: "Traffic Engineering", 3: "Graceful restart", 4: "Router Information"}
_TOPOLOGIES = {0: "default", 1: "multicast", 2: "management"}
_LINKS = {4: "Virtual Link: Neighbor Router-ID: {}, Interface Address: {}",
          1: "Neighbor Router-ID: {}, Interface Address: {}",
          2: "Neighbor Network-ID: {}, Interface Address: {}",
          3: "Stub Network: {}, Mask: {}"}
_GRACE = {1: "Grace Period", 2: "Graceful restart Reason", 3: "IPv4 interface address"}
_GRACE_REASONS = {0: "Unknown", 1: "Software Restart", 2: "Software Reload/Upgrade",
                  3: "Control Processor Switch"}
_CAPABILITIES = ((1, "Reserved"), (2, "Reserved"), (4, "Reserved"), (8, "Reserved"),
                 (16, "graceful restart capable"), (32, "graceful restart helper"),
                 (64, "Stub router support"), (128, "Traffic engineering"),
                 (256, "p2p over LAN"), (512, "path computation server"))
_LLS = {1: "Extended Options", 2: "MD5 Authentication"}
_LLS_OPTIONS = ((1, "LSDB resync"), (2, "Restart"))
_HEADER, _LSA_HEADER = 24, 20


def _bits(table: tuple[tuple[int, str], ...], value: int, empty: str) -> str:
    return ", ".join(name for bit, name in table if value & bit == bit) or empty


class OspfWords(Words):
    """The words of an OSPF packet (v2's and v3's), with its addresses."""

    def addr(self, at: int) -> str:
        self.get(at, 4)
        return ip4(self.data[at:at + 4])


class _Cut(Exception):
    """A checked read failed where tcpdump gives up on the LSA but not the packet."""


def ospf_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the addresses for an OSPF packet of ``length`` bytes."""
    out = OspfWords(data, "ospf2")
    try:
        _packet(out, length, verbose)
    except LongJump as jump:
        return jump.text + " [|ospf2]"
    return out.text()


def _packet(out: OspfWords, length: int, verbose: int) -> None:
    if out.get(14, 2) == 2:   # the MD5 digest follows the packet
        length = (length - 16) & 0xFFFFFFFF
        out.data = out.data[:max(len(out.data) - 16, 0)]
    kind, version = out.get(1), out.get(0)
    if kind not in _TYPES:
        out.add(f"OSPFv{version}, unknown LS-type {kind}, length {length}")
        return
    out.add(f"OSPFv{version}, {_TYPES[kind]}, length {length}")
    if not verbose:
        return
    declared = out.get(2, 2)
    if length != declared:
        out.add(f" [len {declared}]")
    end = min(length, declared)
    out.add(f"\n\tRouter-ID {out.addr(4)}")
    out.add(f", Area {out.addr(8)}" if out.get(8, 4) else ", Backbone Area")
    out.get(16, 8)
    auth = out.get(14, 2)
    out.add(f", Authentication Type: {_AUTH.get(auth, 'unknown')} ({auth})")
    if auth == 1:
        out.add("\n\tSimple text password: ")
        for at in range(16, 24):   # up to its first NUL
            byte = out.get(at)
            if not byte:
                break
            out.add(safe_text(bytes([byte])))
    elif auth == 2:
        out.add(f"\n\tKey-ID: {out.get(18)}, Auth-Length: {out.get(19)}, "
                f"Crypto Sequence Number: 0x{out.get(20, 4):08x}")
    elif auth:
        return
    if version != 2:
        out.add(f" ospf [version {version}]")
        return
    _body(out, kind, end, verbose)
    if length > declared:
        _lls(out, kind, length)


def _body(out: OspfWords, kind: int, end: int, verbose: int) -> None:
    if kind == 1:
        out.add(f"\n\tOptions [{_bits(_OPTIONS, out.get(30), 'none')}]")
        out.add(f"\n\t  Hello Timer {out.get(28, 2)}s, Dead Timer {out.get(32, 4)}s, "
                f"Mask {out.addr(24)}, Priority {out.get(31)}")
        if out.get(36, 4):
            out.add(f"\n\t  Designated Router {out.addr(36)}")
        if out.get(40, 4):
            out.add(f", Backup Designated Router {out.addr(40)}")
        if end > 44:
            out.add("\n\t  Neighbor List:")
        for at in range(44, end, 4):
            out.add(f"\n\t    {out.addr(at)}")
    elif kind == 2:
        out.add(f"\n\tOptions [{_bits(_OPTIONS, out.get(26), 'none')}]")
        out.add(f", DD Flags [{_bits(_DD_FLAGS, out.get(27), 'none')}]")
        if out.get(24, 2):
            out.add(f", MTU: {out.get(24, 2)}")
        out.add(f", Sequence: 0x{out.get(28, 4):08x}")
        at = 32
        while at < end and _lsa_header(out, at) >= 0:
            at += _LSA_HEADER
    elif kind == 3:
        for at in range(24, end, 12):
            out.get(at, 12)
            lsa = out.get(at, 4)
            out.add(f"\n\t  Advertising Router: {out.addr(at + 8)}, "
                    f"{_LSAS.get(lsa, 'unknown')} LSA ({lsa})")
            if lsa in (9, 10, 11):
                opaque = out.get(at + 4)
                out.add(f", Opaque-Type: {_OPAQUE.get(opaque, 'unknown')} LSA ({opaque}), "
                        f"Opaque-ID: {out.get(at + 5, 3)}")
            else:
                out.add(f", LSA-ID: {out.addr(at + 4)}")
    elif kind == 4:
        count = out.get(24, 4)
        out.add(f", {count} LSA{'' if count == 1 else 's'}")
        at = 28
        for number in range(1, count + 1):
            out.add(f"\n\t  LSA #{number}")
            at = _lsa(out, at, verbose)
    else:   # an acknowledgement: headers until one cannot be read (no end is checked)
        at = 24
        while _lsa_header(out, at) >= 0:
            at += _LSA_HEADER


def _lsa_header(out: OspfWords, at: int) -> int:
    """Prints an LSA header; its length, or -1 when that is shorter than the header."""
    size = out.get(at + 18, 2)
    if size < _LSA_HEADER:
        out.add(f"\n\t    Bogus length {size} < header ({_LSA_HEADER})")
        return -1
    out.add(f"\n\t  Advertising Router {out.addr(at + 8)}, seq 0x{out.get(at + 12, 4):08x}, "
            f"age {out.get(at, 2)}s, length {size - _LSA_HEADER}")
    kind = out.get(at + 3)
    if kind in (9, 10, 11):
        opaque = out.get(at + 4)
        out.add(f"\n\t    {_LSAS[kind]} LSA ({kind}), Opaque-Type "
                f"{_OPAQUE.get(opaque, 'unknown')} LSA ({opaque}), Opaque-ID "
                f"{out.get(at + 5, 3)}")
    else:
        out.add(f"\n\t    {_LSAS.get(kind, 'unknown')} LSA ({kind}), LSA-ID: {out.addr(at + 4)}")
    out.add(f"\n\t    Options: [{_bits(_OPTIONS, out.get(at + 2), 'none')}]")
    return size


def _lsa(out: OspfWords, at: int, verbose: int) -> int:
    """Prints one LSA of an update; where the next one starts."""
    size = _lsa_header(out, at)
    if size < 0:
        raise LongJump(out.text(), out.proto)
    end, body, left = at + size, at + _LSA_HEADER, size - _LSA_HEADER
    kind = out.get(at + 3)
    try:
        if kind == 1:
            _router_links(out, body)
        elif kind == 2:
            out.add(f"\n\t    Mask {out.addr(body)}\n\t    Connected Routers:")
            for router in range(body + 4, end, 4):
                out.add(f"\n\t      {out.addr(router)}")
        elif kind in (3, 4):
            if kind == 3:
                out.add(f"\n\t    Mask {out.addr(body)}")
            out.get(body + 4, 4)
            for metric in range(body + 4, end, 4):
                word = out.get(metric, 4)
                topology = (word >> 24) & 0x7F
                out.add(f"\n\t\ttopology {_TOPOLOGIES.get(topology, 'Unknown')} ({topology}) "
                        f"metric {word & 0xFFFFFF}")
        elif kind in (5, 7):
            out.add(f"\n\t    Mask {out.addr(body)}")
            out.get(body + 4, 4)
            for metric in range(body + 4, end, 12):
                _external_metric(out, metric)
        elif kind == 6:
            for vertex in range(body, end, 8):
                vtype = out.get(vertex, 4)
                out.add("\n\t    " + ({1: "Router Router-ID ",
                                        2: "Network Designated Router "}[vtype]
                                       + out.addr(vertex + 4) if vtype in (1, 2)
                                       else f"unknown VertexType ({vtype})"))
        elif kind in (9, 10, 11):
            _opaque(out, out.get(at + 4), body, left, verbose)
    except _Cut:
        return end
    if verbose > 1:
        out.dump(body, left, "\n\t    ")
    return end


def _router_links(out: OspfWords, body: int) -> None:
    out.add(f"\n\t    Router LSA Options: [{_bits(_ROUTER_FLAGS, out.get(body), 'none')}]")
    count = out.get(body + 2, 2)
    link = body + 4
    out.get(link, 12)
    for _ in range(count):
        out.get(link, 12)
        kind = out.get(link + 8)
        if kind not in _LINKS:
            out.add(f"\n\t      Unknown Router Link Type ({kind})")
            raise _Cut
        out.add("\n\t      " + _LINKS[kind].format(out.addr(link), out.addr(link + 4)))
        metrics = out.get(link + 9)
        for index in range(metrics + 1):   # the first is the link's own: topology 0
            tos = link + 8 + 4 * index
            topology = out.get(tos) if index else 0
            out.add(f"\n\t\ttopology {_TOPOLOGIES.get(topology, 'Unknown')} ({topology}), "
                    f"metric {out.get(tos + 2, 2)}")
        link += 12 + 4 * metrics


def _external_metric(out: OspfWords, at: int) -> None:
    word = out.get(at, 4)
    topology = (word >> 24) & 0x7F
    metric = word & 0xFFFFFF
    out.add(f"\n\t\ttopology {_TOPOLOGIES.get(topology, 'Unknown')} ({topology}), type "
            f"{2 if word >> 31 else 1}, metric "
            + ("infinite" if metric == 0xFFFFFF else str(metric)))
    if out.get(at + 4, 4):
        out.add(f", forward {out.addr(at + 4)}")
    if out.get(at + 8, 4):
        out.add(f", tag {out.addr(at + 8)}")


def _opaque(out: OspfWords, opaque: int, at: int, left: int, verbose: int) -> None:
    if opaque == 1:
        if not te_tlvs(out, at, left, verbose):
            raise _Cut
    elif opaque in (3, 4):
        _opaque_tlvs(out, opaque, at, left, verbose)
    elif verbose <= 1 and not out.dump(at, left, "\n\t    "):
        raise _Cut


def grace_tlvs(out: OspfWords, at: int, left: int, verbose: int) -> bool:
    """A grace LSA's TLVs (OSPFv2's opaque one, OSPFv3's own); False where tcpdump gives
    up on the LSA."""
    try:
        _opaque_tlvs(out, 3, at, left, verbose)
    except _Cut:
        return False
    return True


def _opaque_tlvs(out: OspfWords, opaque: int, at: int, left: int, verbose: int) -> None:
    """Graceful restart's and router information's TLVs (a failed check inside the
    former gives up on the LSA only; the latter leaves the packet)."""
    grace = opaque == 3
    while left > 0:
        if at + 4 > len(out.data):
            if grace:
                raise _Cut
            out.get(at, 4)
        if left < 4:
            out.add(f"\n\t    Remaining LS length {left} < 4")
            raise _Cut
        kind, size = out.get(at, 2), out.get(at + 2, 2)
        at, left = at + 4, left - 4
        names = _GRACE if grace else {1: "Router Capabilities"}
        out.add(f"\n\t    {names.get(kind, 'unknown')} TLV ({kind}), length"
                f"{'' if grace else ':'} {size}, value: ")
        if size > left:
            out.add(f"\n\t    Bogus length {size} > " + ("" if grace else
                                                           "remaining LS length ") + f"{left}")
            raise _Cut
        if grace and not (kind and size):
            raise _Cut
        if at + size > len(out.data):
            if grace:
                raise _Cut
            out.get(at, size)
        wanted = {1: 4, 2: 1, 3: 4}.get(kind) if grace else 4 if kind == 1 else None
        if wanted is not None and size != wanted:
            out.add(f"\n\t    Bogus length {size} != {wanted}")
            raise _Cut
        if grace and kind == 1:
            out.add(f"{out.get(at, 4)}s")
        elif grace and kind == 2:
            reason = out.get(at)
            out.add(f"{_GRACE_REASONS.get(reason, 'Unknown')} ({reason})")
        elif grace and kind == 3:
            out.add(out.addr(at))
        elif not grace and kind == 1:
            out.add("Capabilities: " + _bits(_CAPABILITIES, out.get(at, 4), "Unknown"))
        elif verbose <= 1 and not out.dump(at, size, "\n\t      "):
            raise _Cut
        if grace:   # its TLVs are padded to 32 bits
            size += -size % 4
        at, left = at + size, left - size


def _lls(out: OspfWords, kind: int, length: int) -> None:
    """The link-local signalling block after a hello or database description."""
    if kind not in (1, 2) or not out.get(30 if kind == 1 else 26) & 0x10:
        return
    start = out.get(2, 2)
    if out.get(14, 2) == 2:
        start += out.get(19)
    if start >= length:
        out.add("\n\t[LLS truncated]")
        return
    out.add(f"\n\t  LLS: checksum: 0x{out.get(start, 2):04x}")
    out.add(f", length: {out.get(start + 2, 2)}")
    at = start + 4
    while at < length:
        tlv = out.get(at, 2)
        out.add(f"\n\t    {_LLS.get(tlv, 'Unknown TLV')} ({tlv})")
        size = out.get(at + 2, 2)
        out.add(f", length: {size}")
        at += 4
        if tlv == 1:
            if size != 4:
                out.add(" [should be 4]")
                size = 4
            flags = out.get(at, 4)
            out.add(f"\n\t      Options: 0x{flags:08x} [{_bits(_LLS_OPTIONS, flags, '?')}]")
        elif tlv == 2:
            if size != 20:
                out.add(" [should be 20]")
                size = 20
            out.add(f"\n\t      Sequence number: 0x{out.get(at, 4):08x}")
        at += size
