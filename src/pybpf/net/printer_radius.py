"""RADIUS (RFC 2865/2866 and their extensions) on UDP ports 1812/1813 and the old ones, as
``tcpdump -n`` 4.99 prints it: code, id and length; -v adds the authenticator and every
attribute decoded by its kind (text, number or named value, address, tag, vendor, EAP),
-vv a hex dump of each. Where the capture ends tcpdump prints `` [|radius]``: inside an
attribute it checks first it says so and goes on to the next (which then ends the line);
a field it reads without checking leaves the packet."""

from __future__ import annotations

import struct
import time

from .printer_bootp import _ntp_time
from .printer_words import Words, ip4, ip6, safe_text

__all__ = ["radius_text"]

_CODES = {1: "Access-Request", 2: "Access-Accept", 3: "Access-Reject",
          4: "Accounting-Request", 5: "Accounting-Response", 11: "Access-Challenge",
          12: "Status-Server", 13: "Status-Client", 40: "Disconnect-Request",
          41: "Disconnect-ACK", 42: "Disconnect-NAK", 43: "CoA-Request", 44: "CoA-ACK",
          45: "CoA-NAK", 255: "Reserved"}

# named values of the numeric attributes: (names, the first value named)
_SERVICE = ("Login", "Framed", "Callback Login", "Callback Framed", "Outbound",
            "Administrative", "NAS Prompt", "Authenticate Only", "Callback NAS Prompt",
            "Call Check", "Callback Administrative", "Voice", "Fax", "Modem Relay",
            "IAPP-Register", "IAPP-AP-Check", "Authorize Only", "Framed-Management",
            "Additional-Authorization")
_PORT_TYPES = ("Async", "Sync", "ISDN Sync", "ISDN Async V.120", "ISDN Async V.110", "Virtual",
               "PIAFS", "HDLC Clear Channel", "X.25", "X.75", "G.3 Fax", "SDSL", "ADSL-CAP",
               "ADSL-DMT", "ISDN-DSL", "Ethernet", "xDSL", "Cable", "Wireless - Other",
               "Wireless - IEEE 802.11", "Token-Ring", "FDDI", "Wireless - CDMA200",
               "Wireless - UMTS", "Wireless - 1X-EV", "IAPP", "FTTP", "Wireless - IEEE 802.16",
               "Wireless - IEEE 802.20", "Wireless - IEEE 802.22", "PPPoA", "PPPoEoA",
               "PPPoEoE", "PPPoEoVLAN", "PPPoEoQinQ", "xPON", "Wireless - XGP",
               "WiMAX Pre-Release 8 IWK Function", "WIMAX-WIFI-IWK", "WIMAX-SFF",
               "WIMAX-HA-LMA", "WIMAX-DHCP", "WIMAX-LBS", "WIMAX-WVS")
_ACCT_STATUS = ("Start", "Stop", "Interim-Update", "Unassigned", "Unassigned", "Unassigned",
                "Accounting-On", "Accounting-Off", "Tunnel-Start", "Tunnel-Stop",
                "Tunnel-Reject", "Tunnel-Link-Start", "Tunnel-Link-Stop",
                "Tunnel-Link-Reject", "Failed")
_ACCT_TERM = ("User Request", "Lost Carrier", "Lost Service", "Idle Timeout",
              "Session Timeout", "Admin Reset", "Admin Reboot", "Port Error", "NAS Error",
              "NAS Request", "NAS Reboot", "Port Unneeded", "Port Preempted", "Port Suspended",
              "Service Unavailable", "Callback", "User Error", "Host Request",
              "Supplicant Restart", "Reauthentication Failure", "Port Reinitialized",
              "Port Administratively Disabled", "Lost Power")
_TUNNEL_TYPES = ("PPTP", "L2F", "L2TP", "ATMP", "VTP", "AH", "IP-IP", "MIN-IP-IP", "ESP", "GRE",
                 "DVS", "IP-in-IP Tunneling", "VLAN")
_TUNNEL_MEDIA = ("IPv4", "IPv6", "NSAP", "HDLC", "BBN 1822", "802", "E.163", "E.164", "F.69",
                 "X.121", "IPX", "Appletalk", "Decnet IV", "Banyan Vines",
                 "E.164 with NSAP subaddress")
_VALUES: dict[int, tuple[tuple[str, ...], int]] = {
    6: (_SERVICE, 1),
    7: (("PPP", "SLIP", "ARAP", "Gandalf proprietary", "Xylogics IPX/SLIP",
         "X.75 Synchronous", "GPRS PDP Context"), 1),
    10: (("None", "Send", "Listen", "Send&Listen"), 0),
    13: (("None", "VJ TCP/IP", "IPX", "Stac-LZS"), 0),
    15: (("Telnet", "Rlogin", "TCP Clear", "PortMaster(proprietary)", "LAT", "X.25-PAD",
          "X.25-T3POS", "Unassigned", "TCP Clear Quiet"), 0),
    29: (("Default", "RADIUS-Request"), 0),
    40: (_ACCT_STATUS, 1), 45: (("RADIUS", "Local", "Remote", "Diameter"), 1),
    49: (_ACCT_TERM, 1), 57: (("Enabled", "Disabled"), 1), 61: (_PORT_TYPES, 0),
    64: (_TUNNEL_TYPES, 1), 65: (_TUNNEL_MEDIA, 1),
    72: (("Only access to dfl zone", "Use zone filter inc.", "Not used",
          "Use zone filter exc."), 1),
    76: (("No Echo", "Echo"), 0),
}

# the attributes tcpdump names, by number: (name, how the value is printed; "" not at all)
_S, _N, _A, _A6, _P6 = "string", "num", "address", "address6", "netmask6"
_ATTRS: tuple[tuple[str, str], ...] = (
    ("", ""), ("User-Name", _S), ("User-Password", ""), ("CHAP-Password", ""),
    ("NAS-IP-Address", _A), ("NAS-Port", _N), ("Service-Type", _N), ("Framed-Protocol", _N),
    ("Framed-IP-Address", _A), ("Framed-IP-Netmask", _A), ("Framed-Routing", _N),
    ("Filter-Id", _S), ("Framed-MTU", _N), ("Framed-Compression", _N), ("Login-IP-Host", _A),
    ("Login-Service", _N), ("Login-TCP-Port", _N), ("Unassigned", ""), ("Reply-Message", _S),
    ("Callback-Number", _S), ("Callback-Id", _S), ("Unassigned", ""), ("Framed-Route", _S),
    ("Framed-IPX-Network", _N), ("State", _S), ("Class", _S), ("Vendor-Specific", "vendor"),
    ("Session-Timeout", _N), ("Idle-Timeout", _N), ("Termination-Action", _N),
    ("Called-Station-Id", _S), ("Calling-Station-Id", _S), ("NAS-Identifier", _S),
    ("Proxy-State", _S), ("Login-LAT-Service", _S), ("Login-LAT-Node", _S),
    ("Login-LAT-Group", _S), ("Framed-AppleTalk-Link", _N), ("Framed-AppleTalk-Network", _N),
    ("Framed-AppleTalk-Zone", _S), ("Acct-Status-Type", _N), ("Acct-Delay-Time", _N),
    ("Acct-Input-Octets", _N), ("Acct-Output-Octets", _N), ("Acct-Session-Id", _S),
    ("Acct-Authentic", _N), ("Acct-Session-Time", _N), ("Acct-Input-Packets", _N),
    ("Acct-Output-Packets", _N), ("Acct-Terminate-Cause", _N), ("Acct-Multi-Session-Id", _S),
    ("Acct-Link-Count", _N), ("Acct-Input-Gigawords", _N), ("Acct-Output-Gigawords", _N),
    ("Unassigned", ""), ("Event-Timestamp", "time"), ("Egress-VLANID", _N),
    ("Ingress-Filters", _N), ("Egress-VLAN-Name", _S), ("User-Priority-Table", ""),
    ("CHAP-Challenge", _S), ("NAS-Port-Type", _N), ("Port-Limit", _N), ("Login-LAT-Port", _S),
    ("Tunnel-Type", _N), ("Tunnel-Medium-Type", _N), ("Tunnel-Client-Endpoint", _S),
    ("Tunnel-Server-Endpoint", _S), ("Acct-Tunnel-Connection", _S), ("Tunnel-Password", _S),
    ("ARAP-Password", "strange"), ("ARAP-Features", "strange"), ("ARAP-Zone-Access", _N),
    ("ARAP-Security", _S), ("ARAP-Security-Data", _S), ("Password-Retry", _N), ("Prompt", _N),
    ("Connect-Info", _S), ("Configuration-Token", _S), ("EAP-Message", _S),
    ("Message-Authenticator", _S), ("Tunnel-Private-Group-ID", _S),
    ("Tunnel-Assignment-ID", _S), ("Tunnel-Preference", _N),
    ("ARAP-Challenge-Response", "strange"), ("Acct-Interim-Interval", _N),
    ("Acct-Tunnel-Packets-Lost", _N), ("NAS-Port-Id", _S), ("Framed-Pool", _S), ("CUI", _S),
    ("Tunnel-Client-Auth-ID", _S), ("Tunnel-Server-Auth-ID", _S), ("NAS-Filter-Rule", _S),
    ("Unassigned", ""), ("Originating-Line-Info", ""), ("NAS-IPv6-Address", _A6),
    ("Framed-Interface-ID", ""), ("Framed-IPv6-Prefix", _P6), ("Login-IPv6-Host", _A6),
    ("Framed-IPv6-Route", _S), ("Framed-IPv6-Pool", _S), ("Error-Cause", "strange"),
    ("EAP-Key-Name", ""),
    *[(f"Digest-{name}", _S) for name in (
        "Response", "Realm", "Nonce", "Response-Auth", "Nextnonce", "Method", "URI", "Qop",
        "Algorithm", "Entity-Body-Hash", "CNonce", "Nonce-Count", "Username", "Opaque",
        "Auth-Param", "AKA-Auts", "Domain", "Stale", "HA1")],
    ("SIP-AOR", _S), ("Delegated-IPv6-Prefix", _P6), ("MIP6-Feature-Vector", "vector64"),
    ("MIP6-Home-Link-Prefix", "mip6prefix"), ("Operator-Name", "operator"),
    ("Location-Information", "locinfo"), ("Location-Data", "locdata"),
    ("Basic-Location-Policy-Rules", "blpr"),
)

# numbers of the attributes printed in their own way
_TUNNEL_PASSWORD, _EAP, _EGRESS_NAME, _EGRESS_ID, _TUNNEL_PREFERENCE = 69, 79, 58, 56, 83
_TAGGED_TEXT = {66, 67, 81, 82, 90, 91}       # tunnel endpoints, group, ids: a tag first
_DURATIONS = {27, 28, 41, 46, 85}
_VLAN_TAGS = {0x31: "Tagged", 0x32: "Untagged"}
_ERROR_CAUSES = {201: "Residual Session Context Removed", 202: "Invalid EAP Packet (Ignored)",
                 401: "Unsupported Attribute", 402: "Missing Attribute",
                 403: "NAS Identification Mismatch", 404: "Invalid Request",
                 405: "Unsupported Service", 406: "Unsupported Extension",
                 407: "Invalid Attribute Value", 501: "Administratively Prohibited",
                 502: "Request Not Routable (Proxy)", 503: "Session Context Not Found",
                 504: "Session Context Not Removable", 505: "Other Proxy Processing Error",
                 506: "Resources Unavailable", 507: "Request Initiated",
                 508: "Multiple Session Selection Unsupported", 509: "Location Info Required"}
_MIP6_FEATURES = ((1, "MIP6_INTEGRATED"), (2, "LOCAL_HOME_AGENT_ASSIGNMENT"),
                  (1 << 40, "PMIP6_SUPPORTED"), (1 << 41, "IP4_HOA_SUPPORTED"),
                  (1 << 42, "LOCAL_MAG_ROUTING_SUPPORTED"), (1 << 43, "ASSIGN_LOCAL_IP"),
                  (1 << 44, "MIP4_SUPPORTED"), (1 << 45, "OPTIMIZED_IDLE_MODE_MOBILITY"),
                  (1 << 46, "GTPv2_SUPPORTED"), (1 << 47, "IP4_TRANSPORT_SUPPORTED"),
                  (1 << 48, "IP4_HOA_ONLY_SUPPORTED"), (1 << 49, "INTER_MAG_ROUTING_SUPPORTED"))
_OPERATOR_NAMESPACES = {0x30: "TADIG", 0x31: "REALM", 0x32: "E212", 0x33: "ICC"}
# the SMI enterprise numbers tcpdump names (its oui.c list)
VENDORS = {0: "IETF (reserved)", 5: "ACC", 9: "Cisco", 11: "Hewlett Packard",
           42: "Sun Microsystems", 61: "Merit", 74: "AT&T", 161: "Motorola", 166: "Shiva",
           193: "Ericsson AB", 255: "Cisco VPN 5000", 307: "Livingston", 311: "Microsoft",
           429: "3Com", 529: "Ascend", 1584: "Bay Networks", 1991: "Foundry",
           2180: "Versanet", 2352: "Redback", 2636: "Juniper Networks", 2637: "Aptis",
           2937: "Deutsche Telekom AG", 3054: "Ixia Communications", 3076: "Cisco VPN 3000",
           3085: "CoSine Communications", 3199: "Shasta", 3224: "Netscreen", 3309: "Nomadix",
           3414: "T-Mobile", 3561: "The Broadband Forum", 3902: "ZTE", 4329: "Siemens",
           4491: "CableLabs", 4874: "Unisphere Networks", 5263: "Cisco BBSM",
           5535: "3rd Generation Partnership Project 2 (3GPP2)", 5806: "SK Telecom",
           5925: "ipUnplugged", 5948: "Issanni Communications", 5951: "Netscaler",
           6490: "T-Mobile", 6618: "Quintum", 6728: "Interlink", 7951: "CNCTC",
           8164: "Starent Networks", 8744: "Colubris", 10415: "3GPP",
           10529: "Gemtek-Systems", 10704: "Barracuda Networks",
           10923: "Ericsson AB - Packet Core Networks", 11665: "dacom",
           11862: "Columbia University", 12356: "Fortinet", 12951: "Verizon Wireless",
           13745: "Plixer", 14122: "Wi-Fi Alliance", 16787: "T-Systems Nova",
           20942: "China Telecom - Guangzhou Research Institute", 26866: "Gigamon Systems",
           32622: "CACE Technologies", 35632: "ntop", 46098: "Ericsson Canada"}
_EAP_CODES = {1: "Request", 2: "Response", 3: "Success", 4: "Failure"}
_EAP_TYPES = {0: "No proposed", 1: "Identity", 2: "Notification", 3: "Nak", 4: "MD5-challenge",
              5: "OTP", 6: "GTC", 13: "TLS", 18: "SIM", 21: "TTLS", 23: "AKA", 43: "FAST",
              254: "Expanded types", 255: "Experimental"}
_EAP_TLS_FLAGS = ((0x80, "L bit"), (0x40, "More fragments bit"), (0x20, "Start bit"))
_EAP_AKA_SUBTYPES = {1: "Challenge", 2: "Auth reject", 4: "Sync failure", 5: "Identity",
                     10: "Start", 11: "Challenge", 12: "Notification", 13: "Reauth",
                     14: "Client error"}
_TRUNC = " [|radius]"


def radius_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the ports of a RADIUS message (``data`` as captured, ``length`` the
    UDP payload's); LongJump where tcpdump leaves the packet."""
    if len(data) < 20:
        return _TRUNC
    code, ident, size = struct.unpack_from("!BBH", data)
    if size < 20:
        return _TRUNC
    size = min(size, length)
    name = _CODES.get(code, "Unknown Command")
    if not verbose:
        return f"RADIUS, {name} ({code}), id: 0x{ident:02x} length: {size}"
    w = Words(data, "radius")
    w.add(f"RADIUS, length: {size}\n\t{name} ({code}), id: 0x{ident:02x}, Authenticator: "
          + data[4:20].hex())
    _attributes(w, 20, size - 20, verbose)
    return w.text()


def _attributes(w: Words, at: int, length: int, verbose: int) -> None:
    while length > 0:
        if length < 2 or at + 2 > len(w.data):
            w.add(_TRUNC)
            return
        kind, size = w.get(at), w.get(at + 1)
        name = _ATTRS[kind][0] if 0 < kind < len(_ATTRS) else "Unknown"
        w.add(f"\n\t  {name} Attribute ({kind}), length: {size}")
        if size < 2:
            w.add(" (bogus, must be >= 2)")
            return
        if size > length:
            w.add(" (bogus, goes past end of packet)")
            return
        w.add(", Value: ")
        if kind < len(_ATTRS) and size > 2 and _ATTRS[kind][1]:
            _value(w, kind, at + 2, size - 2)
        if verbose > 1:
            w.dump(at + 2, size - 2, "\n\t    ")
        length -= size
        at += size


def _captured(w: Words, at: int, size: int) -> bool:
    """tcpdump's check before some values: False (and the mark) when they were cut."""
    if at + size > len(w.data):
        w.add(_TRUNC)
        return False
    return True


def _printable(raw: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else "." for b in raw)


def _value(w: Words, kind: int, at: int, size: int) -> None:
    how = _ATTRS[kind][1]
    if how == _S:
        _string(w, kind, at, size)
    elif how == "vendor":
        _vendor(w, at, size)
    elif how == _N:
        _number(w, kind, at, size)
    elif how == _A:
        if size != 4:
            w.add(f"ERROR: length {size} != 4")
            return
        value = w.get(at, 4)
        special = {0xFFFFFFFF: "User Selected", 0xFFFFFFFE: "NAS Select"}
        w.add(special[value] if kind in (8, 14) and value in special
              else ip4(w.data[at:at + 4]))
    elif how == _A6:
        if size != 16:
            w.add(f"ERROR: length {size} != 16")
            return
        w.get(at, 16)
        w.add(ip6(w.data[at:at + 16]))
    elif how == _P6:
        _prefix6(w, at, size)
    elif how == "time":
        if size != 4:
            w.add(f"ERROR: length {size} != 4")
            return
        w.add(time.ctime(w.get(at, 4)))
    elif how == "vector64":
        if size != 8:
            w.add(f"ERROR: length {size} != 8")
            return
        w.add("[")
        value = w.get(at, 8)
        w.add(", ".join(n for bit, n in _MIP6_FEATURES if value & bit) + "]")
    else:
        _structured(w, how, kind, at, size)


def _string(w: Words, kind: int, at: int, size: int) -> None:
    if not _captured(w, at, size):
        return
    data = w.data
    if kind == _TUNNEL_PASSWORD:
        if size < 3:
            w.add(_TRUNC)
            return
        tag = data[at]
        w.add(f"Tag[{tag}] " if 0 < tag <= 0x1F else "Tag[Unused] ")
        w.add(f"Salt {int.from_bytes(data[at + 1:at + 3], 'big')} ")
        at, size = at + 3, size - 3
    elif kind in _TAGGED_TEXT:
        if data[at] <= 0x1F:
            w.add(f"Tag[{data[at]}] " if data[at] else "Tag[Unused] ")
            at, size = at + 1, size - 1
    elif kind == _EGRESS_NAME:
        w.add(f"{_VLAN_TAGS.get(data[at], 'Unknown tag')} (0x{data[at]:02x}) ")
        at, size = at + 1, size - 1
    elif kind == _EAP:
        w.get(at + 2, 2)   # tcpdump reads EAP's header even past a short attribute
        w.add(_eap(data[at:at + max(size, 4)], size))
        return
    text = data[at:at + size].split(b"\0", 1)[0]
    w.add(_printable(text))


def _vendor(w: Words, at: int, size: int) -> None:
    if size < 4:
        w.add(_TRUNC)
        return
    vendor = w.get(at, 4)
    w.add(f"Vendor: {VENDORS.get(vendor, 'Unknown')} ({vendor})")
    at, size = at + 4, size - 4
    while size >= 2:
        kind, length = w.get(at), w.get(at + 1)
        if length < 2:
            w.add(f"\n\t    Vendor Attribute: {kind}, Length: {length} (bogus, must be >= 2)")
            return
        if length > size:
            w.add(f"\n\t    Vendor Attribute: {kind}, Length: {length} (bogus, goes past end "
                  "of vendor-specific attribute)")
            return
        at, length, size = at + 2, length - 2, size - 2
        if not _captured(w, at, length):
            return
        w.add(f"\n\t    Vendor Attribute: {kind}, Length: {length}, Value: "
              + _printable(w.data[at:at + length]))
        at, size = at + length, size - length


def _duration(secs: int) -> str:
    if secs < 60:
        return f"{secs:02d} secs"
    if secs < 3600:
        return f"{secs // 60:02d}:{secs % 60:02d} min"
    return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d} hours"


def _number(w: Words, kind: int, at: int, size: int) -> None:
    if size != 4:
        w.add(f"ERROR: length {size} != 4")
        return
    if kind in _VALUES:
        names, first = _VALUES[kind]
        if kind in (64, 65):   # a tag, then a 24-bit value
            tag = w.get(at)
            w.add(f"Tag[{tag}] " if tag else "Tag[Unused] ")
            value = w.get(at + 1, 3)
        else:
            value = w.get(at, 4)
        w.add(names[value - first] if first <= value < first + len(names) else f"#{value}")
        return
    if kind in (_TUNNEL_PREFERENCE, _EGRESS_ID):
        tag = w.get(at)
        if kind == _EGRESS_ID:
            w.add(f"{_VLAN_TAGS.get(tag, 'Unknown tag')} (0x{tag:02x}) ")
        else:
            w.add(f"Tag[{tag}] " if tag else "Tag[Unused] ")
        w.add(str(w.get(at + 1, 3)))
        return
    value = w.get(at, 4)
    if kind == 23 and value == 0xFFFFFFFE:
        w.add("NAS Select")
    elif kind in _DURATIONS:
        w.add(_duration(value))
    elif kind in (37, 38) and not value:
        w.add("Unnumbered" if kind == 37 else "NAS assigned")
    else:
        w.add(str(value))


def _prefix6(w: Words, at: int, size: int) -> None:
    if size < 2 or size > 18:
        w.add(f"ERROR: length {size} not in range (2..18)")
        return
    if not _captured(w, at, size):
        return
    bits = w.data[at + 1]
    if bits > 128:
        w.add(f"ERROR: netmask {bits} not in range (0..128)")
        return
    address = w.data[at + 2:at + size].ljust(16, bytes(1))
    w.add(f"{ip6(address)}/{bits}")
    if bits > 8 * (size - 2):
        w.add(" (inconsistent prefix length)")


def _hex_ascii(raw: bytes, indent: str) -> str:
    """tcpdump's hex-and-text dump of bytes inside a decoded field."""
    lines = []
    for offset in range(0, len(raw), 16):
        chunk = raw[offset:offset + 16]
        groups = "".join(" " + chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
        text = "".join(chr(b) if 32 < b < 127 else "." for b in chunk)
        lines.append(f"{indent}0x{offset:04x}: {groups:<40}  {text}")
    return "".join(lines)


def _structured(w: Words, how: str, kind: int, at: int, size: int) -> None:
    data = w.data
    if how == "strange":
        _strange(w, kind, at, size)
    elif how == "mip6prefix":
        if size != 17:
            w.add(f"ERROR: length {size} != 17")
        elif _captured(w, at, size):
            if data[at] > 128:
                w.add(f"ERROR: netmask {data[at]} not in range (0..128)")
            else:
                w.add(f"{ip6(data[at + 1:at + 17])}/{data[at]}")
    elif not _captured(w, at, size):
        return
    elif how == "operator":
        if size < 2:
            w.add(f"ERROR: length {size} < 2")
            return
        space = _OPERATOR_NAMESPACES.get(data[at], f"unknown namespace {data[at]}")
        w.add(f"[{space}] " + safe_text(data[at + 1:at + size]))
    elif how == "locinfo":
        if size < 21:
            w.add(f"ERROR: length {size} < 21")
            return
        index, code, entity = struct.unpack_from("!HBB", data, at)
        code_name = ("Civic", "Geospatial")[code] if code < 2 else f"Unknown ({code})"
        entity_name = ("User", "RADIUS")[entity] if entity < 2 else f"Unknown ({entity})"
        w.add(f"index {index}, code {code_name}, entity {entity_name}, "
              f"sighting time {_ntp_time(data[at + 4:at + 12])}, "
              f"time to live {_ntp_time(data[at + 12:at + 20])}, "
              f'method "{safe_text(data[at + 20:at + size])}"')
    elif how == "locdata":
        if size < 3:
            w.add(f"ERROR: length {size} < 3")
            return
        w.add(f"index {int.from_bytes(data[at:at + 2], 'big')}, location"
              + _hex_ascii(data[at + 2:at + size], "\n\t    "))
    elif how == "blpr":
        if size < 10:
            w.add(f"ERROR: length {size} < 10")
            return
        flags = int.from_bytes(data[at:at + 2], "big")
        names = [f"MBZ-{15 - bit}" if bit < 15 else "Retransmission Allowed"
                 for bit in range(16) if flags & (1 << bit)]
        w.add(f"flags [{', '.join(names) or 'none'}], retention expires "
              + _ntp_time(data[at + 2:at + 10]))
        if size > 10:
            w.add(f', note well "{safe_text(data[at + 10:at + size])}"')


def _strange(w: Words, kind: int, at: int, size: int) -> None:
    def hexes(start: int, count: int) -> None:
        for i in range(count):   # byte by byte: a cut keeps the digits before it
            w.add(f"{w.get(start + i):02X}")

    if kind == 70:
        if size != 16:
            w.add(f"ERROR: length {size} != 16")
            return
        w.add("User_challenge (")
        hexes(at, 8)
        w.add(") User_resp(")
        hexes(at + 8, 8)
        w.add(")")
    elif kind == 71:
        if size != 14:
            w.add(f"ERROR: length {size} != 14")
            return
        w.add("User can change password" if w.get(at) else "User cannot change password")
        w.add(f", Min password length: {w.get(at + 1)}, created at: ")
        hexes(at + 2, 4)
        w.add(", expires in: ")
        hexes(at + 6, 4)
        w.add(", Current Time: ")
        hexes(at + 10, 4)
    elif kind == 84:
        if size < 8:
            w.add(f"ERROR: length {size} != 8")
            return
        hexes(at, 8)
    else:   # Error-Cause
        if size != 4:
            w.add(f"Error: length {size} != 4")
            return
        value = w.get(at, 4)
        w.add(f"Error cause {value}: "
              + _ERROR_CAUSES.get(value, f"Error-Cause {value} not known"))


def _eap(raw: bytes, length: int) -> str:
    """An EAP message inside the attribute (all of it captured, as tcpdump checked)."""
    code, ident, size = struct.unpack_from("!BBH", raw)
    if size != length:
        return "EAP fragment?"
    out = f"{_EAP_CODES.get(code, 'unknown')} ({code}), id {ident}, len {size}"
    if size < 4:
        return out + " (too short for EAP header)"
    if code not in (1, 2):
        return out
    if size < 5:
        return out + " (too short for EAP request/response)"
    kind = raw[4]
    out += f"\n\t\t Type {_EAP_TYPES.get(kind, 'unknown')} ({kind})"
    if kind == 1:
        if size > 5:
            out += ", Identity: " + safe_text(raw[5:size].split(b"\0", 1)[0])
    elif kind == 2:
        if size < 6:
            return out + " (too short for EAP Notification request/response)"
        out += ", Notification: " + safe_text(raw[5:size].split(b"\0", 1)[0])
    elif kind == 3:
        if size < 6:
            return out + " (too short for EAP Legacy NAK request/response)"
        out += ",".join(f" {_EAP_TYPES.get(t, 'unknown')} ({t})" for t in raw[5:size])
    elif kind in (13, 21, 43):
        label = {13: "TLS/TTLS", 21: "TLS/TTLS", 43: "FAST"}[kind]
        if size < 6:
            return out + f" (too short for EAP {label} request/response)"
        flags = raw[5]
        if kind != 13:
            out += f" {'TTLS' if kind == 21 else 'FAST'}v{flags & 7}"
        names = ", ".join(n for bit, n in _EAP_TLS_FLAGS if flags & bit) or "none"
        out += f" flags [{names}] 0x{flags:02x}"
        if flags & 0x80:
            if size < 10:
                return out + f" (too short for EAP {label} request/response with length)"
            out += f", len {int.from_bytes(raw[6:10], 'big')}"
    elif kind in (18, 23):
        if size < 6:
            return out + " (too short for EAP SIM/AKA request/response)"
        out += f" subtype [{_EAP_AKA_SUBTYPES.get(raw[5], 'unknown')}] 0x{raw[5]:02x}"
    return out
