"""tcpdump's text for ICMP (IPv4): every type and code as print-icmp.c names them, -v's
checksum check and, after an error's line, RFC 4884 multi-part extensions. The packet an
error quotes is printed by the caller (it is an IP packet like any other)."""

from __future__ import annotations

from .inet_checksum import ones_sum
from .printer_words import ip4, take, u16, u32, unknown_data_lines

__all__ = ["icmp_text", "multipart_text", "ERROR_TYPES"]

ERROR_TYPES = (3, 4, 5, 11, 12)        # the types that quote an IP packet
_MULTIPART_TYPES = (3, 11, 12)
_EXTENSION_START = 136                 # RFC 4884: 8 + 128 bytes of the quoted datagram
_NAMES = {0: "echo reply", 4: "source quench", 8: "echo request", 10: "router solicitation",
          13: "time stamp request", 14: "time stamp reply", 15: "information request",
          16: "information reply", 17: "address mask request"}
_UNREACH = {0: "net {} unreachable", 1: "host {} unreachable",
            5: "{} unreachable - source route failed", 6: "net {} unreachable - unknown",
            7: "host {} unreachable - unknown", 8: "{} unreachable - source host isolated",
            9: "net {} unreachable - admin prohibited",
            10: "host {} unreachable - admin prohibited",
            11: "net {} unreachable - tos prohibited", 12: "host {} unreachable - tos prohibited",
            13: "host {} unreachable - admin prohibited filter",
            14: "host {} unreachable - host precedence violation",
            15: "host {} unreachable - precedence cutoff"}
_REDIRECTS = {0: "redirect {} to net {}", 1: "redirect {} to host {}",
              2: "redirect-tos {} to net {}", 3: "redirect-tos {} to host {}"}
_OBJECT_CLASSES = {1: "MPLS Stack Entry", 2: "Interface Identification"}


def _clock(ms: int) -> str:
    seconds, msec = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{msec:03d}"


def _describe(data: bytes) -> str:
    kind, code = take(data, 0, 2)
    if kind in (0, 8):
        return (f"echo {'request' if kind == 8 else 'reply'}, id {u16(data, 4)}, "
                f"seq {u16(data, 6)}")
    if kind == 3:
        dst = ip4(take(data, 24, 4)) if code != 3 else ""
        if code == 2:
            return f"{dst} protocol {take(data, 17, 1)[0]} unreachable"
        if code == 3:
            proto = take(data, 17, 1)[0]
            header = (take(data, 8, 1)[0] & 0x0F) * 4
            port = u16(data, 8 + header + 2)
            dst = ip4(take(data, 24, 4))
            if proto in (6, 17):
                return f"{dst} {'tcp' if proto == 6 else 'udp'} port {port} unreachable"
            return f"{dst} protocol {proto} port {port} unreachable"
        if code == 4:
            mtu = u16(data, 6)
            return f"{dst} unreachable - need to frag" + (f" (mtu {mtu})" if mtu else "")
        if code in _UNREACH:
            return _UNREACH[code].format(dst)
        return f"{dst} unreachable - #{code}"
    if kind == 5:
        dst, gateway = ip4(take(data, 24, 4)), ip4(take(data, 4, 4))
        if code in _REDIRECTS:
            return _REDIRECTS[code].format(dst, gateway)
        return f"redirect-#{code} {dst} to {gateway}"
    if kind == 9:
        return _router_advertisement(data)
    if kind == 11:
        take(data, 24, 4)
        return {0: "time exceeded in-transit", 1: "ip reassembly time exceeded"}.get(
            code, f"time exceeded-#{code}")
    if kind == 12:
        return (f"parameter problem - code {code}" if code
                else f"parameter problem - octet {take(data, 4, 1)[0]}")
    if kind == 18:
        return f"address mask is 0x{u32(data, 8):08x}"
    if kind == 13:
        return f"time stamp query id {u16(data, 4)} seq {u16(data, 6)}"
    if kind == 14:
        take(data, 16, 4)
        return (f"time stamp reply id {u16(data, 4)} seq {u16(data, 6)}: org "
                f"{_clock(u32(data, 8))}, recv {_clock(u32(data, 12))}, "
                f"xmit {_clock(u32(data, 16))}")
    return _NAMES.get(kind, f"type-#{kind}")


def _router_advertisement(data: bytes) -> str:
    count, size, lifetime = take(data, 4, 1)[0], take(data, 5, 1)[0], u16(data, 6)
    if lifetime < 60:
        life = str(lifetime)
    elif lifetime < 3600:
        life = f"{lifetime // 60}:{lifetime % 60:02d}"
    else:
        life = f"{lifetime // 3600}:{lifetime % 3600 // 60:02d}:{lifetime % 60:02d}"
    text = f"router advertisement lifetime {life} {count}:"
    if size != 2:
        return text + f" [size {size}]"
    for index in range(count):
        at = 8 + 8 * index
        text += f" {{{ip4(take(data, at, 4))} {u32(data, at + 4)}}}"
    return text


def icmp_text(data: bytes, length: int, verbose: int, fragmented: bool) -> str:
    """The message's line (from ``ICMP``); the quoted packet and extensions are not
    included (see :func:`multipart_text`). Raises CutShort where tcpdump prints
    ``[|icmp]``."""
    text = f"ICMP {_describe(data)}, length {length}"
    if verbose and not fragmented and len(data) >= length and ones_sum(data[:length]) != 0xFFFF:
        stored = u16(data, 2)
        right = ~ones_sum(data[:2] + b"\0\0" + data[4:length]) & 0xFFFF
        text += f" (wrong icmp cksum {stored:x} (->{right:x})!)"
    return text


def multipart_text(data: bytes, length: int) -> str:
    """-v's RFC 4884 extension objects after an error's quoted packet ('' when there are
    none)."""
    if length <= _EXTENSION_START or data[0] not in _MULTIPART_TYPES:
        return ""
    take(data, 0, 8)
    tail = data[_EXTENSION_START:length]
    if data[5] == 0 and len(data) >= length and ones_sum(tail) != 0xFFFF:
        return ""
    version = take(data, _EXTENSION_START, 1)[0] >> 4
    text = f"\n\tICMP Multi-Part extension v{version}"
    if version != 2:
        return text + " packet not supported"
    size = length - _EXTENSION_START
    if len(data) >= length:
        checksum = u16(data, _EXTENSION_START + 2)
        text += (f", checksum 0x{checksum:04x} ({'in' if ones_sum(tail) != 0xFFFF else ''}"
                 f"correct), length {size}")
    size -= 4
    at = _EXTENSION_START + 4
    while size > 4:
        object_size, klass, ctype = u16(data, at), take(data, at + 2, 1)[0], \
            take(data, at + 3, 1)[0]
        at += 4
        text += (f"\n\t  {_OBJECT_CLASSES.get(klass, 'unknown')} Object ({klass}), "
                 f"Class-Type: {ctype}, length {object_size}")
        size -= 4
        if klass == 0 or object_size < 4:
            return text
        object_size -= 4
        if klass == 1 and ctype == 1:
            entry = u32(data, at)
            text += (f"\n\t    label {entry >> 12}, tc {(entry >> 9) & 7}"
                     + (", [S]" if entry & 0x100 else "") + f", ttl {entry & 0xFF}")
        else:
            text += unknown_data_lines(data[at:at + object_size], "\n\t    ")
        if size < object_size:
            break
        size -= object_size
        at += object_size
    return text
