"""RIP (RFC 1058, RFC 2453 with RFC 4822's authentication) on UDP port 520 and RIPng
(RFC 2080) on port 521 as ``tcpdump -n`` 4.99 prints them.

Without -v RIP is its version, command and length; -v walks the entries (RIPv1's
address and metric, RIPv2's prefix, tag, metric and next hop, its authentication
entries), -vv adds a dump of the whole message. RIPng lists its entries at every
verbosity. tcpdump checks an entry against the captured bytes before reading it: an
entry cut short (or a message shorter than its entries) ends the walk with `` [|rip]``,
and -vv's dump still follows; a read it does not check leaves the packet there."""

from __future__ import annotations

from .printer_words import Words, ip4, ip6, safe_text, unknown_data_lines

__all__ = ["rip_text", "ripng_text"]

_COMMANDS = {1: "Request", 2: "Response", 3: "Trace on", 4: "Trace off", 5: "Poll",
             6: "Poll Entry"}
# BSD's address family numbers as tcpdump names them
_FAMILIES = {2: "IPv4", 6: "NS", 7: "ISO", 16: "Appletalk", 23: "IPX", 24: "IPv6",
             28: "IPv6", 30: "IPv6"}
_ENTRY = 20
_CUT = " [|rip]"


def _dump(data: bytes, at: int, size: int, indent: str) -> str:
    """tcpdump's dump of bytes it does not decode: what of them was captured."""
    return unknown_data_lines(data[at:at + size], indent)


def _prefix_length(mask: int) -> int:
    """The prefix length of a contiguous netmask, -1 for any other."""
    for length in range(32, -1, -1):
        if mask == (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF:
            return length
    return -1


def rip_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the ports for a RIP message of ``length`` bytes, ``data`` being what
    was captured (LongJump where tcpdump leaves the packet)."""
    left = min(len(data), length)
    if left < 4:
        return _CUT
    out = Words(data, "rip")
    version, command = data[1], data[0]
    out.add(("\n\t" if verbose else "") + f"RIPv{version}")
    if version == 0:
        out.add(_dump(data, 0, length, "\n\t"))
        return out.text()
    out.add(f", {_COMMANDS.get(command, f'unknown command ({command})')}, length: {length}")
    if not verbose:
        return out.text()
    if command in (1, 2):
        if version in (1, 2):
            out.add(f", routes: {length // _ENTRY}" + (" or less" if version == 2 else ""))
            _entries(out, 4, left - 4, version)
        else:
            out.add(", unknown version")
    elif command not in (4, 5, 6) and verbose == 1:
        out.add(_dump(data, 0, length, "\n\t"))
    if verbose > 1:
        out.add(_dump(data, 0, length, "\n\t"))
    return out.text()


def _entries(out: Words, at: int, left: int, version: int) -> None:
    while left:
        size = (_entry_v1 if version == 1 else _entry_v2)(out, at, left)
        if not size:
            out.add(_CUT)
            return
        if left < size:
            out.add(f" [remaining entries length {left} < {size}] (invalid)")
            return
        at, left = at + size, left - size


def _entry_v1(out: Words, at: int, left: int) -> int:
    data = out.data
    if left < _ENTRY:
        return 0
    family = out.get(at, 2)
    if family not in (0, 2):
        out.add(f"\n\t AFI {_FAMILIES.get(family, f'Unknown ({family})')}, ")
        out.add(_dump(data, at + 4, _ENTRY - 4, "\n\t  "))
        return _ENTRY
    if out.get(at + 2, 2) or out.get(at + 8, 4) or out.get(at + 12, 4):
        out.add(_dump(data, at, _ENTRY, "\n\t  "))   # must-be-zero fields that are not
        return _ENTRY
    out.add("\n\t  " + ("AFI 0, " if family == 0 else "")
            + f"{ip4(data[at + 4:at + 8])}, metric: {out.get(at + 16, 4)}")
    return _ENTRY


def _entry_v2(out: Words, at: int, left: int) -> int:
    data = out.data
    if left < 4:
        return 0
    family, tag = out.get(at, 2), out.get(at + 2, 2)
    if family == 0xFFFF:   # an authentication entry, sized by its type
        at, left = at + 4, left - 4
        if tag == 2:
            out.add("\n\t  Simple Text Authentication data: ")
            for offset in range(16):   # up to its first NUL
                byte = out.get(at + offset)
                if not byte:
                    break
                out.add(safe_text(bytes([byte])))
        elif tag == 3:
            if at + 16 > len(data) or left < 16:
                return 0
            out.add(f"\n\t  Auth header: Packet Len {out.get(at, 2)}, Key-ID {out.get(at + 2)},"
                    f" Auth Data Len {out.get(at + 3)}, SeqNo {out.get(at + 4, 4)},"
                    f" MBZ {out.get(at + 8, 4)}, MBZ {out.get(at + 12, 4)}")
        else:   # a trailer, or a type it does not know: the rest of the message
            out.add("\n\t  Auth trailer:" if tag == 1 else
                    f"\n\t  Unknown ({tag}) Authentication data:")
            out.add(_dump(data, at, left, "\n\t  "))
            return 4 + left
    elif family not in (0, 2):
        out.add(f"\n\t  AFI {_FAMILIES.get(family, f'Unknown ({family})')}")
        out.add(_dump(data, at + 4, _ENTRY - 4, "\n\t  "))
    else:
        if at + _ENTRY > len(data) or left < _ENTRY:
            return 0
        router = data[at + 12:at + 16]
        out.add(f"\n\t  AFI {_FAMILIES.get(family, str(family))}, "
                f"{ip4(data[at + 4:at + 8]):>15}/{_prefix_length(out.get(at + 8, 4)):<2}, "
                f"tag 0x{tag:04x}, metric: {out.get(at + 16, 4)}, next-hop: "
                + (ip4(router) if any(router) else "self"))
    return _ENTRY


def ripng_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the ports for a RIPng message (LongJump at a cut)."""
    out = Words(data, "ripng")
    version = out.get(1)
    if version != 1:
        return f" [vers {version}] (invalid)"
    command = out.get(0)
    if command not in (1, 2):
        return f" ripng-{command} ?? {length} (invalid)"
    if length < 4:
        return " (invalid)"
    left = length - 4
    count = left // _ENTRY
    if command == 1 and count == 1 and out.get(4 + 19) == 16 and not any(data[4:20]):
        return " ripng-req dump"
    word = "ripng-req" if command == 1 else "ripng-resp"
    out.add(f" {word} {count}" + (f"[{length}]" if count * _ENTRY != left else "") + ":")
    at = 4
    while left >= _ENTRY:
        out.add("\n\t" if verbose > 1 else " ")
        out.get(at, 16)
        out.add(f"{ip6(data[at:at + 16])}/{out.get(at + 18)}")
        tag = out.get(at + 16, 2)
        if tag:
            out.add(f" [{tag}]")
        metric = out.get(at + 19)
        if metric and command == 2:
            out.add(f" ({metric})")
        at, left = at + _ENTRY, left - _ENTRY
    if left:
        out.add(" (invalid)")
    return out.text()
