"""tcpdump's text for PIM (IP protocol 103): version and type, and under -v the checksum
and each message's body: Hello options, Register (and the packet it carries, through a
callback to the IP printer), Register-Stop, Join/Prune, Graft, Bootstrap, Assert,
Candidate-RP, Prune Refresh and DF Election, with their encoded addresses."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable

from .inet_checksum import ones_sum
from .printer_words import ip6, relative_time, unknown_data_lines

__all__ = ["pim_text"]

# network(version, packet, length) -> the text of an IPv4 or IPv6 packet
Network = Callable[[int, bytes, int], str]

_TYPES = {0: "Hello", 1: "Register", 2: "Register Stop", 3: "Join / Prune", 4: "Bootstrap",
          5: "Assert", 6: "Graft", 7: "Graft Acknowledgement",
          8: "Candidate RP Advertisement", 9: "Prune Refresh", 10: "DF Election",
          11: "ECMP Redirect"}
_HELLO_OPTIONS = {1: "Hold Time", 2: "LAN Prune Delay", 18: "DR Priority (Old)",
                  19: "DR Priority", 20: "Generation ID", 21: "State Refresh Capability",
                  22: "Bi-Directional Capability", 24: "Address List",
                  65001: "Address List (Old)"}
_DF_SUBTYPES = {1: "Offer", 2: "Winner", 3: "Backoff", 4: "Pass"}
_INVALID = " (invalid)"
_UNICAST, _GROUP, _SOURCE = range(3)


class _Cut(Exception):
    """tcpdump gives up on the message here: ' [|pimv2]' ends the line."""


class _Body:
    """The message after its 4-byte header: captured bytes, the bytes left by the IP
    length (an unsigned count in tcpdump, so it can wrap), and the RFC 2117 address
    length (0 for encoded addresses)."""

    def __init__(self, data: bytes, left: int, addr_len: int) -> None:
        self.data, self.at, self.left, self.addr_len = data, 4, left, addr_len

    def u8(self, offset: int = 0) -> int:
        if self.at + offset >= len(self.data):
            raise _Cut
        return self.data[self.at + offset]

    def u16(self, offset: int = 0) -> int:
        return self.u8(offset) << 8 | self.u8(offset + 1)

    def u32(self, offset: int = 0) -> int:
        return self.u16(offset) << 16 | self.u16(offset + 2)

    def captured(self, size: int) -> bool:
        return self.at + size <= len(self.data)

    def skip(self, size: int) -> None:
        self.at += size
        self.left = (self.left - size) & 0xFFFFFFFF

    def need(self, size: int) -> None:
        """tcpdump's 'if (len < size) goto trunc' with its capture check."""
        if self.left < size or not self.captured(size):
            raise _Cut

    def address(self, kind: int) -> str:
        """pimv2_addr_print: an encoded (or RFC 2117 bare) address, consumed."""
        size, head = self.addr_len, 0
        if not size:
            if self.left < 2:
                raise _Cut
            size = {1: 4, 2: 16}.get(self.u8(), 0)
            if not size or self.u8(1):
                raise _Cut
            head = 2
        elif size not in (4, 16):
            raise _Cut
        self.skip(head)
        if kind == _UNICAST:
            self.need(size)
            text = _ip(self.data[self.at:self.at + size])
            self.skip(size)
            return text
        self.need(size + 2)
        flags, mask = self.u8(), self.u8(1)
        text = _ip(self.data[self.at + 2:self.at + 2 + size])
        if mask != 8 * size:
            text += f"/{mask}"
        if flags and kind == _GROUP:
            text += f"(0x{flags:02x})"
        elif flags:
            text += "(" + "".join(c for bit, c in ((4, "S"), (2, "W"), (1, "R")) if flags & bit)
            text += (f"+0x{flags & 0xF8:02x}" if flags & 0xF8 else "") + ")"
        self.skip(size + 2)
        return text


def _ip(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw)) if len(raw) == 4 else ip6(raw)


def pim_text(payload: bytes, length: int, verbose: int, addresses: bytes = b"",
             network: Network | None = None) -> str:
    """PIM; ``addresses`` are IPv6's source and destination (its checksum covers them in
    a pseudo-header), ``network`` prints the packet a Register carries."""
    if not payload:
        return " [|pim]"
    version, kind = payload[0] >> 4, payload[0] & 0x0F
    name = _TYPES.get(kind, "Unknown Type")
    if version != 2:
        return f"PIMv{version}, length {length}"
    if not verbose:
        return f"PIMv2, {name}, length {length}"
    out = [f"PIMv2, length {length}\n\t{name}"]
    try:
        _pimv2(out, payload, length, verbose, addresses, network)
    except _Cut:
        out.append(" [|pimv2]")
    return "".join(out)


def _pimv2(out: list[str], payload: bytes, length: int, verbose: int, addresses: bytes,
           network: Network | None) -> None:
    kind = payload[0] & 0x0F
    if length < 2:
        out.append(f"[length {length} < 2]{_INVALID}")
        return
    body = _Body(payload, length - 4, 0)
    body.at = 1
    body.addr_len = body.u8() & 0x0F
    if body.addr_len:
        out.append(", RFC2117-encoding")
    if length < 4:
        out.append(f"[length {length} < 4]{_INVALID}")
        return
    cksum = body.u16(1)
    body.at = 4
    out.append(f", cksum 0x{cksum:04x} " + _checksum(payload, length, kind, cksum, addresses))
    printer = {0: _hello, 1: _register, 2: _register_stop, 3: _join_prune, 6: _join_prune,
               7: _join_prune, 4: _bootstrap, 5: _assert, 8: _candidate_rp,
               9: _prune_refresh, 10: _df_election}.get(kind)
    if printer is None:
        out.append(f" [type {kind}]")
        return
    printer(out, body, kind, verbose, network)


def _checksum(payload: bytes, length: int, kind: int, cksum: int, addresses: bytes) -> str:
    if cksum == 0:
        return "(unverified)"

    def status(size: int) -> str:
        if len(payload) < size:
            return "(unverified)"
        pseudo = addresses + struct.pack("!IxxxB", size, 103) if addresses else b""
        return "(correct)" if ones_sum(pseudo + payload[:size]) == 0xFFFF else "(incorrect)"
    if kind != 1:
        return status(length)
    # a Register's checksum covers its header; RFC 4601 also accepts one over it all
    first = status(8)
    return status(length) if first == "(incorrect)" else first


def _hello(out: list[str], body: _Body, kind: int, verbose: int,
           network: Network | None) -> None:
    while body.left:
        body.need(4)
        option, size = body.u16(), body.u16(2)
        out.append(f"\n\t  {_HELLO_OPTIONS.get(option, 'Unknown')} Option ({option}), length "
                   f"{size}, Value: ")
        body.skip(4)
        body.need(size)
        value = body.data[body.at:body.at + size]
        wanted = {1: 2, 2: 4, 20: 4, 21: 4}.get(option)
        if option in (18, 19) and size not in (0, 4):
            wanted = 4
        if wanted is not None and size != wanted:
            out.append(f"[option length {size} != {wanted}]{_INVALID}")
            return
        if option == 1:
            out.append(relative_time(struct.unpack("!H", value)[0]))
        elif option == 2:
            delay, override = struct.unpack("!HH", value)
            out.append(f"\n\t    T-bit={delay >> 15}, LAN delay {delay & 0x7FFF}ms, "
                       f"Override interval {override}ms")
        elif option in (18, 19):
            out.append("Bi-Directional Capability (Old)" if size == 0
                       else str(struct.unpack("!I", value)[0]))
        elif option == 20:
            out.append(f"0x{struct.unpack('!I', value)[0]:08x}")
        elif option == 21:
            out.append(f"v{value[0]}")
            if value[1]:
                out.append(", interval " + relative_time(value[1]))
            if value[2:4] != b"\0\0":
                out.append(f" ?0x{struct.unpack_from('!H', value, 2)[0]:04x}?")
        elif option in (24, 65001):
            if verbose > 1:
                _address_list(out, body, size)
        elif option != 22 and verbose <= 1:
            out.append(unknown_data_lines(value, "\n\t    "))
        if verbose > 1:
            out.append(unknown_data_lines(value, "\n\t    "))
        body.skip(size)


def _address_list(out: list[str], body: _Body, size: int) -> None:
    """The addresses of a Hello option, each on its own line; they may run past the
    option (tcpdump bounds them by the message), so the reading is done on a copy."""
    copy = _Body(body.data, body.left, body.addr_len)
    copy.at = body.at
    while copy.at < body.at + size:
        out.append("\n\t    ")
        out.append(copy.address(_UNICAST))


def _register(out: list[str], body: _Body, kind: int, verbose: int,
              network: Network | None) -> None:
    body.need(4)
    flags = {0x80000000: "Border", 0x40000000: "Null"}.get(body.u32(), "none")
    out.append(f", Flags [ {flags} ]\n\t")
    body.skip(4)
    if not body.left:
        raise _Cut
    version = body.u8() >> 4
    if version == 0:
        if not body.captured(20):
            raise _Cut
        out.append(f"IP-Null-header {_ip(body.data[body.at + 12:body.at + 16])} > "
                   f"{_ip(body.data[body.at + 16:body.at + 20])}")
    elif version in (4, 6) and network is not None:
        out.append(network(version, body.data[body.at:], body.left))
    else:
        out.append(f"IP ver {version}")


def _register_stop(out: list[str], body: _Body, kind: int, verbose: int,
                   network: Network | None) -> None:
    out.append(" group=")
    out.append(body.address(_GROUP))
    out.append(" source=")
    out.append(body.address(_UNICAST))


def _join_prune(out: list[str], body: _Body, kind: int, verbose: int,
                network: Network | None) -> None:
    if kind != 7:
        out.append(", upstream-neighbor: ")
        out.append(body.address(_UNICAST))
    body.need(4)
    groups, holdtime = body.u8(1), body.u16(2)
    out.append(f"\n\t  {groups} group(s)")
    if kind != 7:
        out.append(", holdtime: " + ("infinite" if holdtime == 0xFFFF
                                     else relative_time(holdtime)))
    body.skip(4)
    for group in range(groups):
        out.append(f"\n\t    group #{group + 1}: ")
        out.append(body.address(_GROUP))
        body.need(4)
        joined, pruned = body.u16(), body.u16(2)
        out.append(f", joined sources: {joined}, pruned sources: {pruned}")
        body.skip(4)
        for word, count in (("joined", joined), ("pruned", pruned)):
            for index in range(count):
                out.append(f"\n\t      {word} source #{index + 1}: ")
                out.append(body.address(_SOURCE))


def _bootstrap(out: list[str], body: _Body, kind: int, verbose: int,
               network: Network | None) -> None:
    if body.left < 2:
        raise _Cut
    out.append(f" tag={body.u16():x}")
    body.skip(2)
    if body.left < 1:
        raise _Cut
    out.append(f" hashmlen={body.u8()}")
    if body.left < 2 or not body.captured(3):
        raise _Cut
    out.append(f" BSRprio={body.u8(1)}")
    body.skip(2)
    out.append(" BSR=")
    out.append(body.address(_UNICAST))
    group = 0
    while body.left:
        out.append(f" (group{group}: ")
        out.append(body.address(_GROUP))
        if body.left < 1:
            raise _Cut
        out.append(f" RPcnt={body.u8()}")
        if body.left < 2:
            raise _Cut
        fragment_count = body.u8(1)
        out.append(f" FRPcnt={fragment_count}")
        if body.left < 4:
            raise _Cut
        body.skip(4)
        rp = 0
        while rp < fragment_count and body.left:
            out.append(f" RP{rp}=")
            out.append(body.address(_UNICAST))
            if body.left < 2:
                raise _Cut
            out.append(",holdtime=")
            out.append(relative_time(body.u16()))
            if body.left < 3:
                raise _Cut
            out.append(f",prio={body.u8(2)}")
            if body.left < 4:
                raise _Cut
            body.skip(4)
            rp += 1
        out.append(")")
        group += 1


def _assert(out: list[str], body: _Body, kind: int, verbose: int,
            network: Network | None) -> None:
    out.append(" group=")
    out.append(body.address(_GROUP))
    out.append(" src=")
    out.append(body.address(_UNICAST))
    body.need(8)
    if body.u8() & 0x80:
        out.append(" RPT")
    out.append(f" pref={body.u32() & 0x7FFFFFFF} metric={body.u32(4)}")


def _candidate_rp(out: list[str], body: _Body, kind: int, verbose: int,
                  network: Network | None) -> None:
    if body.left < 1:
        raise _Cut
    prefixes = body.u8()
    out.append(f" prefix-cnt={prefixes}")
    if body.left < 2:
        raise _Cut
    out.append(f" prio={body.u8(1)}")
    if body.left < 4:
        raise _Cut
    out.append(" holdtime=")
    out.append(relative_time(body.u16(2)))
    body.skip(4)
    out.append(" RP=")
    out.append(body.address(_UNICAST))
    index = 0
    while index < prefixes and body.left:
        out.append(f" Group{index}=")
        out.append(body.address(_GROUP))
        index += 1


def _prune_refresh(out: list[str], body: _Body, kind: int, verbose: int,
                   network: Network | None) -> None:
    for word, kind_of in ((" src=", _UNICAST), (" grp=", _GROUP), (" forwarder=", _UNICAST)):
        out.append(word)
        out.append(body.address(kind_of))
    if body.left < 2:
        raise _Cut
    out.append(" TUNR ")
    out.append(relative_time(body.u16()))


def _df_election(out: list[str], body: _Body, kind: int, verbose: int,
                 network: Network | None) -> None:
    subtype = body.data[1] >> 4
    out.append(f"\n\t  {_DF_SUBTYPES.get(subtype, 'Unknown')},")
    out.append(" rpa=")
    out.append(body.address(_UNICAST))
    out.append(f" sender pref={body.u32()}")
    out.append(f" sender metric={body.u32(4)}")
    body.skip(8)
    if subtype in (3, 4):
        word = "offer" if subtype == 3 else "new winner"
        out.append(f"\n\t  {word} addr=")
        out.append(body.address(_UNICAST))
        out.append(f" {word} pref={body.u32()}")
        out.append(f" {word} metric={body.u32(4)}")
        body.skip(8)
        if subtype == 3:
            out.append(f" interval {body.u16()}ms")
