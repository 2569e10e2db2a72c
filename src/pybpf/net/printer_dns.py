"""tcpdump -n's DNS text (UDP 53, mDNS on 5353, TCP 53): the header, questions and answers,
and with -vv every section, printed as tcpdump prints them, record by record, so a
message cut short shows what was captured and then ``[|domain]``.

Positions are offsets into the captured message; ``snap`` is where the capture ends.
A helper returns the next position, or None where tcpdump's gives up on the message.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable

from .printer_words import CutShort, ip6, relative_time, safe_text

__all__ = ["dns_text", "fqdn_text"]

_OPS = ("", " inv_q", " stat", " op3", " notify", " update", " op6", " op7", " op8",
        " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit",
        " zoneRef")
_RCODES = ("", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain",
           " YXRRSet", " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13",
           " Resp14", " NoChange", " BadVers", "Resp17", " Resp18", " Resp19", " Resp20",
           "Resp21", " Resp22", " BadCookie")
_TYPES = {1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
          10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
          17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP_PTR",
          24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
          31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
          38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP",
          45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 99: "SPF", 100: "UINFO",
          101: "UID", 102: "GID", 103: "UNSPEC", 104: "UNSPECA", 249: "TKEY", 250: "TSIG",
          251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI"}
_CLASSES = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}
_EDNS_OPTIONS = {1: "LLQ", 2: "UL", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U", 8: "ECS",
                 9: "EXPIRE", 10: "COOKIE", 11: "KEEPALIVE", 12: "PADDING", 13: "CHAIN",
                 14: "KEY-TAG", 16: "CLIENT-TAG", 17: "SERVER-TAG"}
_DAU = {0: "DELETE", 1: "RSAMD5", 2: "DH", 3: "DS", 5: "RSASHA1", 6: "DSA-NSEC3-SHA1",
        7: "RSASHA1-NSEC3-SHA1", 8: "RSASHA256", 10: "RSASHA512", 12: "ECC-GOST",
        13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448",
        252: "INDIRECT", 253: "PRIVATEDNS", 254: "PRIVATEOID"}
_DHU = {1: "SHA-1", 2: "SHA-256", 3: "GOST_R_34.11-94", 4: "SHA-384"}
_N3U = {1: "SHA-1"}
_T_OPT, _C_IN = 41, 1
_MAX_NAME = 255


class _Cut(Exception):
    """A read past the capture: tcpdump ends the line with ' [|domain]'."""


class _Message:
    def __init__(self, data: bytes, verbose: int, mdns: bool) -> None:
        self.data, self.snap = data, len(data)
        self.verbose, self.mdns = verbose, mdns
        self.out: list[str] = []

    # -- reading as tcpdump's GET_/ND_TTEST macros do -----------------------------------
    def has(self, at: int, count: int = 1) -> bool:
        return at >= 0 and at + count <= self.snap

    def u8(self, at: int) -> int:
        if not self.has(at):
            raise _Cut
        return self.data[at]

    def u16(self, at: int) -> int:
        if not self.has(at, 2):
            raise _Cut
        return int(struct.unpack_from("!H", self.data, at)[0])

    def u32(self, at: int) -> int:
        if not self.has(at, 4):
            raise _Cut
        return int(struct.unpack_from("!I", self.data, at)[0])

    def write(self, text: str) -> None:
        self.out.append(text)

    def print_n(self, at: int, count: int) -> bool:
        """nd_printn: up to ``count`` characters; False when the capture ends first."""
        end = min(at + count, self.snap)
        self.write(safe_text(self.data[at:end]))
        return at + count <= self.snap

    # -- names ------------------------------------------------------------------------
    def skip_name(self, at: int) -> int | None:
        if not self.has(at):
            return None
        i = self.data[at]
        at += 1
        while i:
            kind = i & 0xC0
            if kind == 0xC0:
                return at + 1
            if kind == 0x40:
                if i & 0x3F != 1 or not self.has(at):
                    return None
                bits = self.data[at] or 256
                at += 1 + (bits + 7) // 8
            elif kind == 0x80:
                return None
            else:
                at += i
            if not self.has(at):
                return None
            i = self.data[at]
            at += 1
        return at

    def label_length(self, at: int) -> int | None:
        if not self.has(at):
            return None
        i = self.data[at]
        kind = i & 0xC0
        if kind == 0x40:
            if i & 0x3F != 1:
                self.write(f"<ELT {i & 0x3F}>")
                return None
            if not self.has(at + 1):
                return None
            return ((self.data[at + 1] or 256) + 7) // 8 + 1
        if kind == 0x80:
            self.write("<BAD LABEL TYPE>")
            return None
        return i

    def bit_label(self, at: int) -> int | None:
        if not self.has(at):
            return None
        bits = self.data[at] or 256
        end = at + 1 + (bits + 3) // 4
        self.write("\\[x")
        p, b = at + 1, bits
        while p < end and b > 7:
            self.write(f"{self.u8(p):02x}")
            b -= 8
            p += 1
        if b > 4:
            self.write(f"{self.u8(p) & (0xFF << (8 - b)) & 0xFF:02x}")
        elif b > 0:
            self.write(f"{((self.u8(p) >> 4) & 0x0F) & (0x0F << (4 - b)) & 0x0F:1x}")
        self.write(f"/{bits}]")
        return end

    def name(self, at: int, base: int = 0) -> int | None:
        """fqdn_print: the name at ``at`` (pointers relative to ``base``); the position
        after it in the record."""
        length = self.label_length(at)
        if length is None or not self.has(at):
            return None
        max_offset = (at - base) & 0xFFFFFFFF   # C's unsigned difference
        i = self.data[at]
        at += 1
        compressed = False
        # a name that starts with a pointer has no end until the pointer is read
        after: int | None = at + length if i & 0xC0 != 0xC0 else None
        if i == 0:
            self.write(".")
            return after
        chars = 0
        while i and at < self.snap:
            kind = i & 0xC0
            if kind == 0xC0:
                if not compressed:
                    after, compressed = at + 1, True
                if not self.has(at):
                    return None
                offset = ((i << 8) | self.data[at]) & 0x3FFF
                if offset >= max_offset:
                    self.write("<BAD PTR>")
                    return None
                max_offset = offset
                at = base + offset
                if not self.has(at):
                    return None
                i = self.data[at]
                length = self.label_length(at)
                if length is None:
                    return None
                at += 1
                continue
            if kind == 0x40:
                if i & 0x3F != 1:
                    self.write(f"<ELT {i & 0x3F}>")
                    return None
                if self.bit_label(at) is None:
                    return None
            elif kind == 0x80:
                self.write("<BAD LABEL TYPE>")
                return None
            else:
                if chars + length <= _MAX_NAME:
                    if not self.print_n(at, length):
                        return None
                elif chars < _MAX_NAME:
                    if not self.print_n(at, _MAX_NAME - chars):
                        return None
                chars += length
            at += length
            if chars <= _MAX_NAME:
                self.write(".")
            chars += 1
            if not self.has(at):
                return None
            i = self.data[at]
            length = self.label_length(at)
            if length is None:
                return None
            at += 1
            if not compressed and after is not None:
                after += length + 1
        if chars > _MAX_NAME:
            self.write("<DOMAIN NAME TOO LONG>")
        return after

    # -- questions and records ----------------------------------------------------------
    def question(self, at: int) -> int | None:
        start = at
        skipped = self.skip_name(at)
        if skipped is None or not self.has(skipped, 4):
            return None
        kind, klass = self.u16(skipped), self.u16(skipped + 2)
        self.write(" " + _TYPES.get(kind, f"Type{kind}"))
        shown = klass & ~0x8000 if self.mdns else klass
        if shown != _C_IN:
            self.write(" " + _CLASSES.get(shown, f"(Class {shown})"))
        if self.mdns:
            self.write(" (QU)" if klass & 0x8000 else " (QM)")
        self.write("? ")
        end = self.name(start)
        return None if end is None else end + 4

    def record(self, at: int) -> int | None:
        if self.verbose:
            self.write(" ")
            after = self.name(at)
            if after is None:
                return None
        else:
            after = self.skip_name(at)
        if after is None or not self.has(after, 10):
            return self.snap
        at = after
        kind, klass = self.u16(at), self.u16(at + 2)
        at += 4
        shown = klass & ~0x8000 if self.mdns else klass
        if shown != _C_IN and kind != _T_OPT:
            self.write(" " + _CLASSES.get(shown, f"(Class {shown})"))
        if self.mdns and klass & 0x8000:
            self.write(" (Cache flush)")
        flags = 0
        if kind == _T_OPT:
            flags = self.u16(at + 2)
        elif self.verbose > 2:
            self.write(f" [{relative_time(self.u32(at))}]")
        at += 4
        size = self.u16(at)
        at += 2
        end = at + size
        self.write(" " + _TYPES.get(kind, f"Type{kind}"))
        if end > self.snap:
            return None
        if not self._rdata(kind, at, end, size, shown, flags):
            return None
        return end

    def _rdata(self, kind: int, at: int, end: int, size: int, klass: int, flags: int) -> bool:
        """The record's data as tcpdump prints it; False where it gives up."""
        if kind == 1:
            if not self.has(at, 4):
                return False
            self.write(" " + str(ipaddress.IPv4Address(self.data[at:at + 4])))
        elif kind in (2, 5, 12, 39):
            self.write(" ")
            return self.name(at) is not None
        elif kind == 6:
            if not self.verbose:
                return True
            for _ in range(2):
                self.write(" ")
                next_at = self.name(at)
                if next_at is None:
                    return False
                at = next_at
            if not self.has(at, 20):
                return False
            self.write("".join(f" {self.u32(at + 4 * j)}" for j in range(5)))
        elif kind == 15:
            self.write(" ")
            if not self.has(at, 2) or self.name(at + 2) is None:
                return False
            self.write(f" {self.u16(at)}")
        elif kind == 16:
            while at < end:
                self.write(' "')
                if not self.has(at):
                    return False
                count = self.data[at]
                if not self.print_n(at + 1, count):
                    return False
                at += 1 + count
                self.write('"')
        elif kind == 33:
            self.write(" ")
            if not self.has(at, 6) or self.name(at + 6) is None:
                return False
            self.write(f":{self.u16(at + 4)} {self.u16(at)} {self.u16(at + 2)}")
        elif kind == 28:
            if not self.has(at, 16):
                return False
            self.write(" " + ip6(self.data[at:at + 16]))
        elif kind == 38:
            return self._a6(at)
        elif kind == 256:
            if not self.has(at, size):
                return False
            self.write(f" {self.u16(at)} {self.u16(at + 2)} ")
            return self.print_n(at + 4, size - 4)
        elif kind == _T_OPT:
            self.write(f" UDPsize={klass}")
            if flags & 0x8000:
                self.write(" DO")
            if at < end:
                self.write(" [")
                while at < end:
                    next_at = self._edns_option(at)
                    if next_at is None:
                        return False
                    at = next_at
                    if at < end:
                        self.write(",")
                self.write("]")
        elif kind == 104:
            if not self.has(at, size):
                return False
            return self.print_n(at, size)
        elif kind == 250:
            return self._tsig(at, end)
        return True

    def _a6(self, at: int) -> bool:
        if not self.has(at):
            return False
        prefix = self.data[at]
        skip = (prefix & ~7) // 8
        if prefix > 128:
            self.write(f" {prefix}(bad plen)")
            return True
        if prefix < 128:
            if not self.has(at + 1, 16 - skip):
                raise _Cut
            address = bytes(skip) + self.data[at + 1:at + 1 + 16 - skip]
            self.write(f" {prefix} {ipaddress.IPv6Address(address)}")
        if prefix > 0:
            self.write(" ")
            return self.name(at + 1 + 16 - skip) is not None
        return True

    def _tsig(self, at: int, end: int) -> bool:
        if end > self.snap:
            return False
        if not self.verbose:
            return True
        self.write(" ")
        next_at = self.name(at)
        if next_at is None:
            return False
        at = next_at + 6
        for label in ("fudge", "maclen"):
            if not self.has(at, 2):
                return False
            self.write(f" {label}={self.u16(at)}")
            at += 2 + (self.u16(at) if label == "maclen" else 0)
        for label in ("origid", "error", "otherlen"):
            if not self.has(at, 2):
                return False
            self.write(f" {label}={self.u16(at)}")
            at += 2
        return True

    def _edns_option(self, at: int) -> int | None:
        if not self.has(at, 2):
            return None
        code = self.u16(at)
        self.write(_EDNS_OPTIONS.get(code, f"Opt{code}"))
        if not self.has(at + 2, 2):
            return None
        size = self.u16(at + 2)
        at += 4
        if not self.has(at, size):
            return None
        value = self.data[at:at + size]
        if size:
            self.write(" " + _edns_value(code, value))
        return at + size

    # -- the message ----------------------------------------------------------------------
    def repeated(self, at: int, count: int, step: Callable[[int], int | None],
                 separator: str) -> tuple[int | None, int]:
        """tcpdump's loop over ``count`` items: the first, then more while captured bytes
        remain. Where the next item starts (None on a cut) and how many were left."""
        done = 0
        while done < count and (done == 0 or at < self.snap):
            if done:
                self.write(separator)
            next_at = step(at)
            if next_at is None:
                return None, count - done
            at = next_at
            done += 1
        return at, count - done

    def sections(self, at: int, counts: list[int], labels: tuple[str, ...]) -> int | None:
        """Records of each section in turn, with tcpdump's separators; None on a cut."""
        for count, label in zip(counts, labels):
            if not count or (label and at >= self.snap):
                if count:
                    return None
                continue
            self.write(label)
            next_at, left = self.repeated(at, count, self.record, ",")
            if next_at is None or left:
                return None
            at = next_at
        return at

def _edns_value(code: int, value: bytes) -> str:
    size = len(value)
    if code == 8:
        return _ecs(value)
    if code == 10:
        if size < 8 or 8 < size < 16 or size > 40:
            return " (invalid)"
        return value[:8].hex() + (" " + value[8:].hex() if size > 8 else "")
    if code == 11:
        return " (invalid)" if size != 2 else f"{struct.unpack('!H', value)[0] / 10.0:0.1f} sec"
    if code == 9:
        return " (invalid)" if size != 4 else f"{struct.unpack('!I', value)[0]} sec"
    if code == 12:
        return f"({size})"
    if code == 14:
        if size % 2:
            return " (invalid)"
        return " ".join(str(struct.unpack_from("!H", value, i)[0]) for i in range(0, size, 2))
    if code in (5, 6, 7):
        table = {5: _DAU, 6: _DHU, 7: _N3U}[code]
        return " ".join(table.get(b, f"Alg_{b}") for b in value)
    return value.hex()


def _ecs(value: bytes) -> str:
    if len(value) < 4:
        return " (invalid)"
    family, source, scope = struct.unpack_from("!HBB", value)
    bits = {1: 32, 2: 128}.get(family)
    if bits is None or len(value) - 4 > bits // 8 or source > bits or scope > bits \
            or (source + 7) // 8 != len(value) - 4:
        return " (invalid)"
    address = value[4:] + bytes(bits // 8 - (len(value) - 4))
    text = (str(ipaddress.IPv4Address(address)) if family == 1
            else str(ipaddress.IPv6Address(address)))
    return f"{text}/{source}/{scope}"


def fqdn_text(data: bytes, at: int, base: int) -> tuple[str, int | None]:
    """A domain name as tcpdump's fqdn_print prints it for other protocols (DHCPv6):
    its text and where it ends (None where tcpdump gives up on it); CutShort where
    tcpdump leaves the packet."""
    message = _Message(data, 0, False)
    try:
        end = message.name(at, base)
    except _Cut:
        raise CutShort from None
    return "".join(message.out), end


def dns_text(data: bytes, length: int, verbose: int, *, mdns: bool = False,
             over_tcp: bool = False) -> str:
    """What tcpdump prints for a DNS message (``data`` is what was captured of its
    ``length`` bytes)."""
    prefix = ""
    if over_tcp:
        if length < 2:
            return f" [DNS over TCP: length {length} < 2] (invalid)"
        length -= 2
        if len(data) < 2:
            return " [|domain]"
        stated = struct.unpack_from("!H", data)[0]
        if stated != length:
            return f" [prefix length({stated}) != length({length})] (invalid)"
        data, prefix = data[2:], " "
    if length < 12:
        return prefix + f"domain [length {length} < 12] (invalid)"
    message = _Message(data, verbose, mdns)
    message.write(prefix)
    try:
        _message(message, length)
    except _Cut:
        message.write(" [|domain]")
    return "".join(message.out)


def _message(m: _Message, length: int) -> None:
    if not m.has(0, 12):
        raise _Cut
    ident, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", m.data)
    rcode = _extended_rcode(m, flags & 0xF, qd, an + ns, ar)
    opcode = (flags >> 11) & 0xF
    if flags & 0x8000:
        m.write(f"{ident}{_OPS[opcode]}"
                + (_RCODES[rcode] if rcode < len(_RCODES) else f" Resp{rcode & 0xFFF}")
                + ("*" if flags & 0x0400 else "") + ("" if flags & 0x0080 else "-")
                + ("|" if flags & 0x0200 else "") + ("$" if flags & 0x0020 else ""))
        if qd != 1:
            m.write(f" [{qd}q]")
        at: int | None = 12
        for index in range(qd):
            if index:
                m.write(",")
            if m.verbose > 1:
                m.write(" q:")
                at = m.question(at)  # type: ignore[arg-type]
            else:
                at = m.skip_name(at)  # type: ignore[arg-type]
                at = None if at is None else at + 4
            if at is None:
                raise _Cut
        m.write(f" {an}/{ns}/{ar}")
        labels = ("", " ns:", " ar:") if m.verbose > 1 else ("",)
        if m.sections(at, [an, ns, ar], labels) is None:  # type: ignore[arg-type]
            raise _Cut
    else:
        m.write(f"{ident}{_OPS[opcode]}" + ("+" if flags & 0x0100 else "")
                + ("%" if flags & 0x0010 else ""))
        if flags & 0x6CF:
            m.write(f" [b2&3=0x{flags:x}]")
        if opcode == 1:
            if qd:
                m.write(f" [{qd}q]")
            if an != 1:
                m.write(f" [{an}a]")
        else:
            if an:
                m.write(f" [{an}a]")
            if qd != 1:
                m.write(f" [{qd}q]")
        if ns:
            m.write(f" [{ns}n]")
        if ar:
            m.write(f" [{ar}au]")
        after, left = m.repeated(12, qd, m.question, "")
        if after is None or left:
            raise _Cut
        if m.verbose > 1 and m.sections(after, [an, ns, ar], ("", " ns:", " ar:")) is None:
            raise _Cut
    m.write(f" ({length})")


def _extended_rcode(m: _Message, rcode: int, qd: int, records: int, additional: int) -> int:
    """The rcode with an OPT record's upper bits, found as tcpdump finds them."""
    at: int | None = 12
    for _ in range(qd):
        at = m.skip_name(at)  # type: ignore[arg-type]
        if at is None:
            return rcode
        at += 4
        if at >= m.snap:
            return rcode
    for _ in range(records):
        at = m.skip_name(at)  # type: ignore[arg-type]
        if at is None:
            return rcode
        at += 8
        if at + 2 > m.snap:
            return rcode
        at += 2 + m.u16(at)
        if at >= m.snap:
            return rcode
    for _ in range(additional):
        at = m.skip_name(at)  # type: ignore[arg-type]
        if at is None or at + 2 > m.snap:
            return rcode
        kind = m.u16(at)
        at += 4
        if at + 1 > m.snap:
            return rcode
        if kind == _T_OPT:
            return rcode | (m.data[at] << 4)
        at += 4
        if at + 2 > m.snap:
            return rcode
        at += 2 + m.u16(at)
        if at >= m.snap:
            return rcode
    return rcode
