"""tcpdump's text for IGMP (v1, v2, v3 queries and reports, leave, DVMRP's message names),
with -v's group records and checksum check. PIMv1 and mtrace print only their names."""

from __future__ import annotations

import ipaddress

from .inet_checksum import ones_sum
from .printer_words import relative_time, take, u16, u32

__all__ = ["igmp_text", "group_records", "query_sources"]

_RECORD_TYPES = {1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"}
_DVMRP = {1: "Probe", 2: "Report", 3: "Ask-neighbors(old)", 4: "Neighbors(old)",
          5: "Ask-neighbors2", 6: "Neighbors2", 7: "Prune", 8: "Graft", 9: "Graft-ACK"}


def _ip(data: bytes, at: int) -> str:
    return str(ipaddress.IPv4Address(take(data, at, 4)))


def igmp_text(data: bytes, length: int, verbose: int) -> str:
    """An IGMP message of ``length`` bytes (``data`` as captured)."""
    kind = take(data, 0, 1)[0]
    if kind == 0x11:
        text = "igmp query"
        if length >= 12:
            text += _v3_query(data, length, verbose)
        else:
            code = take(data, 1, 1)[0]
            if code:
                text += " v2" + (f" [max resp time {code}]" if code != 100 else "")
            else:
                text += " v1"
            if u32(data, 4):
                text += f" [gaddr {_ip(data, 4)}]"
            if length != 8:
                text += f" [len {length}]"
    elif kind == 0x12:
        text = f"igmp v1 report {_ip(data, 4)}" + (f" [len {length}]" if length != 8 else "")
    elif kind == 0x16:
        text = f"igmp v2 report {_ip(data, 4)}"
    elif kind == 0x22:
        text = "igmp v3 report" + _v3_report(data, length, verbose)
    elif kind == 0x17:
        text = f"igmp leave {_ip(data, 4)}"
    elif kind == 0x13:
        text = "igmp dvmrp" + (f" [len {length}]" if length < 8 else _dvmrp(data))
    elif kind == 0x14:
        text = "igmp pimv1"
    else:
        text = f"igmp-{kind}"
    if verbose and length >= 4 and len(data) >= length and ones_sum(data[:length]) != 0xFFFF:
        text += f" bad igmp cksum {u16(data, 2):x}!"
    return text


def _v3_query(data: bytes, length: int, verbose: int) -> str:
    text = " v3"
    if length < 12 or length & 3:
        return text + f" [invalid len {length}]"
    code = take(data, 1, 1)[0]
    time = code if code < 128 else ((code & 0x0F) | 0x10) << (((code & 0x70) >> 4) + 3)
    if code != 100:
        text += " [max resp time " + (f"{time * 0.1:.1f}s" if time < 600
                                      else relative_time(time // 10)) + "]"
    if u32(data, 4) == 0:
        return text
    text += f" [gaddr {_ip(data, 4)}"
    return text + query_sources(data, length, verbose, at=10, address_size=4) + "]"


def query_sources(data: bytes, length: int, verbose: int, *, at: int,
                  address_size: int) -> str:
    """An IGMPv3 or MLDv2 query's source count at ``at`` and its sources after it: their
    count, with -vv the addresses."""
    sources = u16(data, at)
    first = at + 2
    if not sources:
        return ""
    if length < first + address_size * sources:
        return " [invalid number of sources]"
    if verbose > 1:
        return " {" + "".join(f" {_address(data, first + address_size * i, address_size)}"
                              for i in range(sources)) + " }"
    return f", {sources} source(s)"


def _v3_report(data: bytes, length: int, verbose: int) -> str:
    if length < 16 or length & 3:
        return f" [invalid len {length}]"
    return group_records(data, length, verbose, address_size=4, version=3)


def group_records(data: bytes, length: int, verbose: int, *, address_size: int,
                  version: int) -> str:
    """The group records of an IGMPv3 report (IPv4 groups) or an MLDv2 report (IPv6): the
    count, and with -v each group and its sources (their count; -vv the sources)."""
    groups = u16(data, 6)
    text = f", {groups} group record(s)"
    if not verbose:
        return text
    at = 8
    head = 4 + address_size
    for _ in range(groups):
        if length < at + head:
            return text + " [invalid number of groups]"
        kind = take(data, at, 1)[0]
        text += (f" [gaddr {_address(data, at + 4, address_size)} "
                 + _RECORD_TYPES.get(kind, f" [v{version}-report-#{kind}]"))
        sources = u16(data, at + 2)
        if length < at + head + address_size * sources:
            return text + f" [invalid number of sources {sources}]"
        if verbose == 1:
            text += f", {sources} source(s)"
        else:
            text += " {" + "".join(
                f" {_address(data, at + head + address_size * j, address_size)}"
                for j in range(sources)) + " }"
        at += head + address_size * sources
        text += "]"
    return text


def _address(data: bytes, at: int, size: int) -> str:
    raw = take(data, at, size)
    return str(ipaddress.IPv4Address(raw) if size == 4 else ipaddress.IPv6Address(raw))


def _dvmrp(data: bytes) -> str:
    kind = take(data, 1, 1)[0]
    text = " " + _DVMRP.get(kind, f"[type {kind}]")
    if kind in (7, 8, 9):
        text += f" src {_ip(data, 8)} grp {_ip(data, 12)}"
        if kind == 7:
            text += " timer " + relative_time(u32(data, 16))
    return text
