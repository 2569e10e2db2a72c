"""tcpdump's lines for PPP frames (inside PPPoE sessions and L2TP): the protocol field, the
control protocols (LCP, IPCP, IP6CP, CCP, BACP, their options under -v), CHAP, PAP and
multilink headers; IP, IPv6 and MPLS go back to the network printer through a callback.

tcpdump reads most fields with bounds-checked getters that abandon the whole packet when
the capture ends: those become :class:`LongJump`, which carries the text printed so far.
Other checks print ``[|LCP]`` and return normally; both are kept apart here.
"""

from __future__ import annotations

from collections.abc import Callable

from .printer_osi import osi_prefix, osi_text
from .printer_words import OUI_NAMES, LongJump, ip4, mac, safe_text, unknown_data_lines

__all__ = ["ppp_text", "PPP_NAMES"]

# inner(proto, data, length) -> text, or None for a protocol it does not decode
Network = Callable[[int, bytes, int], "str | None"]

PPP_NAMES = {0x21: "IP", 0x23: "OSI", 0x25: "NS", 0x27: "DECNET", 0x29: "APPLE", 0x2B: "IPX",
             0x2D: "VJC IP", 0x2F: "VJNC IP", 0x31: "BRPDU", 0x33: "STII", 0x35: "VINES",
             0x281: "MPLS", 0x283: "MPLS", 0xFD: "Compressed", 0x3D: "MLPPP", 0x57: "IP6",
             0x201: "HELLO", 0x231: "LUXCOM", 0x233: "SNS", 0x8021: "IPCP", 0x8023: "OSICP",
             0x8025: "NSCP", 0x8027: "DECNETCP", 0x8029: "APPLECP", 0x802B: "IPXCP",
             0x8033: "STIICP", 0x8035: "VINESCP", 0x8057: "IP6CP", 0x8281: "MPLSCP",
             0xC021: "LCP", 0xC023: "PAP", 0xC025: "LQM", 0xC223: "CHAP", 0xC227: "EAP",
             0xC027: "SPAP", 0xC123: "Old-SPAP", 0xC02B: "BACP", 0xC02D: "BAP",
             0xC03D: "MLPPP-CP", 0x80FD: "CCP"}
_CONTROL = (0xC021, 0x8021, 0x8023, 0x8281, 0x8057, 0x80FD, 0xC02B)
_CODES = {0: "Vendor-Extension", 1: "Conf-Request", 2: "Conf-Ack", 3: "Conf-Nack",
          4: "Conf-Reject", 5: "Term-Request", 6: "Term-Ack", 7: "Code-Reject",
          8: "Prot-Reject", 9: "Echo-Request", 10: "Echo-Reply", 11: "Disc-Req", 12: "Ident",
          13: "Time-Rem", 14: "Reset-Req", 15: "Reset-Ack"}
_LCP_OPTIONS = ("Vend-Ext", "MRU", "ACCM", "Auth-Prot", "Qual-Prot", "Magic-Num",
                "deprecated(6)", "PFC", "ACFC", "FCS-Alt", "SDP", "Num-Mode", "deprecated(12)",
                "Call-Back", "deprecated(14)", "deprecated(15)", "deprecated(16)", "MRRU",
                "12-Bit seq #", "End-Disc", "Proprietary", "DCE-Id", "MP+", "Link-Disc",
                "LCP-Auth-Opt", "COBS", "Prefix-elision", "Multilink-header-Form", "I18N",
                "SDL-over-SONET/SDH", "PPP-Muxing")
_IPCP_OPTIONS = {1: "IP-Addrs", 2: "IP-Comp", 3: "IP-Addr", 4: "Home-Addr", 129: "Pri-DNS",
                 130: "Pri-NBNS", 131: "Sec-DNS", 132: "Sec-NBNS"}
_CCP_OPTIONS = {0: "OUI", 1: "Pred-1", 2: "Pred-2", 3: "Puddle", 16: "HP-PPC", 17: "Stac-LZS",
                18: "MPPC", 19: "Gand-FZA", 20: "V.42bis", 21: "BSD-Comp", 23: "LZS-DCP",
                24: "MVRCA", 25: "DEC", 26: "Deflate", 255: "Reserved"}
_AUTH_ALGORITHMS = {5: "MD5", 128: "MS-CHAPv1", 129: "MS-CHAPv2"}
_CALLBACKS = {0: "UserAuth", 1: "DialString", 2: "LocalID", 3: "E.164", 4: "X.500", 6: "CBCP"}
_CHAP_CODES = {1: "Challenge", 2: "Response", 3: "Success", 4: "Fail"}
_PAP_CODES = {1: "Auth-Req", 2: "Auth-ACK", 3: "Auth-NACK"}


class _Cut(Exception):
    """A bounds-checked read past the capture: tcpdump leaves the packet (longjmp)."""


class _Stop(Exception):
    """tcpdump printed ``[|name]`` and returned normally from the printer."""


class _Reader:
    """The captured bytes, read as tcpdump's GET_ macros read them."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def u8(self, at: int) -> int:
        if at >= len(self.data):
            raise _Cut
        return self.data[at]

    def u16(self, at: int) -> int:
        return self.u8(at) << 8 | self.u8(at + 1)

    def u24(self, at: int) -> int:
        return self.u16(at) << 8 | self.u8(at + 2)

    def u32(self, at: int) -> int:
        return self.u16(at) << 16 | self.u16(at + 2)

    def has(self, at: int, size: int) -> bool:
        return at + size <= len(self.data)

    def hex_lines(self, at: int, indent: str, size: int) -> str:
        """print_unknown_data: at most what was captured."""
        if at > len(self.data):
            return (f"{indent}Dissector error: print_unknown_data called with pointer past "
                    "end of packet")
        return unknown_data_lines(self.data[at:at + max(size, 0)], indent)

    def chars(self, out: list[str], at: int, count: int) -> int:
        """fn_print_char for ``count`` bytes, leaving the packet past the capture."""
        for index in range(count):
            out.append(safe_text(bytes([self.u8(at + index)])))
        return at + count


def ppp_text(data: bytes, length: int, verbose: int, link_header: bool,
             network: Network) -> str:
    """A PPP frame (the address and control bytes optional, the protocol field possibly
    compressed) of ``length`` bytes of which ``data`` were captured."""
    out: list[str] = []
    try:
        _ppp(out, _Reader(data), length, verbose, link_header, network)
    except _Cut:
        raise LongJump("".join(out), "ppp") from None
    except LongJump as jump:    # from the network printer
        raise LongJump("".join(out) + jump.text, jump.proto) from None
    return "".join(out)


def _ppp(out: list[str], r: _Reader, length: int, verbose: int, link_header: bool,
         network: Network) -> None:
    whole = length
    if length < 2:
        out.append(" [|ppp]")
        return
    at = 0
    header = r.u16(0)
    if header in (0x0003, 0x0103, 0xFF03):
        if link_header and header != 0xFF03:
            out.append("In  " if header == 0x0003 else "Out ")
        at, length = 2, length - 2
    if length < 2:
        out.append(" [|ppp]")
        return
    if r.u8(at) % 2:
        proto = r.u8(at)
        at, length = at + 1, length - 1
    else:
        proto = r.u16(at)
        at, length = at + 2, length - 2
    if link_header:
        name = PPP_NAMES.get(proto, "unknown")
        out.append(f"{name} (0x{proto:04x}), length {whole}")
        if name == "unknown":
            return
        out.append(": ")
    _handle(out, r, at, proto, length, verbose, link_header, network)


def _handle(out: list[str], r: _Reader, at: int, proto: int, length: int, verbose: int,
            link_header: bool, network: Network) -> None:
    if proto & 0xFF00 == 0x7E00:
        _hdlc(out, r, at - 1, verbose, link_header, network)
        return
    if proto in _CONTROL:
        _control(out, r, at, proto, length, verbose)
    elif proto == 0x3D:
        if not link_header:
            out.append("MLPPP, ")
        if length < 2 or not r.has(at, 2):
            out.append("[|mlppp]")
            return
        flags = ", ".join(w for bit, w in ((0x80, "begin"), (0x40, "end"))
                          if r.u8(at) & bit) or "none"
        out.append(f"seq 0x{r.u16(at) & 0xFFF:03x}, Flags [{flags}], length {length}")
    elif proto == 0xC223:
        _chap(out, r, at, length)
    elif proto == 0xC023:
        _pap(out, r, at, length)
    elif proto == 0xC02D:
        pass    # BAP: tcpdump prints nothing of it
    elif proto == 0xFD:
        out.append("compressed PPP data")
    else:
        family = {0x0800: 0x21, 0x2F: 0x21, 0x21: 0x21, 0x86DD: 0x57, 0x57: 0x57,
                  0x281: 0x281, 0x283: 0x281, 0x2B: 0x2B, 0x8137: 0x2B}.get(proto)
        inner = network(family, r.data[at:], length) if family else None
        if proto == 0x23:   # OSI: its one-line forms (None under -v), or IP inside
            nlpid = r.data[at] if len(r.data) > at else None
            if nlpid in (0xCC, 0x8E):
                prefix = osi_prefix(nlpid) if link_header else ""
                try:
                    inner = network(0x21 if nlpid == 0xCC else 0x57, r.data[at + 1:],
                                    length - 1)
                except LongJump as jump:
                    raise LongJump(prefix + jump.text, jump.proto) from None
                if inner is not None:
                    inner = prefix + inner
            else:
                inner = osi_text(r.data[at:], length, verbose, link_header, False)
        if inner is not None:
            out.append(inner)
            return
        out.append(PPP_NAMES.get(proto, f"unknown PPP protocol (0x{proto:04x})") + " ")
        out.append(r.hex_lines(at, "\n\t", length))


def _hdlc(out: list[str], r: _Reader, at: int, verbose: int, link_header: bool,
          network: Network) -> None:
    """RFC 1662's octet stuffing undone on the captured bytes, then a guess at what the
    frame starts with (IP, IPv6, address and control, or a protocol field)."""
    raw, plain = r.data[at:], bytearray()
    index = 0
    while index < len(raw):
        byte = raw[index]
        if byte == 0x7D:
            if index + 1 >= len(raw):
                break
            index += 1
            byte = raw[index] ^ 0x20
        plain.append(byte)
        index += 1
    if not raw:
        return
    inner = _Reader(bytes(plain))
    size = len(plain)
    if size < 1:
        out.append(" [|ppp]")
        return
    first = plain[0]
    if first in (0x21, 0x57):
        text = network(first, bytes(plain[1:]), size - 1)
        out.append(text or "")
        return
    if size < 2:
        out.append(" [|ppp]")
        return
    proto, start = inner.u16(0), 2
    if proto == 0xFF03:
        if size < 4:
            out.append(" [|ppp]")
            return
        proto, start = inner.u16(2), 4
    if proto & 0xFF00 == 0x7E00:
        out.append(f"(protocol 0x{proto:04x} invalid)")
    else:
        _handle(out, inner, start, proto, size - start, verbose, link_header, network)


def _control(out: list[str], r: _Reader, at: int, proto: int, length: int,
             verbose: int) -> None:
    """LCP and the network control protocols: code, id, and under -v the options."""
    name = PPP_NAMES.get(proto, f"unknown ctrl-proto (0x{proto:04x})")
    out.append(f"{name}, ")
    if length < 4 or not r.has(at, 2):
        out.append(f"[|{name}]")
        return
    code = r.u8(at)
    out.append(f"{_CODES.get(code, 'Unknown Opcode')} (0x{code:02x}), id {r.u8(at + 1)}, "
               f"length {length + 2}")
    if not verbose:
        return
    size = r.u16(at + 2)
    if size < 4:
        out.append(f"\n\tencoded length {size} (< 4))")
        return
    if size > length:
        out.append(f"\n\tencoded length {size} (> packet length {length}))")
        return
    out.append(f"\n\tencoded length {size} (=Option(s) length {size - 4})")
    if size == 4:
        return
    if verbose > 1:
        out.append(r.hex_lines(at - 2, "\n\t", 6) if at >= 2 else "")
    body = at + 4
    try:
        if code in (1, 2, 3, 4):
            _options(out, r, body, proto, size, verbose)
        elif code == 0 and size >= 11:
            out.append(f"\n\t  Magic-Num 0x{r.u32(body):08x}")
            oui = r.u24(body + 4)
            out.append(f" Vendor: {OUI_NAMES.get(oui, 'Unknown')} ({oui})")
        elif code == 8 and size >= 6:
            rejected = r.u16(body)
            out.append(f"\n\t  Rejected {PPP_NAMES.get(rejected, 'unknown')} Protocol "
                       f"(0x{rejected:04x})")
            if size > 6:
                out.append("\n\t  Rejected Packet" + r.hex_lines(body + 2, "\n\t    ",
                                                                  size - 2))
        elif code in (9, 10, 11) and size >= 8:
            out.append(f"\n\t  Magic-Num 0x{r.u32(body):08x}")
            if size > 8:
                out.append("\n\t  -----trailing data-----")
                if not r.has(body + 4, size - 8):
                    raise _Stop
                out.append(r.hex_lines(body + 4, "\n\t  ", size - 8))
        elif code == 12 and size >= 8:
            out.append(f"\n\t  Magic-Num 0x{r.u32(body):08x}")
            if size > 8:
                # tcpdump prints the message from 4 bytes too late, for 4 bytes too many
                out.append("\n\t  Message\n\t    ")
                out.append(safe_text(r.data[body + 4:body + size]))
                if not r.has(body + 4, size - 4):
                    raise _Stop
        elif code == 13 and size >= 12:
            out.append(f"\n\t  Magic-Num 0x{r.u32(body):08x}")
            out.append(f", Seconds-Remaining {r.u32(body + 4)}s")
        elif code not in range(14) and verbose <= 1:
            out.append(r.hex_lines(at - 2, "\n\t  ", size + 2) if at >= 2 else "")
    except _Stop:
        out.append(f"[|{name}]")


def _options(out: list[str], r: _Reader, at: int, proto: int, size: int,
             verbose: int) -> None:
    printer = {0xC021: _lcp_option, 0x8021: _ipcp_option, 0x8057: _ip6cp_option,
               0x80FD: _ccp_option, 0xC02B: _bacp_option}.get(proto)
    if printer is None:
        return
    left = size - 4
    while left:
        if size < 2:
            return
        if not r.has(at, 2):
            out.append({0xC021: "[|lcp]", 0x8021: "[|ipcp]", 0x8057: "[|ip6cp]",
                        0x80FD: "[|ccp]", 0xC02B: "[|bacp]"}[proto])
            return
        kind, option_len = r.u8(at), r.u8(at + 1)
        if size < option_len:   # tcpdump compares with the whole message's length
            return
        advance = printer(out, r, at, kind, option_len, verbose)
        if not advance:
            return
        if left < advance:
            out.append(f" [remaining options length {left} < {advance}] (invalid)")
            return
        left -= advance
        at += advance


def _bogus(out: list[str], why: str) -> None:
    out.append(f" (length bogus, should be {why})")


def _trailer(out: list[str], r: _Reader, at: int, size: int, verbose: int,
             known: bool) -> None:
    """An unknown option's bytes under -v; every option's under -vv."""
    if (not known and verbose < 2) or verbose > 1:
        out.append(r.hex_lines(at + 2, "\n\t    ", size - 2))


def _lcp_option(out: list[str], r: _Reader, at: int, kind: int, size: int,
                verbose: int) -> int:
    named = kind < len(_LCP_OPTIONS)
    if size < 2:
        out.append(f"\n\t  {_LCP_OPTIONS[kind]} Option (0x{kind:02x}), length {size} (length "
                   "bogus, should be >= 2)" if named else f"\n\tunknown LCP option 0x{kind:02x}")
        return 0
    if not named:
        out.append(f"\n\tunknown LCP option 0x{kind:02x}")
        return size
    out.append(f"\n\t  {_LCP_OPTIONS[kind]} Option (0x{kind:02x}), length {size}")
    v = at + 2
    # (exact length or minimum, what a wrong length returns: the option's size or 0)
    rules = {0: (">=", 6, size), 1: ("=", 4, size), 2: ("=", 6, size), 3: (">=", 4, size),
             4: (">=", 4, 0), 5: ("=", 6, 0), 23: ("=", 4, 0), 13: (">=", 3, 0),
             17: ("=", 4, 0), 19: (">=", 3, 0)}
    if kind in rules:
        relation, wanted, bad_return = rules[kind]
        if (size != wanted) if relation == "=" else (size < wanted):
            _bogus(out, f"{relation} {wanted}")
            return bad_return
    known = True
    if kind == 0:
        oui = r.u24(v)
        out.append(f": Vendor: {OUI_NAMES.get(oui, 'Unknown')} ({oui})")
    elif kind in (1, 17):
        out.append(f": {r.u16(v)}")
    elif kind in (2, 5):
        out.append(f": 0x{r.u32(v):08x}")
    elif kind == 3:
        auth = r.u16(v)
        out.append(": " + PPP_NAMES.get(auth, "Unknown Auth Proto (0x04x)"))
        if auth == 0xC223:
            algorithm = r.u8(v + 2)
            out.append(", " + _AUTH_ALGORITHMS.get(algorithm, f"Unknown Auth Alg {algorithm}"))
        elif auth not in (0xC023, 0xC227, 0xC027, 0xC123):
            out.append(r.hex_lines(at, "\n\t", size))
    elif kind == 4:
        out.append(": LQR" if r.u16(v) == 0xC025 else ": unknown")
    elif kind == 23:
        out.append(f": 0x{r.u16(v):04x}")
    elif kind == 13:
        out.append(": ")
        operation = r.u8(v)
        out.append(f": Callback Operation {_CALLBACKS.get(operation, 'Unknown')} "
                   f"({operation})")
    elif kind == 19:
        klass = r.u8(v)
        if klass == 2 and size != 7:
            _bogus(out, "= 7")
            return 0
        if klass == 3 and size != 9:
            _bogus(out, "= 9")
            return 0
        if klass == 2:
            out.append(f": IPv4 {ip4(bytes(r.u8(v + 1 + i) for i in range(4)))}")
        elif klass == 3:
            out.append(f": MAC {mac(bytes(r.u8(v + 1 + i) for i in range(6)))}")
        else:
            out.append({0: ": Null", 1: ": Local", 4: ": Magic-Num-Block",
                        5: ": PSNDN"}.get(klass, f": Unknown class {klass}"))
    elif kind not in (7, 8):
        known = False
    _trailer(out, r, at, size, verbose, known)
    return size


def _ipcp_option(out: list[str], r: _Reader, at: int, kind: int, size: int,
                 verbose: int) -> int:
    name = _IPCP_OPTIONS.get(kind, "unknown")
    out.append(f"\n\t  {name} Option (0x{kind:02x}), length {size}")
    if size < 2:
        _bogus(out, ">= 2")
        return 0
    v = at + 2
    known = True
    tail = at     # tcpdump dumps from where its pointer ended, past any suboptions
    if kind == 1:
        if size != 10:
            _bogus(out, "= 10")
            return size
        out.append(f": src {_ip(r, v)}, dst {_ip(r, v + 4)}")
    elif kind == 2:
        if size < 4:
            _bogus(out, ">= 4")
            return 0
        compression = r.u16(v)
        method = {0x2D: "VJ-Comp", 0x61: "IP Header Compression"}.get(compression, "Unknown")
        out.append(f": {method} (0x{compression:02x}):")
        if compression == 0x61:
            if size < 14:
                _bogus(out, ">= 14")
                return 0
            if not r.has(v, 14):
                out.append("[|ipcp]")
                return 0
            out.append(f"\n\t    TCP Space {r.u16(v + 2)}, non-TCP Space {r.u16(v + 4)}, "
                       f"maxPeriod {r.u16(v + 6)}, maxTime {r.u16(v + 8)}, "
                       f"maxHdr {r.u16(v + 10)}")
            if size > 14:
                left = size - 14
                tail += 14
                out.append(f"\n\t      Suboptions, length {left}")
                while left >= 2:
                    if not r.has(tail, 2):
                        out.append("[|ipcp]")
                        return 0
                    sub, sub_len = r.u8(tail), r.u8(tail + 1)
                    if not sub or not sub_len:
                        break
                    sub_name = {1: "RTP-Compression", 2: "Enhanced RTP-Compression"}.get(
                        sub, "Unknown")
                    out.append(f"\n\t\t{sub_name} Suboption #{sub}, length {sub_len}")
                    if left < sub_len:
                        out.append(f" [remaining suboptions length {left} < {sub_len}] "
                                   "(invalid)")
                        break
                    left -= sub_len
                    tail += sub_len
    elif kind in (3, 4, 129, 130, 131, 132):
        if size != 6:
            _bogus(out, "= 6")
            return 0
        out.append(f": {_ip(r, v)}")
    else:
        known = False
    _trailer(out, r, tail, size, verbose, known)
    return size


def _ip(r: _Reader, at: int) -> str:
    return ip4(bytes(r.u8(at + i) for i in range(4)))


def _ip6cp_option(out: list[str], r: _Reader, at: int, kind: int, size: int,
                  verbose: int) -> int:
    out.append(f"\n\t  {'Interface-ID' if kind == 1 else 'unknown'} Option (0x{kind:02x}), "
               f"length {size}")
    if size < 2:
        _bogus(out, ">= 2")
        return 0
    if kind == 1:
        if size != 10:
            _bogus(out, "= 10")
            return size
        if not r.has(at + 2, 8):
            out.append("[|ip6cp]")
            return 0
        out.append(": " + ":".join(f"{r.u16(at + 2 + 2 * i):04x}" for i in range(4)))
    _trailer(out, r, at, size, verbose, kind == 1)
    return size


def _ccp_option(out: list[str], r: _Reader, at: int, kind: int, size: int,
                verbose: int) -> int:
    out.append(f"\n\t  {_CCP_OPTIONS.get(kind, 'Unknown')} Option (0x{kind:02x}), length {size}")
    if size < 2:
        _bogus(out, ">= 2")
        return 0
    v = at + 2
    known = kind in (21, 24, 26)
    if kind == 21:
        if size < 3:
            _bogus(out, ">= 3")
            return size
        out.append(f": Version: {r.u8(v) >> 5}, Dictionary Bits: {r.u8(v) & 0x1F}")
    elif kind == 24:
        if size < 4:
            _bogus(out, ">= 4")
            return size
        first = r.u8(v)
        out.append(f": Features: {(first & 0xC0) >> 6}, PxP: "
                   f"{'Enabled' if first & 0x20 else 'Disabled'}, History: {first & 0x1F}, "
                   f"#CTX-ID: {r.u8(v + 1)}")
    elif kind == 26:
        if size < 4:
            _bogus(out, ">= 4")
            return size
        first, second = r.u8(v), r.u8(v + 1)
        method = first & 0x0F
        out.append(f": Window: {(first & 0xF0) >> 4}K, Method: "
                   f"{'zlib' if method == 8 else 'unknown'} (0x{method:x}), MBZ: "
                   f"{(second & 0xFC) >> 2}, CHK: {second & 0x03}")
    _trailer(out, r, at, size, verbose, known)
    return size


def _bacp_option(out: list[str], r: _Reader, at: int, kind: int, size: int,
                 verbose: int) -> int:
    out.append(f"\n\t  {'Favored-Peer' if kind == 1 else 'Unknown'} Option (0x{kind:02x}), "
               f"length {size}")
    if size < 2:
        _bogus(out, ">= 2")
        return 0
    if kind == 1:
        if size != 6:
            _bogus(out, "= 6")
            return size
        out.append(f": Magic-Num 0x{r.u32(at + 2):08x}")
    _trailer(out, r, at, size, verbose, kind == 1)
    return size


def _chap(out: list[str], r: _Reader, at: int, length: int) -> None:
    if length < 1:
        out.append("[|chap]")
        return
    if length < 4:
        out.append(f"[|chap 0x{r.u8(at):02x}]")
        return
    code = r.u8(at)
    out.append(f"CHAP, {_CHAP_CODES.get(code, 'unknown')} (0x{code:02x})")
    out.append(f", id {r.u8(at + 1)}")
    size = r.u16(at + 2)
    p = at + 4
    if code in (1, 2):
        if length - 4 < 1:
            return
        value_size = r.u8(p)
        p += 1
        if length - 5 < value_size:
            return
        out.append(", Value ")
        for index in range(value_size):
            out.append(f"{r.u8(p + index):02x}")
        p += value_size
        out.append(", Name ")
        # an unsigned difference: a length shorter than the value reads to the capture's end
        r.chars(out, p, (size - (p - at)) & 0xFFFFFFFF)
    elif code in (3, 4):
        out.append(", Msg ")
        r.chars(out, p, (size - 4) & 0xFFFFFFFF)


def _pap(out: list[str], r: _Reader, at: int, length: int) -> None:
    if length < 1:
        out.append("[|pap]")
        return
    if length < 4:
        out.append(f"[|pap 0x{r.u8(at):02x}]")
        return
    code = r.u8(at)
    out.append(f"PAP, {_PAP_CODES.get(code, 'unknown')} (0x{code:02x})")
    out.append(f", id {r.u8(at + 1)}")
    size = r.u16(at + 2)
    if size > length:
        out.append(f", length {size} > packet size")
        return
    if size < 4:
        out.append(f", length {size} < PAP header length")
        return
    p = at + 4
    if code == 1:
        if size < 6:
            out.append("[|pap]")
            return
        for label in (", Peer ", ", Name "):
            if size - (p - at) < 1:
                return
            count = r.u8(p)
            p += 1
            if size - (p - at) < count:
                return
            out.append(label)
            p = r.chars(out, p, count)
    elif code in (2, 3):
        if size < 5:
            out.append("[|pap]")
            return
        count = r.u8(p)
        if size - 5 < count:
            return
        out.append(", Msg ")
        r.chars(out, p + 1, count)
