"""tcpdump's lines for BOOTP/DHCP (UDP 67/68) and NTP (UDP 123), with what -v and -vv add:
BOOTP's fixed fields and the RFC 1048 options, NTP's time fields. Called by
:mod:`pybpf.net.printer`; each function returns the text after the ports.
"""

from __future__ import annotations

import datetime
import struct

from .printer_ntp_control import ntp_control_fields
from .printer_words import CutShort, LongJump, ip4, mac, safe_text, take, u16, u32

__all__ = ["bootp_text", "ntp_text"]

# option number -> (how its value prints, name), after RFC 2132 and tcpdump's names:
# a ASCII, i IPv4 addresses, l/L unsigned/signed 32-bit, s 16-bit, b bytes, x hex bytes,
# B booleans, p address pairs, $ special
_OPTIONS: dict[int, tuple[str, str]] = {
    0: (" ", "PAD"), 1: ("i", "Subnet-Mask"), 2: ("L", "Time-Zone"),
    3: ("i", "Default-Gateway"), 4: ("i", "Time-Server"), 5: ("i", "IEN-Name-Server"),
    6: ("i", "Domain-Name-Server"), 7: ("i", "LOG"), 8: ("i", "CS"), 9: ("i", "LPR-Server"),
    10: ("i", "IM"), 11: ("i", "RL"), 12: ("a", "Hostname"), 13: ("s", "BS"),
    14: ("a", "DP"), 15: ("a", "Domain-Name"), 16: ("i", "SS"), 17: ("a", "RP"),
    18: ("a", "EP"), 19: ("B", "IPF"), 20: ("B", "SRT"), 21: ("p", "PF"), 22: ("s", "RSZ"),
    23: ("b", "TTL"), 24: ("l", "MTU-Timeout"), 25: ("s", "MTU-Table"), 26: ("s", "MTU"),
    27: ("B", "LSN"), 28: ("i", "BR"), 29: ("B", "MD"), 30: ("B", "MS"),
    31: ("B", "Router-Discovery"), 32: ("i", "RSA"), 33: ("p", "Static-Route"),
    34: ("B", "UT"), 35: ("l", "AT"), 36: ("B", "IE"), 37: ("b", "TT"), 38: ("l", "KI"),
    39: ("B", "KG"), 40: ("a", "YD"), 41: ("i", "YS"), 42: ("i", "NTP"),
    43: ("b", "Vendor-Option"), 44: ("i", "Netbios-Name-Server"), 45: ("i", "WDD"),
    47: ("a", "Netbios-Scope"), 48: ("i", "XFS"), 49: ("i", "XDM"),
    50: ("i", "Requested-IP"), 51: ("l", "Lease-Time"), 53: (" ", "DHCP-Message"),
    54: ("i", "Server-ID"), 55: ("b", "Parameter-Request"), 56: ("a", "MSG"),
    57: ("s", "MSZ"), 58: ("l", "RN"), 59: ("l", "RB"), 60: ("a", "Vendor-Class"),
    61: ("$", "Client-ID"), 62: ("a", "NDS-Domain"), 63: ("b", "NDS-Info"),
    64: ("s", "N+D"), 65: ("i", "N+S"), 66: ("a", "TFTP"), 67: ("a", "BF"), 68: ("i", "MH"),
    69: ("i", "SMTP"), 70: ("i", "POP3"), 71: ("i", "NNTP"), 72: ("i", "WWW"),
    73: ("i", "FG"), 74: ("i", "IRC"), 75: ("i", "STS"), 76: ("i", "STDA"),
    78: ("b", "SLP-DA"), 79: ("b", "SLP-SCOPE"), 80: ("a", "SLP-NA"), 83: ("b", "ARMT"),
    85: ("i", "NDS"), 86: ("a", "NDS-Tree"), 87: ("a", "NDS-Context"), 88: ("a", "TZSTR"),
    89: ("b", "FQDNS"), 90: ("b", "AUTH"), 91: ("L", "Last-Transaction-Time"),
    92: ("i", "Associated-IP"), 93: ("s", "ARCH"), 94: ("b", "NDI"), 95: ("a", "LDAP"),
    97: ("b", "GUID"), 98: ("a", "UAP"), 100: ("a", "POSIX-TZ"), 101: ("a", "TZ-Name"),
    112: ("i", "NetInfo-Parent"), 113: ("a", "NetInfo-Parent-Tag"), 114: ("a", "URL"),
    116: ("B", "NOAUTO"), 117: ("s", "NSSEARCH"), 118: ("i", "SUBNET"),
    150: ("i", "TFTP-Server-Address"), 161: ("a", "MUDURL"), 255: (" ", "END"),
}
_DHCP_MESSAGES = {1: "Discover", 2: "Offer", 3: "Request", 4: "Decline", 5: "ACK",
                  6: "NACK", 7: "Release", 8: "Inform", 10: "LeaseQuery",
                  11: "LeaseUnassigned", 12: "LeaseUnknown", 13: "LeaseActive"}
_HARDWARE = {1: "ether", 6: "ieee802", 7: "arcnet", 15: "frelay", 23: "strip",
             24: "ieee1394"}
_RFC1048_COOKIE = b"\x63\x82\x53\x63"
_NTP_MODES = {0: "unspecified", 1: "symmetric active", 2: "symmetric passive",
              3: "Client", 4: "Server", 5: "Broadcast", 6: "Control Message",
              7: "Reserved"}
_NTP_LEAP = {0x00: "", 0x40: "+1s", 0x80: "-1s", 0xC0: "clock unsynchronized"}
_NTP_TIME_MODES = (0, 1, 2, 3, 4, 5)
_NTP_EPOCH_OFFSET = 2208988800      # 1900-01-01 to 1970-01-01, in seconds


def bootp_text(data: bytes, length: int, verbose: int) -> str:
    """A BOOTP/DHCP message; a capture that ends inside it ends the line as tcpdump's
    does (:class:`LongJump` with what was printed, or ' [|bootp]' after a check)."""
    out: list[str] = []
    try:
        _bootp(out, data, length, verbose)
    except CutShort:
        raise LongJump("".join(out), "bootp") from None
    return "".join(out)


def _bootp(out: list[str], data: bytes, length: int, verbose: int) -> None:
    op = take(data, 0, 1)[0]
    out.append("BOOTP/DHCP, " + {1: "Request", 2: "Reply"}.get(op, f"unknown (0x{op:02x})"))
    htype, hlen = take(data, 1, 2)
    ethernet = htype == 1 and hlen == 6
    if ethernet and op == 1:
        out.append(f" from {mac(take(data, 28, 6))}")
    out.append(f", length {length}")
    if not verbose:
        return
    if len(data) < 10:
        out.append(" [|bootp]")
        return
    if htype != 1:
        out.append(f", htype {htype}")
    if not ethernet:
        out.append(f", hlen {hlen}")
    hops, xid, secs = data[3], u32(data, 4), u16(data, 8)
    if hops:
        out.append(f", hops {hops}")
    if xid:
        out.append(f", xid 0x{xid:x}")
    if secs:
        out.append(f", secs {secs}")
    flags = u16(data, 10)
    out.append(f", Flags [{'Broadcast' if flags & 0x8000 else 'none'}]")
    if verbose > 1:
        out.append(f" (0x{flags:04x})")
    for at, name in ((12, "Client-IP"), (16, "Your-IP"), (20, "Server-IP"),
                     (24, "Gateway-IP")):
        if take(data, at, 4) != b"\0\0\0\0":
            out.append(f"\n\t  {name} {ip4(data[at:at + 4])}")
    if ethernet:
        out.append(f"\n\t  Client-Ethernet-Address {mac(take(data, 28, 6))}")
    for at, size, name in ((44, 64, "sname"), (108, 128, "file")):
        if take(data, at, 1)[0]:
            field = data[at:at + size]
            text = field.split(b"\0", 1)[0]
            out.append(f'\n\t  {name} "' + safe_text(text) + '"')
            # no NUL in the field, or the capture ends first: tcpdump calls it cut short
            if len(text) == len(field):
                out.append(" [|bootp]")
                return
    if len(data) < 240:
        out.append(" [|bootp]")
        return
    vendor = data[236:]
    if vendor[:4] == _RFC1048_COOKIE:
        out.append(_rfc1048(vendor, verbose))
    elif vendor[:4] != b"\x63\x6d\x75\0" and vendor[:4] != b"\0\0\0\0":
        out.append(f"\n\t  Vendor-#0x{struct.unpack_from('!I', vendor)[0]:x}")


def _rfc1048(vendor: bytes, verbose: int) -> str:
    out = ["\n\t  Vendor-rfc1048 Extensions",
           f"\n\t    Magic Cookie 0x{struct.unpack_from('!I', vendor)[0]:08x}"]
    at = 4
    while at < len(vendor):
        tag = vendor[at]
        at += 1
        if tag in (0, 255) and verbose < 3:
            if tag == 255:
                break
            continue
        kind, name = _OPTIONS.get(tag, ("?", "Unknown"))
        size = 0
        if tag not in (0, 255):
            if at >= len(vendor):
                out.append(" [|bootp]")
                break
            size = vendor[at]
            at += 1
        out.append(f"\n\t    {name} ({tag}), length {size}{': ' if size else ''}")
        value = vendor[at:at + size]
        if len(value) < size:
            out.append(" [|bootp]")
            break
        at += size
        out.append(_option_value(tag, kind, value))
    return "".join(out)


def _option_value(tag: int, kind: str, value: bytes) -> str:
    size = len(value)
    if tag == 53 and size == 1:
        return _DHCP_MESSAGES.get(value[0], f"Unknown ({value[0]})")
    if tag == 55:   # the options asked for, four a line
        return "".join(("\n\t      " if index % 4 == 0 else ", ")
                       + f"{_OPTIONS.get(inner, ('?', 'Unknown'))[1]} ({inner})"
                       for index, inner in enumerate(value))
    if kind == "?":
        kind = "b" if size & 1 else "s" if size & 2 else "l"
    rest = b""
    if kind == "a":
        text = '"' + safe_text(value) + '"'
    elif kind in "ilL":
        words, rest = value[:size - size % 4], value[size - size % 4:]
        items = [words[i:i + 4] for i in range(0, len(words), 4)]
        text = ",".join(ip4(w) if kind == "i" else str(struct.unpack("!i" if kind == "L"
                                                                       else "!I", w)[0])
                        for w in items)
    elif kind == "p":
        words, rest = value[:size - size % 8], value[size - size % 8:]
        text = ",".join(f"({ip4(words[i:i + 4])}:{ip4(words[i + 4:i + 8])})"
                        for i in range(0, len(words), 8))
    elif kind == "s":
        words, rest = value[:size - size % 2], value[size - size % 2:]
        text = ",".join(str(struct.unpack_from("!H", words, i)[0])
                        for i in range(0, len(words), 2))
    elif kind == "B":
        text = ",".join({0: "N", 1: "Y"}.get(b, f"{b}?") for b in value)
    elif kind == "$" and tag == 61:
        if not value:
            return "[ERROR: length < 1 bytes]"
        if value[0] == 0:
            text = '"' + safe_text(value[1:]) + '"'
        else:
            text = (_HARDWARE.get(value[0], f"hardware-type {value[0]},") + " "
                    + ":".join(f"{b:02x}" for b in value[1:]))
    else:
        text = (":" if kind == "x" else ".").join(
            f"{b:02x}" if kind == "x" else str(b) for b in value)
    if rest:
        text += f"\n\t  trailing data length {len(rest)}"
    return text


def ntp_text(data: bytes, length: int, verbose: int) -> str:
    """An NTP message: version and mode, and -v's time fields (cut short as tcpdump
    cuts them: what was printed, then ' [|ntp]')."""
    out: list[str] = []
    try:
        _ntp(out, data, length, verbose)
    except CutShort:
        raise LongJump("".join(out), "ntp") from None
    return "".join(out)


def _ntp(out: list[str], data: bytes, length: int, verbose: int) -> None:
    status = take(data, 0, 1)[0]
    version, mode = (status >> 3) & 7, status & 7
    name = _NTP_MODES.get(mode, "Unknown mode")
    if not verbose:
        out.append(f"NTPv{version}, {name}, length {length}")
        return
    leap = status & 0xC0
    out.append(f"NTPv{version}, {name}, length {length}\n\tLeap indicator: {_NTP_LEAP[leap]} "
               f"({leap})")
    if mode == 6:
        ntp_control_fields(out, data, length)
    if mode not in _NTP_TIME_MODES:
        return
    if length < 48:
        out.append(" (invalid)")
        take(data, 0, length)
        return
    stratum = take(data, 1, 1)[0]
    stratum_name = {0: "unspecified", 1: "primary reference"}.get(
        stratum, "secondary reference" if 2 <= stratum <= 15 else "reserved")
    out.append(f", Stratum {stratum} ({stratum_name})")
    poll = struct.unpack("!b", take(data, 2, 1))[0]
    out.append(f", poll {poll}")
    if -32 < poll < 32:
        out.append(f" ({1 << poll}s)" if poll >= 0 else f" (1/{1 << -poll}s)")
    out.append(f", precision {struct.unpack('!b', take(data, 3, 1))[0]}")
    out.append(f"\n\tRoot Delay: {_short_fixed(take(data, 4, 4))}")
    out.append(f", Root dispersion: {_short_fixed(take(data, 8, 4))}")
    refid = take(data, 12, 4)
    out.append(", Reference-ID: ")
    if stratum == 0:
        out.append("(unspec)")
    elif stratum == 1:
        out.append(safe_text(refid))
    elif stratum in (16, 17):
        out.append(f"{ip4(refid)} {'INFO_QUERY' if stratum == 16 else 'INFO_REPLY'}")
        return
    else:
        out.append(f"0x{struct.unpack('!I', refid)[0]:08x}")
    for at, label in ((16, "Reference Timestamp:  "), (24, "Originator Timestamp: "),
                      (32, "Receive Timestamp:    "), (40, "Transmit Timestamp:   ")):
        out.append(f"\n\t  {label}{_ntp_time(take(data, at, 8))}")
    origin, receive, transmit = data[24:32], data[32:40], data[40:48]
    out.append(f"\n\t    Originator - Receive Timestamp:  {_ntp_delta(origin, receive)}"
               f"\n\t    Originator - Transmit Timestamp: {_ntp_delta(origin, transmit)}")
    if length in (52, 68, 72):
        out.append(f"\n\tKey id: {u32(data, 48)}")
        if length > 52:
            digest = take(data, 52, length - 52)
            out.append("\n\tAuthentication: " + digest.hex())
    elif length > 48:
        out.append("\n\t(%u more bytes after the header)" % (length - 48))


def _short_fixed(raw: bytes) -> str:
    whole, fraction = struct.unpack("!HH", raw)
    return f"{whole}.{int(fraction / 65536.0 * 1000000.0):06d}"


def _billionths(fraction: int) -> int:
    return int(fraction / 4294967296.0 * 1000000000.0)


def _ntp_time(raw: bytes) -> str:
    seconds, fraction = struct.unpack("!II", raw)
    text = f"{seconds}.{_billionths(fraction):09d}"
    if seconds:
        moment = (datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
                  + datetime.timedelta(seconds=seconds - _NTP_EPOCH_OFFSET))
        text += f" ({moment:%Y-%m-%dT%H:%M:%SZ})"
    return text


def _ntp_delta(origin: bytes, other: bytes) -> str:
    """``other - origin`` as tcpdump writes it, or ``other`` alone when origin is zero."""
    old_s, old_f = struct.unpack("!II", origin)
    new_s, new_f = struct.unpack("!II", other)
    if old_s == 0 and old_f == 0:
        return _ntp_time(other)
    if new_s > old_s:
        negative, whole, fraction = False, new_s - old_s, (new_f - old_f) & 0xFFFFFFFF
        whole -= old_f > new_f
    elif new_s < old_s:
        negative, whole, fraction = True, old_s - new_s, (old_f - new_f) & 0xFFFFFFFF
        whole -= new_f > old_f
    else:
        whole = 0
        negative = not new_f > old_f
        fraction = (new_f - old_f) if new_f > old_f else (old_f - new_f)
    return f"{'-' if negative else '+'}{whole}.{_billionths(fraction):09d}"
