"""RSVP (RFC 2205) and RSVP-TE (RFC 3209 and its extensions), IP protocol 46, as
``tcpdump -n`` 4.99 prints it: the message type and length; -v every object of the
message (or of each message in a bundle) with its fields, -vv a hex dump of each too.
tcpdump checks that each object was captured whole before decoding it, so a cut ends
the line with `` [|rsvp]`` after the last whole object's header.

Not decoded like tcpdump (printed as a hex dump instead): the integrity object, whose
digest tcpdump checks against a secret."""

from __future__ import annotations

import struct

from .printer_gmpls import ENCODINGS, PAYLOADS, SWITCHING
from .printer_words import ETHERTYPES, ip4, ip6, safe_text, unknown_data_lines

__all__ = ["rsvp_text"]

_MESSAGES = {1: "Path", 2: "Resv", 3: "PathErr", 4: "ResvErr", 5: "PathTear", 6: "ResvTear",
             7: "ResvConf", 12: "Bundle", 13: "Acknowledgement", 14: "Hello (Old)",
             15: "Refresh", 20: "Hello"}
_OBJECTS = {1: "Session", 3: "RSVP Hop", 4: "Integrity", 5: "Time Values", 6: "Error Spec",
            7: "Scope", 8: "Style", 9: "Flowspec", 10: "FilterSpec", 11: "Sender Template",
            12: "Sender TSpec", 13: "Adspec", 14: "Policy Data", 15: "Confirm", 16: "Label",
            19: "Label Request", 20: "ERO", 21: "RRO", 22: "Hello", 23: "Message ID",
            24: "Message ID Ack", 25: "Message ID List", 34: "Recovery Label",
            35: "Upstream Label", 36: "Label Set", 130: "Acceptable Label Set", 63: "Detour",
            66: "Class Type", 125: "Class Type (old)", 129: "Suggested Label",
            204: "Properties", 205: "Fast Re-Route", 207: "Session Attribute",
            229: "Generalized UNI", 230: "Call-ID", 236: "Call Capability",
            131: "Restart Capability", 134: "Capability", 195: "Notify Request",
            37: "Protection", 196: "Administrative Status", 50: "Sub-LSP to LSP"}
_V4, _V6, _V4PLUS, _V6PLUS = "IPv4", "IPv6", "IPv4 plus opt. TLVs", "IPv6 plus opt. TLVs"
_LABELS = {1: "Label", 2: "Generalized Label", 3: "Waveband Switching"}
# (class, C-Type) -> the C-Type's name
_CTYPES = {
    **{(3, c): n for c, n in ((1, _V4), (2, _V6), (3, _V4PLUS), (4, _V6PLUS))},
    (195, 1): _V4, (195, 2): _V6, (15, 1): _V4, (15, 2): _V6, (5, 1): "1",
    (9, 1): "obsolete", (9, 2): "IntServ", (12, 2): "IntServ", (13, 2): "IntServ",
    (10, 1): _V4, (10, 2): _V6, (10, 3): "IPv6 Flow-label", (10, 7): "Tunnel IPv4",
    (10, 12): "IPv4 P2MP LSP Tunnel", (10, 13): "IPv6 P2MP LSP Tunnel",
    (1, 1): _V4, (1, 2): _V6, (1, 7): "Tunnel IPv4", (1, 11): "UNI IPv4",
    (1, 13): "IPv4 P2MP LSP Tunnel", (1, 14): "IPv6 P2MP LSP Tunnel",
    (11, 1): _V4, (11, 2): _V6, (11, 7): "Tunnel IPv4", (11, 12): "IPv4 P2MP LSP Tunnel",
    (11, 13): "IPv6 P2MP LSP Tunnel", (23, 1): "1", (24, 1): "Message id ack",
    (24, 2): "Message id nack", (25, 1): "1", (8, 1): "1", (22, 1): "Hello Request",
    (22, 2): "Hello Ack", (19, 1): "without label range", (19, 2): "with ATM label range",
    (19, 3): "with FR label range", (19, 4): "Generalized Label",
    **{(k, c): n for k in (16, 129, 35, 34) for c, n in _LABELS.items()},
    (20, 1): _V4, (21, 1): _V4,
    **{(6, c): n for c, n in ((1, _V4), (2, _V6), (3, _V4PLUS), (4, _V6PLUS))},
    (131, 1): _V4, (134, 1): "1", (207, 7): "Tunnel IPv4", (205, 7): "Tunnel IPv4",
    (205, 1): "1", (63, 7): "Tunnel IPv4", (204, 1): "1", (196, 1): "1", (66, 1): "1",
    (125, 1): "1", (36, 1): "1", (229, 1): "1", (50, 1): "IPv4 sub-LSP",
    (50, 2): "IPv6 sub-LSP"}
_SUBOBJECTS = {0: "Reserved", 1: "IPv4 prefix", 2: "IPv6 prefix", 3: "Label",
               32: "Autonomous system number", 64: "MPLS label switched path termination"}
_RRO_FLAGS = ((1, "Local protection available"), (2, "Local protection in use"),
              (4, "Bandwidth protection"), (8, "Node protection"))
_STYLES = {17: "Wildcard Filter", 10: "Fixed Filter", 18: "Shared Explicit"}
_SERVICES = {1: "Default/Global Information", 2: "Guaranteed Service", 5: "Controlled Load"}
_PARAMETERS = {4: "IS hop cnt", 6: "Path b/w estimate", 8: "Minimum path latency",
               10: "Composed MTU", 127: "Token Bucket TSpec", 130: "Guaranteed Service RSpec",
               133: "End-to-end composed value for C", 134: "End-to-end composed value for D",
               135: "Since-last-reshaping point composed C",
               136: "Since-last-reshaping point composed D"}
_SESSION_FLAGS = ((1, "Local Protection"), (2, "Label Recording"), (4, "SE Style"),
                  (8, "Bandwidth protection"), (16, "Node protection"))
_PROPERTY_TLVS = {1: "Cos", 2: "Metric 1", 4: "Metric 2", 8: "CCC Status", 16: "Path Type"}
_ERROR_CODES = {24: "Routing Problem", 25: "Notify Error", 28: "Diffserv TE Error",
                125: "Diffserv TE Error (Old)"}
_ROUTING_ERRORS = {1: "Bad EXPLICIT_ROUTE object", 2: "Bad strict node", 3: "Bad loose node",
                   4: "Bad initial subobject", 5: "No route available toward destination",
                   6: "Unacceptable label value", 7: "RRO indicated routing loops",
                   8: "non-RSVP-capable router in the path",
                   9: "MPLS label allocation failure", 10: "Unsupported L3PID"}
_DIFFSERV_ERRORS = {1: "Unexpected CT object", 2: "Unsupported CT", 3: "Invalid CT value",
                    4: "CT/setup priority do not form a configured TE-Class",
                    5: "CT/holding priority do not form a configured TE-Class",
                    6: "CT/setup priority and CT/holding priority do not form a configured "
                       "TE-Class",
                    7: "Inconsistency between signaled PSC and signaled CT",
                    8: "Inconsistency between signaled PHBs and signaled CT"}
_ADMIN_FLAGS = ((0x80000000, "Reflect"), (4, "Testing"), (2, "Admin-down"),
                (1, "Delete-in-progress"))
_CAPABILITY_FLAGS = ((4, "RecoveryPath Transmit Enabled"), (2, "RecoveryPath Desired"),
                     (1, "RecoveryPath Srefresh Capable"))
_LABEL_SET_ACTIONS = {0: "Inclusive list", 1: "Exclusive list", 2: "Inclusive range",
                      3: "Exclusive range"}
_DUMP = "\n\t    "
_TRUNC = " [|rsvp]"


class _Stop(Exception):  # noqa: N818 - not an error: where tcpdump ends the message
    """tcpdump's ``return -1`` from the object loop (after printing ``text``)."""


def _bits(value: int, names: tuple[tuple[int, str], ...]) -> str:
    return ", ".join(n for bit, n in names if value & bit) or "none"


def _alt_hex(value: int) -> str:
    """C's ``%#x``: no prefix for zero."""
    return f"{value:#x}" if value else "0"


def _f32(raw: bytes) -> float:
    return float(struct.unpack("!f", raw)[0])


def _g(value: float) -> str:
    """C's ``%.10g`` of a float (single precision, as tcpdump computes it)."""
    single = struct.unpack("!f", struct.pack("!f", value))[0]
    return f"{single:.10g}"


def rsvp_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the addresses (``data`` as captured, ``length`` the IP payload's)."""
    if len(data) < 8:
        return _TRUNC
    version, kind = data[0] >> 4, data[1]
    if version != 1:
        return f"ERROR: RSVP version {version} packet not supported"
    if not verbose:
        return f"RSVPv1 {_MESSAGES.get(kind, f'unknown ({kind})')} Message, length: {length}"
    out: list[str] = []
    try:
        _message(out, data, 0, "\n\t", verbose, top=True)
    except _Stop:
        pass
    return "".join(out)


def _header(out: list[str], data: bytes, at: int, indent: str) -> int:
    flags, kind, checksum, ttl, _, size = struct.unpack_from("!BBHBBH", data, at)
    name = _MESSAGES.get(kind, f"unknown, type: {kind}")
    flag_names = "Refresh reduction capable" if flags & 1 else "none"
    out.append(f"{indent}RSVPv{flags >> 4} {name} Message ({kind}), Flags: [{flag_names}], "
               f"length: {size}, ttl: {ttl}, checksum: 0x{checksum:04x}")
    if size < 8:
        out.append(f"ERROR: common header too short {size} < 8")
        raise _Stop
    return size


def _message(out: list[str], data: bytes, at: int, indent: str, verbose: int, *,
             top: bool) -> None:
    size = _header(out, data, at, indent)
    kind, left = data[at + 1], size - 8
    at += 8
    if kind == 12:
        while left > 0:
            if at + 8 > len(data):
                out.append(_TRUNC)
                raise _Stop
            if data[at] >> 4 != 1:
                out.append(f"ERROR: RSVP version {data[at] >> 4} packet not supported")
                raise _Stop
            sub = _header(out, data, at, "\n\t  ")
            if left < sub:
                out.append(f"ERROR: common header too large {sub} > {left}")
                raise _Stop
            _objects(out, data, at + 8, sub - 8, "\n\t    ", verbose)
            at += sub
            left -= sub
    elif kind in _MESSAGES:
        _objects(out, data, at, left, "\n\t  ", verbose)
    else:
        out.append(_DUMP + "Dissector error: print_unknown_data called with pointer past end "
                   "of packet" if at > len(data)
                   else unknown_data_lines(data[at:at + left], _DUMP))


def _objects(out: list[str], data: bytes, at: int, left: int, indent: str,
             verbose: int) -> None:
    while left >= 4:
        if at + 4 > len(data):
            out.append(_TRUNC)
            raise _Stop
        size, klass, ctype = struct.unpack_from("!HBB", data, at)
        if size % 4:
            out.append(f"{indent}ERROR: object header size {size} not a multiple of 4")
            raise _Stop
        if size < 4:
            out.append(f"{indent}ERROR: object header too short {size} < 4")
            raise _Stop
        unknown = ("ignore and forward" if klass & 0x40 else "ignore silently") \
            if klass & 0x80 else "reject"
        out.append(f"{indent}{_OBJECTS.get(klass, 'Unknown')} Object ({klass}) Flags: "
                   f"[{unknown} if unknown], Class-Type: "
                   f"{_CTYPES.get((klass, ctype), 'Unknown')} ({ctype}), length: {size}")
        if left < size:
            out.append(f"{indent}ERROR: object goes past end of objects TLV")
            raise _Stop
        if at + size > len(data):
            out.append(_TRUNC)
            raise _Stop
        body = data[at + 4:at + size]
        hexdump = _object(out, klass, ctype, body, indent, verbose)
        if verbose > 1 or hexdump:
            out.append(unknown_data_lines(body, _DUMP))
        at += size
        left -= size


def _short(out: list[str], indent: str, text: str = "object") -> bool:
    out.append(f"{indent}ERROR: {text} is too short")
    raise _Stop


def _object(out: list[str], klass: int, ctype: int, b: bytes, indent: str,
            verbose: int) -> bool:
    """Prints one object's fields; True when tcpdump hex-dumps it after them."""
    n = len(b)
    i = indent + "  "

    def u16(at: int) -> int:
        return int.from_bytes(b[at:at + 2], "big")

    def u24(at: int) -> int:
        return int.from_bytes(b[at:at + 3], "big")

    def u32(at: int) -> int:
        return int.from_bytes(b[at:at + 4], "big")

    if klass == 1:   # session
        if ctype == 1:
            n < 8 and _short(out, indent)
            out.append(f"{i}IPv4 DestAddress: {ip4(b[:4])}, Protocol ID: 0x{b[4]:02x}"
                       f"{i}Flags: [0x{b[5]:02x}], DestPort {u16(6)}")
        elif ctype == 2:
            n < 20 and _short(out, indent)
            out.append(f"{i}IPv6 DestAddress: {ip6(b[:16])}, Protocol ID: 0x{b[16]:02x}"
                       f"{i}Flags: [0x{b[17]:02x}], DestPort {u16(18)}")
        elif ctype == 8:
            n < 36 and _short(out, indent)
            out.append(f"{i}IPv6 Tunnel EndPoint: {ip6(b[:16])}, Tunnel ID: 0x{u16(18):04x}, "
                       f"Extended Tunnel ID: {ip6(b[20:36])}")
        elif ctype == 14:
            n < 26 and _short(out, indent)
            out.append(f"{i}IPv6 P2MP LSP ID: 0x{u32(0):08x}, Tunnel ID: 0x{u16(6):04x}, "
                       f"Extended Tunnel ID: {ip6(b[8:24])}")
        elif ctype == 13:
            n < 12 and _short(out, indent)
            out.append(f"{i}IPv4 P2MP LSP ID: {ip4(b[:4])}, Tunnel ID: 0x{u16(6):04x}, "
                       f"Extended Tunnel ID: {ip4(b[8:12])}")
        elif ctype in (7, 11):
            n < 12 and _short(out, indent)
            out.append(f"{i}IPv4 Tunnel EndPoint: {ip4(b[:4])}, Tunnel ID: 0x{u16(6):04x}, "
                       f"Extended Tunnel ID: {ip4(b[8:12])}")
        else:
            return True
    elif klass in (15, 195):   # confirm, notify request
        what = "Receiver" if klass == 15 else "Notify Node"
        if ctype == 1:
            n < 4 and _short(out, indent)
            out.append(f"{i}IPv4 {what} Address: {ip4(b[:4])}")
        elif ctype == 2:
            n < 16 and _short(out, indent)
            out.append(f"{i}IPv6 {what} Address: {ip6(b[:16])}")
        else:
            return True
    elif klass in (16, 34, 35, 129):   # labels
        if ctype == 1:
            for at in range(0, n - 3, 4):
                out.append(f"{i}Label: {u32(at)}")
        elif ctype == 2:
            n < 4 and _short(out, indent)
            out.append(f"{i}Generalized Label: {u32(0)}")
        elif ctype == 3:
            n < 12 and _short(out, indent)
            out.append(f"{i}Waveband ID: {u32(0)}{i}Start Label: {u32(4)}, "
                       f"Stop Label: {u32(8)}")
        else:
            return True
    elif klass == 8:   # style
        if ctype != 1:
            return True
        n < 4 and _short(out, indent)
        out.append(f"{i}Reservation Style: {_STYLES.get(u24(1), 'Unknown')}, "
                   f"Flags: [0x{b[0]:02x}]")
    elif klass in (10, 11):   # filter spec, sender template
        return _sender(out, klass, ctype, b, indent)
    elif klass == 19:   # label request
        return _label_request(out, ctype, b, indent)
    elif klass in (20, 21):   # ERO, RRO
        if ctype != 1:
            return True
        _route(out, b, indent)
    elif klass == 22:   # hello
        if ctype not in (1, 2):
            return True
        n < 8 and _short(out, indent)
        out.append(f"{i}Source Instance: 0x{u32(0):08x}, Destination Instance: "
                   f"0x{u32(4):08x}")
    elif klass == 131:   # restart capability
        if ctype != 1:
            return True
        n < 8 and _short(out, indent)
        out.append(f"{i}Restart  Time: {u32(0)}ms, Recovery Time: {u32(4)}ms")
    elif klass == 134:   # capability
        if ctype != 1:
            return True
        n < 4 and _short(out, indent)
        flags = u32(0)
        if flags & ~7:
            out.append(f"{i}[reserved=0x{flags & ~7 & 0xFFFFFFFF:08x} must be zero]")
        out.append(f"{i}Flags: [{_bits(flags & 7, _CAPABILITY_FLAGS)}]")
    elif klass == 207:   # session attribute
        if ctype != 7:
            return True
        n < 4 and _short(out, indent)
        name_len = b[3]
        n < 4 + name_len and _short(out, indent)
        out.append(f"{i}Session Name: {safe_text(b[4:4 + name_len])}"
                   f"{i}Setup Priority: {b[0]}, Holding Priority: {b[1]}, "
                   f"Flags: [{_bits(b[2], _SESSION_FLAGS)}] ({_alt_hex(b[2])})")
    elif klass == 3:   # hop
        if ctype in (1, 3):
            n < 8 and _short(out, indent)
            out.append(f"{i}Previous/Next Interface: {ip4(b[:4])}, Logical Interface "
                       f"Handle: 0x{u32(4):08x}")
            return n > 8
        if ctype in (2, 4):
            n < 20 and _short(out, indent)
            out.append(f"{i}Previous/Next Interface: {ip6(b[:16])}, Logical Interface "
                       f"Handle: 0x{u32(16):08x}")
        return True
    elif klass == 5:   # time values
        if ctype != 1:
            return True
        n < 4 and _short(out, indent)
        out.append(f"{i}Refresh Period: {u32(0)}ms")
    elif klass in (9, 12, 13):   # flowspec, sender tspec, adspec
        if ctype != 2:
            return True
        _intserv(out, b, indent, verbose)
    elif klass == 205:   # fast reroute
        if ctype not in (1, 7):
            return True
        n < (20 if ctype == 1 else 16) and _short(out, indent)
        bandwidth = _g(_f32(b[4:8]) * 8 / 1000000)
        out.append(f"{i}Setup Priority: {b[0]}, Holding Priority: {b[1]}, Hop-limit: {b[2]}, "
                   f"Bandwidth: {bandwidth} Mbps")
        if ctype == 1:
            out.append(f"{i}Include-any: 0x{u32(8):08x}, Exclude-any: 0x{u32(12):08x}, "
                       f"Include-all: 0x{u32(16):08x}")
        else:
            out.append(f"{i}Include Colors: 0x{u32(8):08x}, Exclude Colors: 0x{u32(12):08x}")
    elif klass == 63:   # detour
        if ctype != 7:
            return True
        for at in range(0, n - 7, 8):
            out.append(f"{i}PLR-ID: {ip4(b[at:at + 4])}, Avoid-Node-ID: {ip4(b[at + 4:at + 8])}")
    elif klass in (66, 125):   # class type
        if ctype != 1:
            return True
        n < 4 and _short(out, indent)
        out.append(f"{i}CT: {u32(0) & 7}")
    elif klass == 6:   # error spec
        return _error_spec(out, ctype, b, indent)
    elif klass == 204:   # properties
        if ctype != 1:
            return True
        _properties(out, b, indent)
    elif klass in (23, 24, 25):   # message ids
        if ctype not in (1, 2):
            return True
        n < 4 and _short(out, indent)
        out.append(f"{i}Flags [0x{b[0]:02x}], epoch: {u24(1)}")
        for at in range(4, n - 3, 4):
            out.append(f"{i}  Message-ID 0x{u32(at):08x} ({u32(at)})")
    elif klass == 196:   # admin status
        if ctype != 1:
            return True
        n < 4 and _short(out, indent)
        out.append(f"{i}Flags [{_bits(u32(0), _ADMIN_FLAGS)}]")
    elif klass == 36:   # label set
        if ctype != 1:
            return True
        n < 4 and _short(out, indent)
        action = u16(0) >> 8
        out.append(f"{i}Action: {_LABEL_SET_ACTIONS.get(action, 'Unknown')} ({action}), "
                   f"Label type: {u32(0) & 0x7F}")
        if action in (2, 3):
            n < 12 and _short(out, indent)
            out.append(f"{i}Start range: {u32(4)}, End range: {u32(8)}")
        else:
            for number, at in enumerate(range(4, n - 3, 4), 1):
                out.append(f"{i}Subchannel #{number}: {u32(at)}")
    elif klass == 50:   # S2L
        if ctype == 1:
            n < 4 and _short(out, indent)
            out.append(f"{i}Sub-LSP destination address: {ip4(b[:4])}")
        elif ctype == 2:
            n < 16 and _short(out, indent)
            out.append(f"{i}Sub-LSP destination address: {ip6(b[:16])}")
        else:
            return True
    elif klass == 229:   # OIF generalized UNI
        if ctype != 1:
            return True
        return _generalized_uni(out, b, indent)
    elif klass == 4:
        return True   # not decoded here (see the module's docstring)
    elif verbose <= 1:   # objects tcpdump has no decoder for
        out.append(unknown_data_lines(b, _DUMP))
    return False


_UNI_SUBOBJECTS = {1: "Source TNA address", 2: "Destination TNA address", 3: "Diversity",
                   4: "Egress label", 5: "Service level"}
_FAMILIES = {0: "Reserved", 1: "IPv4", 2: "IPv6", 3: "NSAP", 4: "HDLC", 5: "BBN 1822",
             6: "802", 7: "E.163", 8: "E.164", 9: "F.69", 10: "X.121", 11: "Novell IPX",
             12: "Appletalk", 13: "Decnet IV", 14: "Banyan Vines",
             15: "E.164 with NSAP subaddress", 196: "Layer-2 VPN", 25: "VPLS"}


def _generalized_uni(out: list[str], b: bytes, indent: str) -> bool:
    i = indent + "  "
    len(b) < 4 and _short(out, indent)
    hexdump, at, left, tlen = False, 0, len(b), len(b)

    def u32(offset: int) -> int:
        return int.from_bytes(b[at + offset:at + offset + 4], "big")

    while left > 0:
        if left < 4:
            out.append(" (invalid)")
            raise _Stop
        size = int.from_bytes(b[at:at + 2], "big")
        kind, family = b[at + 2], b[at + 3]
        out.append(f"{i}Subobject Type: {_UNI_SUBOBJECTS.get(kind, 'Unknown')} ({kind}), AF: "
                   f"{_FAMILIES.get(family, 'Unknown')} ({family}), length: {size}")
        if size < 4 or size > left or tlen < size:
            out.append(" (invalid)")
            raise _Stop
        if kind in (1, 2):
            if family == 1:
                size < 8 and _short(out, indent, "sub-object")
                out.append(f"{i}  UNI IPv4 TNA address: {ip4(b[at + 4:at + 8])}")
            elif family == 2:
                size < 20 and _short(out, indent, "sub-object")
                out.append(f"{i}  UNI IPv6 TNA address: {ip6(b[at + 4:at + 20])}")
            elif family == 3:
                hexdump = True
        elif kind == 3:
            hexdump = hexdump or size > 4
        elif kind == 4:
            size < 16 and _short(out, indent, "sub-object")
            out.append(f"{i}  U-bit: {u32(4) >> 31:x}, Label type: {u32(4) & 0xFF}, Logical "
                       f"port id: {u32(8)}, Label: {u32(12)}")
        elif kind == 5:
            size < 8 and _short(out, indent, "sub-object")
            out.append(f"{i}  Service level: {u32(4) >> 24}")
        else:
            hexdump = True
        left -= size
        at += size
        tlen += size   # as tcpdump keeps it: the object's length only grows
    return hexdump


def _sender(out: list[str], klass: int, ctype: int, b: bytes, indent: str) -> bool:
    n, i = len(b), indent + "  "

    def u16(at: int) -> int:
        return int.from_bytes(b[at:at + 2], "big")

    if ctype == 1:
        n < 8 and _short(out, indent)
        out.append(f"{i}Source Address: {ip4(b[:4])}, Source Port: {u16(6)}")
    elif ctype == 2:
        n < 20 and _short(out, indent)
        out.append(f"{i}Source Address: {ip6(b[:16])}, Source Port: {u16(18)}")
    elif ctype == 3 and klass == 10:
        n < 20 and _short(out, indent)
        out.append(f"{i}Source Address: {ip6(b[:16])}, Flow Label: "
                   f"{int.from_bytes(b[17:20], 'big')}")
    elif ctype == 8 and klass == 10:
        n < 20 and _short(out, indent)
        out.append(f"{i}Source Address: {ip4(b[:4])}, LSP-ID: 0x{u16(18):04x}")
    elif ctype == 13:
        n < 40 and _short(out, indent)
        out.append(f"{i}IPv6 Tunnel Sender Address: {ip6(b[:16])}, LSP ID: 0x{u16(18):04x}"
                   f"{i}Sub-Group Originator ID: {ip6(b[20:36])}, Sub-Group ID: "
                   f"0x{u16(38):04x}")
    elif ctype == 7:
        n < 8 and _short(out, indent)
        label = "IPv4 Tunnel Sender Address" if klass == 11 else "Source Address"
        out.append(f"{i}{label}: {ip4(b[:4])}, LSP-ID: 0x{u16(6):04x}")
    elif ctype == 12:
        n < 16 and _short(out, indent)
        out.append(f"{i}IPv4 Tunnel Sender Address: {ip4(b[:4])}, LSP ID: 0x{u16(6):04x}"
                   f"{i}Sub-Group Originator ID: {ip4(b[8:12])}, Sub-Group ID: "
                   f"0x{u16(12):04x}")
    else:
        return True
    return False


def _protocol(value: int) -> str:
    return ETHERTYPES.get(value, f"Unknown Protocol (0x{value:04x})")


def _label_request(out: list[str], ctype: int, b: bytes, indent: str) -> bool:
    n, i = len(b), indent + "  "

    def u16(at: int) -> int:
        return int.from_bytes(b[at:at + 2], "big")

    def u32(at: int) -> int:
        return int.from_bytes(b[at:at + 4], "big")

    if ctype == 1:
        for at in range(0, n - 3, 4):
            out.append(f"{i}L3 Protocol ID: {_protocol(u16(at + 2))}")
    elif ctype == 2:
        n < 12 and _short(out, indent)
        out.append(f"{i}L3 Protocol ID: {_protocol(u16(2))}"
                   f",{'no' if b[4] & 0x80 else ''} merge capability"
                   f"{i}Minimum VPI/VCI: {u16(4) & 0xFFF}/{u16(6) & 0xFFF}"
                   f"{i}Maximum VPI/VCI: {u16(8) & 0xFFF}/{u16(10) & 0xFFF}")
    elif ctype == 3:
        n < 12 and _short(out, indent)
        width = (u16(4) >> 7) & 3
        out.append(f"{i}L3 Protocol ID: {_protocol(u16(2))}"
                   f"{i}Minimum/Maximum DLCI: {u32(4) & 0x7FFFFF}/{u32(8) & 0x7FFFFF}, "
                   f"{'10' if width == 0 else ''}{'23' if width == 2 else ''} bit DLCI")
    elif ctype == 4:
        n < 4 and _short(out, indent)
        out.append(f"{i}LSP Encoding Type: {ENCODINGS.get(b[0], 'Unknown')} ({b[0]})"
                   f"{i}Switching Type: {SWITCHING.get(b[1], 'Unknown')} ({b[1]}), Payload ID: "
                   f"{PAYLOADS.get(u16(2), 'Unknown')} (0x{u16(2):04x})")
    else:
        return True
    return False


def _route(out: list[str], b: bytes, indent: str) -> None:
    i, at, left = indent + "  ", 0, len(b)
    while left >= 4:
        kind, size = b[at] & 0x7F, b[at + 1]
        out.append(f"{i}Subobject Type: {_SUBOBJECTS.get(kind, f'Unknown {kind}')}, "
                   f"length {size}")
        if left < size:
            out.append(f"{i}ERROR: ERO subobject length > object length")
            return
        if size == 0:
            out.append(f"{i}ERROR: zero length ERO subtype")
            return
        if kind in (1, 3):
            if size != 8:
                out.append(" ERROR: length != 8 (invalid)")
                raise _Stop
            if kind == 1:
                if b[at + 6] != 32:
                    out.append(f" ERROR: Prefix length {b[at + 6]} != 32 (invalid)")
                    raise _Stop
                out.append(f", {'Loose' if b[at] & 0x80 else 'Strict'}, "
                           f"{ip4(b[at + 2:at + 6])}/{b[at + 6]}, "
                           f"Flags: [{_bits(b[at + 7], _RRO_FLAGS)}]")
            else:
                flags, ctype = b[at + 2], b[at + 3]
                out.append(f", Flags: [{'Global' if flags & 1 else 'none'}] "
                           f"({_alt_hex(flags)}), Class-Type: "
                           f"{_CTYPES.get((21, ctype), 'Unknown')} ({ctype}), "
                           f"{int.from_bytes(b[at + 4:at + 8], 'big')}")
        left -= size
        at += size


def _intserv(out: list[str], b: bytes, indent: str, verbose: int) -> None:
    i = indent + "  "
    len(b) < 4 and _short(out, indent)
    out.append(f"{i}Msg-Version: {b[0] >> 4}, length: {int.from_bytes(b[2:4], 'big') << 2}")
    at, left = 4, len(b) - 4
    while left >= 4:
        service_len = int.from_bytes(b[at + 2:at + 4], "big") << 2
        out.append(f"{i}Service Type: {_SERVICES.get(b[at], 'unknown')} ({b[at]}), break "
                   f"bit {'' if b[at + 1] & 0x80 else 'not '}set, Service length: "
                   f"{service_len}")
        at += 4
        left -= 4
        while service_len >= 4:
            done = _parameter(out, b, at, left, verbose)
            if not done:
                break
            left -= done
            service_len = (service_len - done) & 0xFFFFFFFF   # unsigned, as tcpdump's
            at += done


def _parameter(out: list[str], b: bytes, at: int, left: int, verbose: int) -> int:
    if left < 4:
        return 0
    ident, size = b[at], int.from_bytes(b[at + 2:at + 4], "big") << 2
    out.append(f"\n\t      Parameter ID: {_PARAMETERS.get(ident, 'unknown')} ({ident}), "
               f"length: {size}, Flags: [0x{b[at + 1]:02x}]")
    if left < size + 4:
        return 0

    def u32(offset: int) -> int:
        return int.from_bytes(b[at + offset:at + offset + 4], "big")

    def rate(offset: int) -> str:
        return _g(_f32(b[at + offset:at + offset + 4]) / 125000)

    if ident == 4 and size == 4:
        out.append(f"\n\t\tIS hop count: {u32(4)}")
    elif ident == 6 and size == 4:
        out.append(f"\n\t\tPath b/w estimate: {rate(4)} Mbps")
    elif ident == 8 and size == 4:
        out.append("\n\t\tMinimum path latency: "
                   + ("don't care" if u32(4) == 0xFFFFFFFF else str(u32(4))))
    elif ident == 10 and size == 4:
        out.append(f"\n\t\tComposed MTU: {u32(4)} bytes")
    elif ident == 127 and size == 20:
        out.append(f"\n\t\tToken Bucket Rate: {rate(4)} Mbps"
                   f"\n\t\tToken Bucket Size: {_g(_f32(b[at + 8:at + 12]))} bytes"
                   f"\n\t\tPeak Data Rate: {rate(12)} Mbps"
                   f"\n\t\tMinimum Policed Unit: {u32(16)} bytes"
                   f"\n\t\tMaximum Packet Size: {u32(20)} bytes")
    elif ident == 130 and size == 8:
        out.append(f"\n\t\tRate: {rate(4)} Mbps\n\t\tSlack Term: {u32(8)}")
    elif ident in (133, 134, 135, 136) and size == 4:
        out.append(f"\n\t\tValue: {u32(4)}")
    elif ident not in (4, 6, 8, 10, 127, 130, 133, 134, 135, 136) and verbose <= 1:
        out.append(unknown_data_lines(b[at + 4:at + 4 + size], "\n\t\t"))
    return size + 4


def _error_spec(out: list[str], ctype: int, b: bytes, indent: str) -> bool:
    n, i = len(b), indent + "  "
    if ctype in (1, 3):
        n < 8 and _short(out, indent)
        address, flags, code = ip4(b[:4]), b[4], b[5]
        value = int.from_bytes(b[6:8], "big")
    elif ctype in (2, 4):
        n < 20 and _short(out, indent)
        address, flags, code = ip6(b[:16]), b[16], b[17]
        value = int.from_bytes(b[18:20], "big")
    else:
        return True
    out.append(f"{i}Error Node Address: {address}, Flags: [0x{flags:02x}]{i}Error Code: "
               f"{_ERROR_CODES.get(code, 'unknown')} ({code})")
    if code == 24:
        out.append(f", Error Value: {_ROUTING_ERRORS.get(value, 'unknown')} ({value})")
    elif ctype in (1, 3) and code in (28, 125):
        out.append(f", Error Value: {_DIFFSERV_ERRORS.get(value, 'unknown')} ({value})")
    elif ctype in (1, 3):
        out.append(f", Unknown Error Value ({value})")
    return False


def _properties(out: list[str], b: bytes, indent: str) -> None:
    i = indent + "  "
    len(b) < 4 and _short(out, indent)
    padding = int.from_bytes(b[2:4], "big")
    out.append(f"{i}TLV count: {int.from_bytes(b[0:2], 'big')}, padding bytes: {padding}")
    at, left = 4, len(b) - 4
    while left >= 2 + padding:
        kind, size = b[at], b[at + 1]
        out.append(f"{i}  {_PROPERTY_TLVS.get(kind, 'unknown')} TLV (0x{kind:02x}), "
                   f"length: {size}")
        left < size and _short(out, indent)
        if size < 2:
            out.append(f"{indent}ERROR: property TLV is too short")
            raise _Stop
        out.append(unknown_data_lines(b[at + 2:at + size], "\n\t\t"))
        left -= size
        at += size
