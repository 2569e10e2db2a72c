"""tcpdump's text for IGMP (v1, v2, v3 queries and reports, leave, DVMRP's message names),
with -v's group records and checksum check. PIMv1 and mtrace print only their names."""

from __future__ import annotations

import ipaddress

from .inet_checksum import ones_sum
from .printer_words import CutShort, LongJump, ip6, relative_time, take, u16, u32

__all__ = ["igmp_text", "group_records", "query_sources"]

_RECORD_TYPES = {1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"}
_DVMRP = {1: "Probe", 2: "Report", 3: "Ask-neighbors(old)", 4: "Neighbors(old)",
          5: "Ask-neighbors2", 6: "Neighbors2", 7: "Prune", 8: "Graft", 9: "Graft-ACK"}


def _ip(data: bytes, at: int) -> str:
    return str(ipaddress.IPv4Address(take(data, at, 4)))


class _InDvmrp(CutShort):
    """Cut short inside DVMRP, which tcpdump names as the protocol it was printing."""


def igmp_text(data: bytes, length: int, verbose: int) -> str:
    """An IGMP message of ``length`` bytes (``data`` as captured). A capture that ends
    inside it raises :class:`LongJump` with what tcpdump had printed."""
    out: list[str] = []
    try:
        _igmp(out, data, length, verbose)
    except _InDvmrp:
        raise LongJump("".join(out), "dvmrp") from None
    except CutShort:
        raise LongJump("".join(out), "igmp") from None
    return "".join(out)


def _igmp(out: list[str], data: bytes, length: int, verbose: int) -> None:
    kind = take(data, 0, 1)[0]
    if kind == 0x11:
        out.append("igmp query")
        if length >= 12:
            _v3_query(out, data, length, verbose)
        else:
            code = take(data, 1, 1)[0]
            if code:
                out.append(" v2" + (f" [max resp time {code}]" if code != 100 else ""))
            else:
                out.append(" v1")
            if u32(data, 4):
                out.append(f" [gaddr {_ip(data, 4)}]")
            if length != 8:
                out.append(f" [len {length}]")
    elif kind == 0x12:
        out.append(f"igmp v1 report {_ip(data, 4)}" + (f" [len {length}]" if length != 8
                                                       else ""))
    elif kind == 0x16:
        out.append(f"igmp v2 report {_ip(data, 4)}")
    elif kind == 0x22:
        out.append("igmp v3 report")
        if length < 16 or length & 3:
            out.append(f" [invalid len {length}]")
        else:
            group_records(out, data, length, verbose, address_size=4, version=3)
    elif kind == 0x17:
        out.append(f"igmp leave {_ip(data, 4)}")
    elif kind == 0x13:
        out.append("igmp dvmrp")
        if length < 8:
            out.append(f" [len {length}]")
        else:
            try:
                _dvmrp(out, data)
            except CutShort:
                raise _InDvmrp from None
    elif kind == 0x14:
        out.append("igmp pimv1")
    else:
        out.append(f"igmp-{kind}")
    if verbose and length >= 4 and len(data) >= length and ones_sum(data[:length]) != 0xFFFF:
        out.append(f" bad igmp cksum {u16(data, 2):x}!")


def _v3_query(out: list[str], data: bytes, length: int, verbose: int) -> None:
    out.append(" v3")
    if length < 12 or length & 3:
        out.append(f" [invalid len {length}]")
        return
    code = take(data, 1, 1)[0]
    time = code if code < 128 else ((code & 0x0F) | 0x10) << (((code & 0x70) >> 4) + 3)
    if code != 100:
        out.append(" [max resp time " + (f"{time * 0.1:.1f}s" if time < 600
                                         else relative_time(time // 10)) + "]")
    if u32(data, 4) == 0:
        return
    out.append(f" [gaddr {_ip(data, 4)}")
    query_sources(out, data, length, verbose, at=10, address_size=4)
    out.append("]")


def query_sources(out: list[str], data: bytes, length: int, verbose: int, *, at: int,
                  address_size: int) -> None:
    """An IGMPv3 or MLDv2 query's source count at ``at`` and its sources after it: their
    count, with -vv the addresses."""
    sources = u16(data, at)
    first = at + 2
    if not sources:
        return
    if length < first + address_size * sources:
        out.append(" [invalid number of sources]")
    elif verbose > 1:
        out.append(" {")
        for index in range(sources):
            out.append(f" {_address(data, first + address_size * index, address_size)}")
        out.append(" }")
    else:
        out.append(f", {sources} source(s)")


def group_records(out: list[str], data: bytes, length: int, verbose: int, *,
                  address_size: int, version: int) -> None:
    """The group records of an IGMPv3 report (IPv4 groups) or an MLDv2 report (IPv6): the
    count, and with -v each group and its sources (their count; -vv the sources)."""
    groups = u16(data, 6)
    out.append(f", {groups} group record(s)")
    if not verbose:
        return
    at = 8
    head = 4 + address_size
    for _ in range(groups):
        if length < at + head:
            out.append(" [invalid number of groups]")
            return
        out.append(f" [gaddr {_address(data, at + 4, address_size)}")
        kind = take(data, at, 1)[0]
        out.append(" " + _RECORD_TYPES.get(kind, f" [v{version}-report-#{kind}]"))
        sources = u16(data, at + 2)
        if length < at + head + address_size * sources:
            out.append(f" [invalid number of sources {sources}]")
            return
        if verbose == 1:
            out.append(f", {sources} source(s)")
        else:
            out.append(" {")
            for index in range(sources):
                out.append(f" {_address(data, at + head + address_size * index, address_size)}")
            out.append(" }")
        at += head + address_size * sources
        out.append("]")


def _address(data: bytes, at: int, size: int) -> str:
    raw = take(data, at, size)
    return str(ipaddress.IPv4Address(raw)) if size == 4 else ip6(raw)


def _dvmrp(out: list[str], data: bytes) -> None:
    kind = take(data, 1, 1)[0]
    out.append(" " + _DVMRP.get(kind, f"[type {kind}]"))
    if kind in (7, 8, 9):
        out.append(f" src {_ip(data, 8)} grp {_ip(data, 12)}")
        if kind == 7:
            out.append(" timer " + relative_time(u32(data, 16)))
