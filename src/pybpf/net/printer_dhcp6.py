"""DHCPv6 (RFC 8415 and the option RFCs after it; UDP ports 546 and 547) as
``tcpdump -n`` 4.99 prints it: the message type, and with -v the transaction id (a
relay's link and peer addresses) and each option in parentheses: DUIDs, identity
associations and their addresses and prefixes, requested options, preference, elapsed
time, relayed messages (printed whole, nested), authentication, status codes, server
address lists, domain lists, lease queries, NTP servers, AFTR names, time zones.

An option longer than its message, or not captured, ends the list with `` [|dhcp6]``
and the parentheses around it still close; a field read beyond the capture leaves the
packet there."""

from __future__ import annotations

from .printer_dns import fqdn_text
from .printer_words import CutShort, LongJump, Words, ip6, safe_text

__all__ = ["dhcp6_text"]

_TYPES = {1: "solicit", 2: "advertise", 3: "request", 4: "confirm", 5: "renew", 6: "rebind",
          7: "reply", 8: "release", 9: "decline", 10: "reconfigure", 11: "inf-req",
          12: "relay-fwd", 13: "relay-reply", 14: "leasequery", 15: "leasequery-reply"}
_OPTIONS = {1: "client-ID", 2: "server-ID", 3: "IA_NA", 4: "IA_TA", 5: "IA_ADDR",
            6: "option-request", 7: "preference", 8: "elapsed-time", 9: "relay-message",
            11: "authentication", 12: "server-unicast", 13: "status-code",
            14: "rapid-commit", 15: "user-class", 16: "vendor-class",
            17: "vendor-specific-info", 18: "interface-ID", 19: "reconfigure-message",
            20: "reconfigure-accept", 21: "SIP-servers-domain", 22: "SIP-servers-address",
            23: "DNS-server", 24: "DNS-search-list", 25: "IA_PD", 26: "IA_PD-prefix",
            31: "SNTP-servers", 32: "lifetime", 27: "NIS-server", 28: "NIS+-server",
            29: "NIS-domain-name", 30: "NIS+-domain-name", 33: "BCMCS-domain-name",
            34: "BCMCS-server", 36: "Geoconf-Civic", 37: "Remote-ID", 38: "Subscriber-ID",
            39: "Client-FQDN", 40: "PANA-agent", 41: "POSIX-timezone",
            42: "POSIX-tz-database", 43: "Echo-request-option", 44: "Lease-query",
            45: "LQ-client-data", 46: "Clt-time", 47: "LQ-relay-data", 48: "LQ-client-link",
            56: "NTP-server", 64: "AFTR-Name", 112: "MUD-URL"}
_STATUS = ("Success", "UnspecFail", "NoAddrsAvail", "NoBinding", "NotOnLink", "UseMulticast",
           "NoPrefixAvail", "UnknownQueryType", "MalformedQuery", "NotConfigured",
           "NotAllowed")
_ADDRESS_LISTS = (22, 23, 31, 27, 28, 34, 40, 48)
# options whose value is nothing but further options after a fixed part
_NESTING = {5: 24, 3: 12, 25: 12, 4: 4, 26: 25}
_CUT = " [|dhcp6]"


class _Trunc(Exception):
    """tcpdump's 'goto trunc' in an option list: the marker, and that list ends."""


class _Out(Words):
    def addr(self, at: int) -> str:
        self.get(at, 16)
        return ip6(self.data[at:at + 16])

    def hex_bytes(self, start: int, stop: int) -> None:
        for at in range(start, stop):
            self.add(f"{self.get(at):02x}")

    def text_upto_nul(self, at: int, count: int) -> None:
        for offset in range(count):
            byte = self.get(at + offset)
            if not byte:
                return
            self.add(safe_text(bytes([byte])))

    def name(self, at: int, end: int) -> int:
        try:
            text, after = fqdn_text(self.data, at, end)
        except CutShort:
            raise LongJump(self.text(), self.proto) from None
        self.add(text)
        if after is None:
            raise _Trunc
        return after


def dhcp6_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the ports for a DHCPv6 message of ``length`` bytes."""
    out = _Out(data, "dhcp6")
    try:
        _message(out, 0, length, verbose)
    except LongJump as jump:
        return jump.text + _CUT
    return out.text()


def _message(out: _Out, at: int, length: int, verbose: int) -> None:
    out.add("dhcp6")
    if at + 4 > len(out.data):
        out.add(_CUT)
        return
    kind = out.get(at)
    name = _TYPES.get(kind, f"msgtype-{kind}")
    if not verbose:
        out.add(f" {name}")
        return
    end = min(len(out.data), at + length)
    out.add(f" {name} (")
    if kind not in (12, 13):
        out.add(f"xid={out.get(at, 4) & 0xFFFFFF:x}")
        _options(out, at + 4, end)
    else:
        out.add(f"linkaddr={out.addr(at + 2)}")
        out.add(f" peeraddr={out.addr(at + 18)}")
        _options(out, at + 34, end)
    out.add(")")


def _options(out: _Out, at: int, end: int) -> None:
    try:
        while at < end:
            if end < at + 4 or at + 4 > len(out.data):
                raise _Trunc
            size = out.get(at + 2, 2)
            if end < at + 4 + size:
                raise _Trunc
            kind = out.get(at, 2)
            out.add(f" ({_OPTIONS.get(kind, f'opt_{kind}')}")
            if at + 4 + size > len(out.data):
                raise _Trunc
            _option(out, kind, at + 4, size)
            at += 4 + size
    except _Trunc:
        out.add(_CUT)


def _option(out: _Out, kind: int, at: int, size: int) -> None:  # noqa: C901 - one table
    get, add, end = out.get, out.add, at + size
    minimum = {1: 2, 2: 2, 5: 24, 7: 1, 8: 2, 11: 11, 13: 2, 3: 12, 25: 12, 4: 4, 26: 25,
               32: 4, 46: 4, 37: 4, 44: 17, 47: 16, 56: 4, 64: 3, 41: 5, 42: 5, 112: 5}
    exact = kind in (7, 8, 19, 32, 46)
    wanted = {19: 1}.get(kind, minimum.get(kind, 0))
    if (exact and size != wanted) or size < wanted or (
            kind in (6, 43) and size % 2) or (kind in _ADDRESS_LISTS and size % 16):
        add(" ?)")
        return
    if kind in (1, 2):
        _duid(out, at, size)
    elif kind in _NESTING:
        if kind == 5:
            add(f" {out.addr(at)}")
            add(f" pltime:{get(at + 16, 4)} vltime:{get(at + 20, 4)}")
        elif kind == 26:
            add(f" {out.addr(at + 9)}/{get(at + 8)}")
            add(f" pltime:{get(at, 4)} vltime:{get(at + 4, 4)}")
        elif kind == 4:
            add(f" IAID:{get(at, 4)}")
        else:
            add(f" IAID:{get(at, 4)} T1:{get(at + 4, 4)} T2:{get(at + 8, 4)}")
        if size > _NESTING[kind]:
            _options(out, at + _NESTING[kind], end)
        add(")")
    elif kind in (6, 43):
        for offset in range(0, size, 2):
            code = get(at + offset, 2)
            add(f" {_OPTIONS.get(code, f'opt_{code}')}")
        add(")")
    elif kind == 7:
        add(f" {get(at)})")
    elif kind in (8, 32, 46):
        add(f" {get(at, 2 if kind == 8 else 4)})")
    elif kind == 9:
        add(" (")
        saved = out.data
        out.data = saved[:min(end, len(saved))]
        _message(out, at, size, 1)
        out.data = saved
        add(")")
    elif kind == 11:
        _auth(out, at, size)
    elif kind in (14, 20):
        add(")")
    elif kind in (18, 38):
        add(" ")
        out.hex_bytes(at, at + min(size, 10))
        add("...)")
    elif kind == 19:
        reconfigure = get(at)
        add({5: " for renew)", 11: " for inf-req)"}.get(reconfigure,
                                                         f" for ???({reconfigure:02x}))"))
    elif kind in _ADDRESS_LISTS:
        for offset in range(0, size, 16):
            add(f" {out.addr(at + offset)}")
        add(")")
    elif kind in (21, 24):
        cursor = at
        while cursor < end:
            add(" ")
            cursor = out.name(cursor, end)
        add(")")
    elif kind == 13:
        code = get(at, 2)
        add(" " + ("INVALID code" if code > 255 else _STATUS[code] if code < len(_STATUS)
                   else f"code{code}") + ")")
    elif kind == 37:
        add(f" {get(at, 4)} ")
        out.hex_bytes(at + 4, at + min(size, 14))
        add("...)")
    elif kind == 44:
        query = get(at)
        add({1: " by-address", 2: " by-clientID"}.get(query, f" type_{query}"))
        add(f" {out.addr(at + 1)}")
        if size > 17:
            _options(out, at + 17, end)
        add(")")
    elif kind == 45:
        if size:
            _options(out, at, end)
        add(")")
    elif kind == 47:
        add(f" {out.addr(at)} ")
        out.hex_bytes(at + 16, at + min(size, 26))
        add("...)")
    elif kind == 56:
        _ntp_servers(out, at, end)
    elif kind == 64:
        _aftr_name(out, at, size)
    elif kind in (41, 42, 112):
        add(" ")
        out.text_upto_nul(at, size)
        add(")")
    else:
        add(")")


def _duid(out: _Out, at: int, size: int) -> None:
    duid = out.get(at, 2)
    if duid == 1 and size >= 8:
        out.add(f" hwaddr/time type {out.get(at + 2, 2)} time {out.get(at + 4, 4)} ")
        out.hex_bytes(at + 8, at + size)
        out.add(")")
    elif duid == 2 and size >= 10:
        out.add(" vid ")
        out.hex_bytes(at + 2, at + 10)
        out.add(")")
    elif duid == 3 and size >= 4:
        out.add(f" hwaddr type {out.get(at + 2, 2)} ")
        out.hex_bytes(at + 4, at + size)
        out.add(")")
    elif duid in (1, 2, 3):
        out.add(" ?)")
    else:
        out.add(f" type {duid})")


def _auth(out: _Out, at: int, size: int) -> None:
    get, add = out.get, out.add
    proto = get(at)
    add({2: " proto: delayed", 3: " proto: reconfigure"}.get(proto, f" proto: {proto}"))
    algorithm = get(at + 1)
    add(", alg: HMAC-MD5" if algorithm == 1 else f", alg: {algorithm}")
    rdm = get(at + 2)
    add(", RDM: mono" if rdm == 0 else f", RDM: {rdm}")
    add(", RD:")
    for offset in range(3, 11, 2):
        add(f" {get(at + offset, 2):04x}")
    info, cursor = size - 11, at + 11
    if proto == 2:
        if info and info < 20:
            add(" ??")
        elif info:
            realm = info - 20
            if realm:
                add(", realm: ")
            out.hex_bytes(cursor, cursor + realm)
            cursor += realm
            add(f", key ID: {get(cursor, 4):08x}")
            add(", HMAC-MD5:")
            for offset in range(4, 20, 4):
                add(f" {get(cursor + offset, 4):08x}")
    elif proto == 3:
        if info != 17:
            add(" ??")
        else:
            kind = get(cursor)
            add({1: " reconfig-key", 2: " type: HMAC-MD5"}.get(kind, " type: ??"))
            add(" value:")
            for offset in range(1, 17, 4):
                add(f" {get(cursor + offset, 4):08x}")
    else:
        add(" ??")
    add(")")


def _ntp_servers(out: _Out, at: int, end: int) -> None:
    while at < end - 4:
        code, size = out.get(at, 2), out.get(at + 2, 2)
        at += 4
        if at + size > end:
            raise _Trunc
        out.add(f" subopt:{code}")
        if code in (1, 2):
            out.add(f" {out.addr(at)}" if size == 16 else " ?")
        elif code == 3:
            out.add(" ")
            out.name(at, at + size)
        else:
            out.add(" ?")
        at += size
    out.add(")")


def _aftr_name(out: _Out, at: int, left: int) -> None:
    out.add(" ")
    while left and out.get(at):
        label = out.get(at)
        at += 1
        if label < left - 1:
            out.text_upto_nul(at, label)
            at += label
            left -= label + 1
            if out.get(at):
                out.add(".")
        else:
            out.add(" ?")
            break
    out.add(")")
