"""MPLS's Label Distribution Protocol (RFC 5036; pseudowires RFC 4447, fault tolerance
RFC 3479, MTU RFC 3988) on UDP and TCP port 646 as ``tcpdump -n`` 4.99 prints it.

Without -v the first PDU's LSR and label space; -v walks every PDU's messages and their
TLVs (hello parameters, transport addresses, address lists, session parameters, the first
FEC element of a FEC TLV with a pseudowire's interface parameters, labels, status, fault
tolerance, MTU; the others as a dump), -vv dumps each message too.

Lengths are tcpdump's 16-bit counts (a message longer than its PDU wraps the count and
the walk goes on until the capture ends); a read beyond the capture leaves the packet
with `` [|ldp]``, as does a prefix longer than its TLV."""

from __future__ import annotations

from .printer_words import LongJump, Words, ip4, ip6, safe_text

__all__ = ["ldp_text"]

_MESSAGES = {0x0001: "Notification", 0x0100: "Hello", 0x0200: "Initialization",
             0x0201: "Keepalive", 0x0300: "Address", 0x0301: "Address Withdraw",
             0x0400: "Label Mapping", 0x0401: "Label Request", 0x0402: "Label Withdraw",
             0x0403: "Label Release", 0x0404: "Label Abort Request"}
_WALKED = (0x0001, 0x0100, 0x0200, 0x0201, 0x0300, 0x0400, 0x0301, 0x0402)
_TLVS = {0x0100: "FEC", 0x0101: "Address List", 0x0103: "Hop Count", 0x0104: "Path Vector",
         0x0200: "Generic Label", 0x0201: "ATM Label", 0x0202: "Frame-Relay Label",
         0x0300: "Status", 0x0301: "Extended Status", 0x0302: "Returned PDU",
         0x0303: "Returned Message", 0x0400: "Common Hello Parameters",
         0x0401: "IPv4 Transport Address", 0x0402: "Configuration Sequence Number",
         0x0403: "IPv6 Transport Address", 0x0500: "Common Session Parameters",
         0x0501: "ATM Session Parameters", 0x0502: "Frame-Relay Session Parameters",
         0x0503: "Fault-Tolerant Session Parameters", 0x0600: "Label Request Message ID",
         0x0601: "MTU"}
# the fewest value bytes each decoded TLV needs
_MINIMUM = {0x0400: 4, 0x0401: 4, 0x0403: 16, 0x0402: 4, 0x0101: 2, 0x0500: 8, 0x0100: 1,
            0x0200: 4, 0x0300: 8, 0x0503: 12, 0x0601: 2}
# address family numbers (IANA's), as tcpdump names them
_FAMILIES = {0: "Reserved", 1: "IPv4", 2: "IPv6", 3: "NSAP", 4: "HDLC", 5: "BBN 1822",
             6: "802", 7: "E.163", 8: "E.164", 9: "F.69", 10: "X.121", 11: "Novell IPX",
             12: "Appletalk", 13: "Decnet IV", 14: "Banyan Vines",
             15: "E.164 with NSAP subaddress", 196: "Layer-2 VPN", 25: "VPLS"}
_FECS = {1: "Wildcard", 2: "Prefix", 3: "Host address", 0x80: "Martini VC"}
_PSEUDOWIRES = {0x00: "Reserved", 0x01: "Frame Relay DLCI (Martini Mode)",
                0x02: "ATM AAL5 SDU VCC transport", 0x03: "ATM transparent cell transport",
                0x04: "Ethernet VLAN", 0x05: "Ethernet", 0x06: "Cisco-HDLC", 0x07: "PPP",
                0x08: "SONET/SDH Circuit Emulation Service over MPLS",
                0x09: "ATM n-to-one VCC cell transport",
                0x0A: "ATM n-to-one VPC cell transport", 0x0B: "IP Layer2 Transport",
                0x0C: "ATM one-to-one VCC Cell Mode", 0x0D: "ATM one-to-one VPC Cell Mode",
                0x0E: "ATM AAL5 PDU VCC transport", 0x0F: "Frame-Relay Port mode",
                0x10: "SONET/SDH Circuit Emulation over Packet",
                0x11: "Structure-agnostic E1 over Packet",
                0x12: "Structure-agnostic T1 (DS1) over Packet",
                0x13: "Structure-agnostic E3 over Packet",
                0x14: "Structure-agnostic T3 (DS3) over Packet",
                0x15: "CESoPSN basic mode", 0x16: "TDMoIP basic mode",
                0x17: "CESoPSN TDM with CAS", 0x18: "TDMoIP TDM with CAS",
                0x19: "Frame Relay DLCI", 0x40: "IP-interworking"}
_PARAMETERS = {0x01: "MTU", 0x03: "Description", 0x0C: "VCCV"}
_CHANNELS = ((0x01, "PWE3 control word"), (0x02, "MPLS Router Alert Label"),
             (0x04, "MPLS inner label TTL = 1"))
_CV_TYPES = ((0x01, "ICMP Ping"), (0x02, "LSP Ping"), (0x04, "BFD"))
_PDU_HEADER, _MESSAGE_HEADER = 10, 8


def _bits(table: tuple[tuple[int, str], ...], value: int) -> str:
    return ", ".join(name for bit, name in table if value & bit) or "none"


class _Out(Words):
    def addr(self, at: int, size: int = 4) -> str:
        self.get(at, size)
        return (ip4 if size == 4 else ip6)(self.data[at:at + size])


def ldp_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the ports for ``length`` bytes of LDP PDUs."""
    out = _Out(data, "ldp")
    at = 0
    try:
        while length > _PDU_HEADER + _MESSAGE_HEADER:
            used = _pdu(out, at, verbose)
            if not used:
                break
            if length < used:
                out.add(f" [remaining length {length} < {used}] (invalid)")
                break
            length, at = length - used, at + used
    except LongJump as jump:
        return jump.text + " [|ldp]"
    return out.text()


def _pdu(out: _Out, at: int, verbose: int) -> int:
    """Prints one PDU; its size (0: stop)."""
    out.get(at, _PDU_HEADER)
    lead = "\n\t" if verbose else ""
    version = out.get(at, 2)
    if version != 1:
        out.add(f"{lead}LDP version {version} packet not supported")
        return 0
    size = out.get(at + 2, 2)
    if size < _PDU_HEADER - 4:
        out.add(f"{lead}LDP, pdu-length: {size} (too short, < {_PDU_HEADER - 4})")
        return 0
    out.add(f"{lead}LDP, Label-Space-ID: {out.addr(at + 4)}:{out.get(at + 8, 2)}, "
            f"pdu-length: {size}")
    if not verbose:
        return 0
    left = size - (_PDU_HEADER - 4)
    message = at + _PDU_HEADER
    while left > 0:
        out.get(message, _MESSAGE_HEADER)
        size_field, kind = out.get(message + 2, 2), out.get(message, 2) & 0x7FFF
        name = _MESSAGES.get(kind, "Unknown")
        if size_field < _MESSAGE_HEADER - 4:
            out.add(f"\n\t  {name} Message (0x{kind:04x}), length: {size_field} (too short, < "
                    f"{_MESSAGE_HEADER - 4})")
            return 0
        out.add(f"\n\t  {name} Message (0x{kind:04x}), length: {size_field}, Message ID: "
                f"0x{out.get(message + 4, 4):08x}, Flags: ["
                f"{'continue processing' if out.get(message, 2) & 0x8000 else 'ignore'} "
                "if unknown]")
        body, body_left = message + _MESSAGE_HEADER, size_field - (_MESSAGE_HEADER - 4)
        out.get(message, size_field)
        if kind in _WALKED:
            while body_left >= 4:
                used = _tlv(out, body, body_left, verbose)
                if not used:
                    break
                body, body_left = body + used, body_left - used
        elif verbose <= 1:
            out.dump(body, body_left, "\n\t  ")
        if verbose > 1:   # tcpdump dumps as many bytes as the length field counts
            out.dump(message + _MESSAGE_HEADER, size_field, "\n\t  ")
        message += size_field + 4
        left = (left - size_field - 4) & 0xFFFF
    return size + 4


def _tlv(out: _Out, at: int, left: int, verbose: int) -> int:
    """Prints one TLV of a message; its size (0: it does not fit the message)."""
    out.get(at, 4)
    size = out.get(at + 2, 2)
    if size + 4 > left:
        out.add("\n\t\t TLV contents go past end of message")
        return 0
    word = out.get(at, 2)
    kind = word & 0x3FFF
    process = "continue processing" if word & 0x8000 else "ignore"
    forward = "do" if word & 0x4000 else "don't"
    out.add(f"\n\t    {_TLVS.get(kind, 'Unknown')} TLV (0x{kind:04x}), length: {size}, Flags: ["
            f"{process} and {forward} forward if unknown]")
    value = at + 4
    if kind in _MINIMUM and size < _MINIMUM[kind]:
        out.add(f" [tlv length {size} < {_MINIMUM[kind]}] (invalid)")
    elif kind in _MINIMUM:
        _value(out, kind, value, size)
    elif verbose <= 1:
        out.dump(value, size, "\n\t      ")
    return size + 4


def _value(out: _Out, kind: int, at: int, size: int) -> None:
    get = out.get
    if kind == 0x0400:
        flags = get(at + 2, 2)
        out.add(f"\n\t      Hold Time: {get(at, 2)}s, Flags: ["
                f"{'Targeted' if flags & 0x8000 else 'Link'} Hello"
                f"{', Request for targeted Hellos' if flags & 0x4000 else ''}]")
    elif kind == 0x0401:
        out.add(f"\n\t      IPv4 Transport Address: {out.addr(at)}")
    elif kind == 0x0403:
        out.add(f"\n\t      IPv6 Transport Address: {out.addr(at, 16)}")
    elif kind == 0x0402:
        out.add(f"\n\t      Sequence Number: {get(at, 4)}")
    elif kind == 0x0101:
        family = get(at, 2)
        out.add(f"\n\t      Address Family: {_FAMILIES.get(family, f'Unknown ({family})')}, "
                "addresses")
        width = {1: 4, 2: 16}.get(family)
        if width:
            for address in range(at + 2, at + 2 + (size - 2) // width * width, width):
                out.add(" " + out.addr(address, width))
    elif kind == 0x0500:
        flags = get(at + 6, 2)
        out.add(f"\n\t      Version: {get(at, 2)}, Keepalive: {get(at + 2, 2)}s, Flags: "
                f"[Downstream {'On Demand' if flags & 0x8000 else 'Unsolicited'}, Loop "
                f"Detection {'Enabled' if flags & 0x4000 else 'Disabled'}]")
    elif kind == 0x0100:
        _fec(out, at, size)
    elif kind == 0x0200:
        out.add(f"\n\t      Label: {get(at, 4) & 0xFFFFF}")
    elif kind == 0x0300:
        status = get(at, 4)
        out.add(f"\n\t      Status: 0x{status & 0x3FFFFFFF:02x}, Flags: ["
                f"{'Fatal error' if status & 0x80000000 else 'Advisory Notification'} and "
                + ("do" if status & 0x40000000 else "don't") + " forward]")
        if get(at + 4, 4):
            out.add(f", causing Message ID: 0x{get(at + 4, 4):08x}")
    elif kind == 0x0503:
        flags = get(at, 2)
        save = "" if flags & 0x8 else "Don't "
        out.add(f"\n\t      Flags: [{'' if flags & 0x8000 else 'No '}Reconnect, {save}Save State, "
                f"{'' if flags & 0x4 else 'No '}All-Label Protection, "
                f"{'Sequence Numbered Label' if flags & 0x2 else 'All Labels'} Checkpoint, "
                + ("" if flags & 0x1 else "Don't ") + "Re-Learn State]")
        if get(at + 4, 4):
            out.add(f", Reconnect Timeout: {get(at + 4, 4)}ms")
        if get(at + 8, 4):
            out.add(f", Recovery Time: {get(at + 8, 4)}ms")
    else:
        out.add(f"\n\t      MTU: {get(at, 2)}")


def _fec(out: _Out, at: int, size: int) -> None:
    """The first FEC element of a FEC TLV."""
    fec = out.get(at)
    out.add(f"\n\t      {_FECS.get(fec, 'Unknown')} FEC (0x{fec:02x})")
    at, size = at + 1, size - 1
    if fec == 2:
        if size < 2:
            out.add(f" [tlv length {size} < 2] (invalid)")
            return
        family = out.get(at, 2)
        if family in (1, 2):
            width = 4 if family == 1 else 16
            name = "IPv4" if family == 1 else "IPv6"
            prefix = _prefix(out, at + 2, size - 2, width)
            out.add(f": {name} prefix " + (prefix or "(invalid length)"))
        else:
            out.add(f": Address family {family} prefix")
    elif fec == 0x80:
        _pseudowire(out, at, size)


def _prefix(out: _Out, at: int, left: int, width: int) -> str:
    """A length-prefixed address as ``a/len`` (empty: a length beyond the address)."""
    if left < 1:
        raise LongJump(out.text(), out.proto)
    bits = out.get(at)
    if bits > 8 * width:
        return ""
    size = (bits + 7) // 8
    if left - 1 < size:
        raise LongJump(out.text(), out.proto)
    out.get(at + 1, size)
    raw = bytearray(out.data[at + 1:at + 1 + size].ljust(width, b"\0"))
    if bits % 8:
        raw[size - 1] &= (0xFF00 >> (bits % 8)) & 0xFF
    return f"{(ip4 if width == 4 else ip6)(bytes(raw))}/{bits}"


def _pseudowire(out: _Out, at: int, size: int) -> None:
    get = out.get
    if size < 7:
        out.add(f" [tlv length {size} < 7] (invalid)")
        return
    info = get(at + 2)
    kind = get(at, 2)
    name = _PSEUDOWIRES.get(kind & 0x7FFF, "Unknown")
    word = "" if kind & 0x8000 else "no "
    if not info:
        out.add(f": {name}, {word}control word, group-ID {get(at + 3, 4)}, VC-info-length: 0")
        return
    if size < 11:
        out.add(f" [tlv length {size} < 11] (invalid)")
        return
    out.add(f": {name}, {word}control word, group-ID {get(at + 3, 4)}, VC-ID "
            f"{get(at + 7, 4)}, VC-info-length: {info}")
    if info < 4:
        out.add(" (invalid, < 4")
        return
    info, at, size = info - 4, at + 11, size - 11
    if size < info:
        out.add(f" [tlv length {size} < {info}] (invalid)")
        return
    while info > 2:
        kind, length = get(at), get(at + 1)
        if length < 2 or info < length:
            break
        out.add(f"\n\t\tInterface Parameter: {_PARAMETERS.get(kind, 'Unknown')} "
                f"(0x{kind:02x}), len {length}")
        if kind == 0x01:
            out.add(f": {get(at + 2, 2)}")
        elif kind == 0x03:
            out.add(": ")
            for index in range(2, length):
                out.add(safe_text(bytes([get(at + index)])))
        elif kind == 0x0C:
            channels = get(at + 2)
            out.add(f"\n\t\t  Control Channels (0x{channels:02x}) = "
                    f"[{_bits(_CHANNELS, channels)}]")
            types = get(at + 3)
            out.add(f"\n\t\t  CV Types (0x{types:02x}) = [{_bits(_CV_TYPES, types)}]")
        else:
            out.dump(at + 2, length - 2, "\n\t\t  ")
        info, at = info - length, at + length
