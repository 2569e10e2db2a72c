"""tcpdump's text for ICMPv6 (print-icmp6.c): errors, echo, MLD v1/v2, neighbour
discovery with its options, redirects; -v's checksum check (the caller gives the IPv6
pseudo-header) and -vv's hex of each ND option."""

from __future__ import annotations

from .inet_checksum import ones_sum
from .printer_igmp import group_records, query_sources
from .printer_words import CutShort, ip6, take, u16, u32, unknown_data_lines

__all__ = ["icmp6_text"]

_TYPES = {1: "destination unreachable", 2: "packet too big", 3: "time exceeded in-transit",
          4: "parameter problem", 128: "echo request", 129: "echo reply",
          130: "multicast listener query", 131: "multicast listener report",
          132: "multicast listener done", 133: "router solicitation",
          134: "router advertisement", 135: "neighbor solicitation",
          136: "neighbor advertisement", 137: "redirect", 138: "router renumbering",
          141: "inverse neighbor solicitation", 142: "inverse neighbor advertisement",
          143: "multicast listener report v2", 144: "ha discovery request",
          145: "ha discovery reply", 146: "mobile router solicitation",
          147: "mobile router advertisement", 139: "node information query",
          140: "node information reply", 200: "mtrace response", 201: "mtrace message",
          155: "RPL"}
_UNREACH = {0: "unreachable route", 1: " unreachable prohibited", 2: "beyond scope",
            3: "unreachable address", 4: "unreachable port"}
_PARAM_PROBLEMS = {0: "erroneous", 1: "next header", 2: "option",
                   3: "incomplete header chain"}
_LENGTH_FIRST = (133, 134, 135, 136, 137, 145, 147)   # -v prints the length after the name
_OPTION_NAMES = {1: "source link-address", 2: "destination link-address", 3: "prefix info",
                 4: "redirected header", 5: "mtu", 25: "rdnss", 31: "dnssl",
                 7: "advertisement interval", 8: "homeagent information", 24: "route info"}
_PREFERENCES = ("medium", "high", "rsv", "low")


class _CutAfter(CutShort):
    """CutShort after tcpdump had printed ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _ip6(data: bytes, at: int) -> str:
    return ip6(take(data, at, 16))


def _flags(value: int, table: tuple[tuple[int, str], ...]) -> str:
    return ", ".join(name for bit, name in table if value & bit) or "none"


def _lifetime(value: int) -> str:
    return "infinity" if value == 0xFFFFFFFF else f"{value}s"


def icmp6_text(data: bytes, length: int, verbose: int, fragmented: bool,
               pseudo_header: bytes) -> str:
    """The text from ``ICMP6`` (or the checksum words before it) to the line's end."""
    if length == 0:
        return "ICMP6, length 0 (invalid)"
    out = []
    if verbose and not fragmented and len(data) >= length:
        if ones_sum(pseudo_header + data[:length]) != 0xFFFF:
            stored = u16(data, 2)
            right = ~ones_sum(pseudo_header + data[:2] + b"\0\0" + data[4:length]) & 0xFFFF
            out.append(f"[bad icmp6 cksum 0x{stored:04x} -> 0x{right:04x}!] ")
        else:
            out.append("[icmp6 sum ok] ")
    kind = take(data, 0, 1)[0]
    out.append("ICMP6, " + _TYPES.get(kind, f"unknown icmp6 type ({kind})"))
    if verbose and kind in _LENGTH_FIRST:
        out.append(f", length {length}")
    try:
        code = take(data, 1, 1)[0]
        body = _body(data, length, verbose, kind, code)
    except _CutAfter as cut:
        return "".join(out) + cut.text + " [|icmp6]"
    except CutShort:
        return "".join(out) + " [|icmp6]"
    if body is None:    # tcpdump ended the message itself (a hex dump)
        return "".join(out) + _tail(data, length, verbose, kind, code)
    out.append(body)
    if not verbose:
        out.append(f", length {length}")
    return "".join(out)


def _tail(data: bytes, length: int, verbose: int, kind: int, code: int) -> str:
    """Messages tcpdump only dumps: the length (unknown types) and the bytes up to -v."""
    text = ", " + _UNREACH.get(code, f"unknown unreach code ({code})") if kind == 1 else \
        f", length {length}"
    if verbose <= 1:
        text += unknown_data_lines(data[:length], "\n\t")
    return text


def _body(data: bytes, length: int, verbose: int, kind: int, code: int) -> str | None:
    if kind == 1:
        name = ", " + _UNREACH.get(code, f"unknown unreach code ({code})")
        try:    # the code's name is printed before the quoted packet is read
            if code in (0, 1, 3):
                return f"{name} {_ip6(data, 32)}"
            if code == 2:
                return f"{name} {_ip6(data, 32)}, source address {_ip6(data, 16)}"
            if code == 4:
                return name + _unreachable_port(data)
        except CutShort:
            raise _CutAfter(name) from None
        return None if verbose <= 1 else name
    if kind == 2:
        return f", mtu {u32(data, 4)}"
    if kind == 3:
        if code == 0:
            return f" for {_ip6(data, 32)}"
        return " (reassembly)" if code == 1 else f", unknown code ({code})"
    if kind == 4:
        take(data, 32, 16)
        if code in _PARAM_PROBLEMS:
            return f", {_PARAM_PROBLEMS[code]} - octet {u32(data, 4)}"
        return f", code-#{code}"
    if kind in (128, 129):
        return f", id {u16(data, 4)}, seq {u16(data, 6)}"
    if kind == 130:
        if length == 24:
            return _mld(data)
        if length >= 28:
            return _mldv2_query(data, length, verbose)
        return f" unknown-version (len {length}) "
    if kind in (131, 132):
        return _mld(data)
    if kind == 133:
        return _options(data, 8, length, verbose) if verbose else ""
    if kind == 134:
        if not verbose:
            return ""
        hops, flags, lifetime = take(data, 4, 1)[0], take(data, 5, 1)[0], u16(data, 6)
        ra_flags = ((0x80, "managed"), (0x40, "other stateful"), (0x20, "home agent"),
                    (0x02, "ipv6 only"))
        return _options(data, 16, length, verbose,
                        f"\n\thop limit {hops}, Flags [{_flags(flags, ra_flags)}], pref "
                        f"{_PREFERENCES[(flags & 0x18) >> 3]}, router lifetime {lifetime}s, "
                        f"reachable time {u32(data, 8)}ms, retrans timer {u32(data, 12)}ms")
    if kind == 135:
        text = f", who has {_ip6(data, 8)}"
        return _options(data, 24, length, verbose, text) if verbose else text
    if kind == 136:
        text = f", tgt is {_ip6(data, 8)}"
        if verbose:
            na_flags = ((0x80000000, "router"), (0x40000000, "solicited"),
                        (0x20000000, "override"))
            text += f", Flags [{_flags(u32(data, 4), na_flags)}]"
            text = _options(data, 24, length, verbose, text)
        return text
    if kind == 137:
        text = f", {_ip6(data, 24)} to {_ip6(data, 8)}"   # destination, then target
        return _options(data, 40, length, verbose, text) if verbose else text
    if kind == 143:
        return _mldv2_report(data, length, verbose)
    if kind in (144, 146):
        return f", id 0x{u16(data, 4):04x}"
    if kind in (141, 142):
        return ""
    return None


def _unreachable_port(data: bytes) -> str:
    """The quoted packet's destination and port (its extension headers skipped)."""
    next_header = take(data, 14, 1)[0]
    at = 48
    while next_header in (0, 43, 60, 44, 51):
        if next_header == 44:
            next_header, at = take(data, at, 1)[0], at + 8
        elif next_header == 51:
            next_header, at = take(data, at, 1)[0], at + (take(data, at + 1, 1)[0] + 2) * 4
        else:
            next_header, at = take(data, at, 1)[0], at + (take(data, at + 1, 1)[0] + 1) * 8
    port = u16(data, at + 2)
    dst = _ip6(data, 32)
    if next_header in (6, 17):
        return f", {dst} {'tcp' if next_header == 6 else 'udp'} port {port}"
    return f", {dst} protocol {next_header} port {port} unreachable"


def _mld(data: bytes) -> str:
    if len(data) < 24:
        return ""
    return f"max resp delay: {u16(data, 4)} addr: {_ip6(data, 8)}"


def _mldv2_query(data: bytes, length: int, verbose: int) -> str:
    out = [" v2"]
    try:
        _mldv2_query_fields(out, data, length, verbose)
    except CutShort:
        raise _CutAfter("".join(out)) from None
    return "".join(out)


def _mldv2_query_fields(out: list[str], data: bytes, length: int, verbose: int) -> None:
    if length < 28:
        out.append(f" [invalid len {length}]")
        return
    code = u16(data, 4)
    delay = code if code < 32768 else ((code & 0x0FFF) | 0x1000) << (((code & 0x7000) >> 12) + 3)
    if verbose:
        out.append(f" [max resp delay={delay}]")
    out.append(f" [gaddr {_ip6(data, 8)}")
    if verbose:
        flags = take(data, 24, 1)[0]
        if flags & 0x08:
            out.append(" sflag")
        if flags & 0x07:
            out.append(f" robustness={flags & 0x07}")
        interval = take(data, 25, 1)[0]
        if interval >= 128:
            interval = ((interval & 0x0F) | 0x10) << (((interval & 0x70) >> 4) + 3)
        out.append(f" qqi={interval}")
    query_sources(out, data, length, verbose, at=26, address_size=16)
    out.append("]")


def _mldv2_report(data: bytes, length: int, verbose: int) -> str:
    if length < 8:
        return f" [invalid len {length}]"
    out: list[str] = []
    try:
        group_records(out, data, length, verbose, address_size=16, version=2)
    except CutShort:
        raise _CutAfter("".join(out)) from None
    return "".join(out)


def _options(data: bytes, at: int, length: int, verbose: int, prefix: str = "") -> str:
    """icmp6_opt_print: ``prefix`` (the message's own fields), then the ND options from
    ``at`` on; a capture ending inside them raises :class:`_CutAfter` with the text."""
    out = [prefix]
    try:
        return _option_list(out, data, at, length, verbose)
    except CutShort:
        raise _CutAfter("".join(out)) from None


def _option_list(out: list[str], data: bytes, at: int, length: int, verbose: int) -> str:
    first = at
    left = length - at
    while at < len(data):
        take(data, at, 2)
        if left <= 0:
            break
        kind, units = data[at], data[at + 1]
        if units == 0 or at + 8 * units > len(data):
            raise CutShort
        size = 8 * units
        out.append(f"\n\t  {_OPTION_NAMES.get(kind, 'unknown')} option ({kind}), length "
                   f"{size} ({units}): ")
        value = data[at + 2:at + size]
        if kind in (1, 2):
            out.append(":".join(f"{b:02x}" for b in value))
        elif kind == 3:
            flags = take(data, at + 3, 1)[0]
            pi_flags = ((0x80, "onlink"), (0x40, "auto"), (0x20, "router"))
            out.append(f"{_ip6(data, at + 16)}/{data[at + 2]}{'badlen' if units != 4 else ''}, "
                       f"Flags [{_flags(flags, pi_flags)}], valid time "
                       f"{_lifetime(u32(data, at + 4))}, pref. time "
                       f"{_lifetime(u32(data, at + 8))}")
        elif kind == 4:     # tcpdump dumps from the first option, not this one
            out.append(unknown_data_lines(data[first:first + size], "\n\t    "))
        elif kind == 5:
            out.append(f" {u32(data, at + 4)}{'bad option length' if units != 1 else ''}")
        elif kind == 25:
            out.append(f" lifetime {u32(data, at + 4)}s," + "".join(
                f" addr: {_ip6(data, at + 8 + 16 * i)}" for i in range((units - 1) // 2)))
        elif kind == 7:
            out.append(f" {u32(data, at + 4)}ms")
        elif kind == 8:
            out.append(f" preference {u16(data, at + 4)}, lifetime {u16(data, at + 6)}")
        elif verbose <= 1:
            out.append(unknown_data_lines(value, "\n\t  "))
            return "".join(out)
        if verbose > 1:
            out.append(unknown_data_lines(value, "\n\t    "))
        at += size
        left -= size
    return "".join(out)
