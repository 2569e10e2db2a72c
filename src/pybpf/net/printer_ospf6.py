"""OSPFv3 (RFC 5340; authentication trailer RFC 7166, LLS RFC 5613) on IPv6 as
``tcpdump -n`` 4.99 prints it.

Without -v a packet is its version, type and length; -v adds the router, area and
instance, a hello's or database description's fields and the trailer after the packet
(LLS, authentication); -vv adds the LSA headers, requests and LSAs with their bodies
(router links, network, inter-area prefix, external, link, intra-area prefix, grace;
others as a dump). Intra-area TE LSAs are not decoded.

A checked read that fails ends the line with `` [|ospf3]``; so does a length that does
not fit (an LSA longer than the packet, a prefix longer than its LSA)."""

from __future__ import annotations

from .printer_ospf import OspfWords, grace_tlvs
from .printer_words import LongJump, ip6

__all__ = ["ospf6_text"]

_TYPES = {1: "Hello", 2: "Database Description", 3: "LS-Request", 4: "LS-Update",
          5: "LS-Ack"}
_OPTIONS = ((0x01, "V6"), (0x02, "External"), (0x04, "Deprecated"), (0x08, "NSSA"),
            (0x10, "Router"), (0x20, "Demand Circuit"), (0x100, "AFs Support"),
            (0x200, "LLS"), (0x400, "Authentication Trailer"))
_ROUTER_FLAGS = ((0x01, "ABR"), (0x02, "External"), (0x04, "Virtual-Link Endpoint"),
                 (0x08, "Deprecated"), (0x10, "NSSA Translator"))
_EXTERNAL_FLAGS = ((0x80000000, "External Type 2"), (0x02000000, "Forwarding"),
                   (0x01000000, "Tag"))
_DD_FLAGS = ((0x04, "Init"), (0x02, "More"), (0x01, "Master"), (0x10, "IPv6 MTU"))
_LSAS = {1: "Router", 2: "Network", 3: "Inter-Area Prefix", 4: "Inter-Area Router",
         5: "External", 6: "Deprecated", 7: "NSSA", 8: "Link", 9: "Intra-Area Prefix",
         10: "Intra-Area TE", 11: "Grace", 12: "Router Information", 13: "Inter-AS-TE",
         14: "Layer 1 VPN"}
_SCOPES = {0x0000: "Link Local", 0x2000: "Area Local", 0x4000: "Domain Wide"}
_PREFIX_OPTIONS = ((0x01, "No Unicast"), (0x02, "Local address"), (0x04, "Deprecated"),
                   (0x08, "Propagate"), (0x10, "Down"), (0x20, "N-bit"))
_LINKS = {4: "Virtual Link: Neighbor Router-ID", 1: "Neighbor Router-ID",
          2: "Neighbor Network-ID"}
_HEADER, _LSA_HEADER = 16, 20


class _Stop(Exception):
    """tcpdump's 'goto trunc': `` [|ospf3]`` ends the line."""


def _bits(table: tuple[tuple[int, str], ...], value: int) -> str:
    return ", ".join(name for bit, name in table if value & bit == bit) or "none"


def ospf6_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the addresses for an OSPFv3 packet of ``length`` bytes."""
    out = OspfWords(data, "ospf3")
    try:
        _packet(out, length, verbose)
    except _Stop:
        out.add(" [|ospf3]")
    except LongJump as jump:
        return jump.text + " [|ospf3]"
    return out.text()


def _packet(out: OspfWords, length: int, verbose: int) -> None:
    kind = out.get(1)
    name = _TYPES.get(kind, f"unknown packet type ({kind})")
    out.add(f"OSPFv{out.get(0)}, {name}, length {length}")
    if kind not in _TYPES or not verbose:
        return
    declared = out.get(2, 2)
    if declared > length:
        out.add(f" [len {declared}]")
        return
    out.add(f"\n\tRouter-ID {out.addr(4)}")
    out.add(f", Area {out.addr(8)}" if out.get(8, 4) else ", Backbone Area")
    if out.get(14):
        out.add(f", Instance {out.get(14)}")
    if out.get(0) != 3:
        return
    _body(out, kind, declared, verbose)
    _trailer(out, kind, declared, length - declared, verbose)


def _body(out: OspfWords, kind: int, end: int, verbose: int) -> None:
    get = out.get
    if kind == 1:
        out.add(f"\n\tOptions [{_bits(_OPTIONS, get(20, 4))}]")
        out.add(f"\n\t  Hello Timer {get(24, 2)}s, Dead Timer {get(26, 2)}s, Interface-ID "
                f"{out.addr(16)}, Priority {get(20)}")
        if get(28, 4):
            out.add(f"\n\t  Designated Router {out.addr(28)}")
        if get(32, 4):
            out.add(f", Backup Designated Router {out.addr(32)}")
        if verbose > 1:
            out.add("\n\t  Neighbor List:")
            for at in range(36, end, 4):
                out.add(f"\n\t    {out.addr(at)}")
    elif kind == 2:
        out.add(f"\n\tOptions [{_bits(_OPTIONS, get(16, 4))}]")
        out.add(f", DD Flags [{_bits(_DD_FLAGS, get(23))}]")
        out.add(f", MTU {get(20, 2)}, DD-Sequence 0x{get(24, 4):08x}")
        if verbose > 1:
            for at in range(28, end, _LSA_HEADER):
                _lsa_header(out, at, end)
    elif verbose > 1 and kind == 3:
        for at in range(_HEADER, end, 12):
            if at + 12 > len(out.data):
                raise _Stop
            out.add(f"\n\t  Advertising Router {out.addr(at + 8)}")
            _ls_type(out, get(at + 2, 2), at + 4)
    elif verbose > 1 and kind == 4:
        count = get(16, 4)
        at = 20
        while at < end and count:
            count = (count - 1) & 0xFFFFFFFF
            _lsa(out, at, end)
            at += get(at + 18, 2)
    elif verbose > 1 and kind == 5:
        for at in range(_HEADER, end, _LSA_HEADER):
            _lsa_header(out, at, end)


def _ls_type(out: OspfWords, kind: int, state_id: int) -> None:
    out.add(f"\n\t    {_LSAS.get(kind & 0x1FFF, 'Unknown')} LSA ({kind & 0x1FFF}), "
            f"{_SCOPES.get(kind & 0x6000, 'Unknown')} Scope"
            f"{', transitive' if kind & 0x8000 else ''}, LSA-ID {out.addr(state_id)}")


def _lsa_header(out: OspfWords, at: int, end: int) -> None:
    if at + _LSA_HEADER > end:
        raise _Stop
    size = out.get(at + 18, 2)
    out.add(f"\n\t  Advertising Router {out.addr(at + 8)}, seq 0x{out.get(at + 12, 4):08x}, "
            f"age {out.get(at, 2)}s, length {(size - _LSA_HEADER) % (1 << 64)}")
    _ls_type(out, out.get(at + 2, 2), at + 4)


def _prefix(out: OspfWords, at: int, left: int) -> int:
    """Prints one address prefix; its size (_Stop where tcpdump gives up)."""
    if left < 4 or at + 4 > len(out.data):
        raise _Stop
    bits = out.get(at)
    words = (bits + 31) // 32
    if words > 4:
        out.add(f" bogus prefixlen /{bits}")
        raise _Stop
    if left - 4 < words * 4:
        raise _Stop
    out.get(at + 4, words * 4)
    address = out.data[at + 4:at + 4 + words * 4].ljust(16, b"\0")
    out.add(f"\n\t\t{ip6(address)}/{bits}")
    if out.get(at + 1):
        out.add(f", Options [{_bits(_PREFIX_OPTIONS, out.get(at + 1))}]")
    out.add(f", metric {out.get(at + 2, 2)}")
    return 4 + words * 4


def _prefixes(out: OspfWords, at: int, left: int, count: int | None) -> None:
    """``count`` prefixes, or (None) as many as ``left`` bytes hold."""
    while (left if count is None else count) > 0:
        size = _prefix(out, at, left)
        at, left = at + size, left - size
        if count is not None:
            count -= 1


def _lsa(out: OspfWords, at: int, end: int) -> None:
    _lsa_header(out, at, end)
    size = out.get(at + 18, 2)
    if size < _LSA_HEADER or at + size > end:
        raise _Stop
    left, body, kind = size - _LSA_HEADER, at + _LSA_HEADER, out.get(at + 2, 2)
    get = out.get
    if kind in (0x2001, 0x2002, 0x2003, 0x4005, 0x0008, 0x2009) and left < 4:
        raise _Stop
    if kind == 0x2001:
        out.add(f"\n\t      Options [{_bits(_OPTIONS, get(body, 4))}]")
        out.add(f", RLA-Flags [{_bits(_ROUTER_FLAGS, get(body))}]")
        link, left = body + 4, left - 4
        while left:
            if left < 16 or link + 16 > len(out.data):
                raise _Stop
            left -= 16
            kind = get(link)
            if kind not in _LINKS:
                out.add(f"\n\t      Unknown Router Links Type 0x{kind:02x}")
                return
            out.add(f"\n\t      {_LINKS[kind]} {out.addr(link + 12)}\n\t      Neighbor "
                    f"Interface-ID {out.addr(link + 8)}, Interface {out.addr(link + 4)}")
            out.add(f", metric {get(link + 2, 2)}")
            link += 16
    elif kind == 0x2002:
        out.add(f"\n\t      Options [{_bits(_OPTIONS, get(body, 4))}]")
        out.add("\n\t      Connected Routers:")
        router, left = body + 4, left - 4
        while left:
            if left < 4:
                raise _Stop
            out.add(f"\n\t\t{out.addr(router)}")
            router, left = router + 4, left - 4
    elif kind == 0x2003:
        out.add(f", metric {get(body, 4) & 0xFFFFFF}")
        _prefixes(out, body + 4, left - 4, None)
    elif kind == 0x4005:
        _external(out, body, left - 4)
    elif kind == 0x0008:
        out.add(f"\n\t      Options [{_bits(_OPTIONS, get(body, 4))}]")
        if left - 4 < 20:
            raise _Stop
        count = get(body + 20, 4)
        get(body + 4, 16)
        out.add(f"\n\t      Priority {get(body)}, Link-local address "
                f"{ip6(out.data[body + 4:body + 20])}, Prefixes {count}:")
        _prefixes(out, body + 24, left - 24, count)
    elif kind == 0x2009:
        if body + 12 > len(out.data):
            raise _Stop
        _ls_type(out, get(body + 2, 2), body + 4)
        if left - 4 < 2:
            raise _Stop
        count = get(body, 2)
        out.add(f"\n\t      Prefixes {count}:")
        _prefixes(out, body + 12, left - 6, count)
    elif kind == 0x000B:
        if not grace_tlvs(out, body, left, 2):
            raise _Stop
    elif not out.dump(body, left, "\n\t      "):
        raise _Stop


def _external(out: OspfWords, body: int, left: int) -> None:
    flags = out.get(body, 4)
    out.add(f"\n\t     Flags [{_bits(_EXTERNAL_FLAGS, flags)}]")
    out.add(f" metric {out.get(body, 4) & 0xFFFFFF}")
    prefix = body + 4
    size = _prefix(out, prefix, left)
    at, left = prefix + size, left - size
    if flags & 0x02000000:
        if left < 16:
            raise _Stop
        out.get(at, 16)
        out.add(f" forward {ip6(out.data[at:at + 16])}")
        at, left = at + 16, left - 16
    if flags & 0x01000000:
        if left < 4:
            raise _Stop
        out.add(f" tag {out.addr(at)}")
        at, left = at + 4, left - 4
    if out.get(prefix + 2):
        if left < 4:
            raise _Stop
        out.add(f" RefLSID: {out.addr(at)}")


def _trailer(out: OspfWords, kind: int, at: int, left: int, verbose: int) -> None:
    """The LLS block (hellos and descriptions that say so), then the authentication
    trailer, in the bytes after the packet."""
    lls = 0
    if kind in (1, 2) and out.get(20 if kind == 1 else 16, 4) & 0x200 and left:
        if left < 4:
            raise _Stop
        out.add(f"\n\tLLS Checksum 0x{out.get(at, 2):04x}")
        lls = out.get(at + 2, 2)
        out.add(f", Data Length {lls}")
        if lls < 4 or lls > left or at + lls > len(out.data):
            raise _Stop
    at, left = at + lls, left - lls
    if not left:
        return
    if left < 16:
        raise _Stop
    auth = out.get(at, 2)
    out.add("\n\tAuthentication Type " + ("HMAC" if auth == 1 else f"unknown (0x{auth:04x})"))
    size = out.get(at + 2, 2)
    out.add(f", Length {size}")
    if size < 16 or size > left:
        raise _Stop
    out.add(f", SAID {out.get(at + 6, 2)}")
    out.add(f", CSN 0x{out.get(at + 8, 4):08x}")
    out.add(f":{out.get(at + 12, 4):08x}")
    if at + size > len(out.data):
        raise _Stop
    if verbose > 1:
        out.dump(at + 16, size - 16, "\n\tAuthentication Data ")
