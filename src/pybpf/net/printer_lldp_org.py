"""tcpdump -v's sub-fields of LLDP's organisation-specific TLVs: IEEE 802.1 (VLANs,
aggregation, DCB's ETS, PFC and application priorities, EVB, CDCP), IEEE 802.3 (MAC/PHY,
power via MDI, aggregation, frame size), ANSI/TIA LLDP-MED (capabilities, network policy,
location, extended power, inventory), IANA's MUD URL and DCBX 1.01.

Each printer gets the TLV's whole value (the OUI first; the caller has checked it was
captured) and gives its text and whether tcpdump adds the value's bytes in hex.
"""

from __future__ import annotations

import struct

from .printer_words import safe_text, unknown_data_lines

__all__ = ["organisation_text"]

_8021 = {1: "Port VLAN Id", 2: "Port and Protocol VLAN ID", 3: "VLAN name",
         4: "Protocol Identity", 7: "Link aggregation", 8: "Congestion Notification",
         9: "ETS Configuration", 10: "ETS Recommendation",
         11: "Priority Flow Control Configuration", 12: "Application Priority", 13: "EVB",
         14: "CDCP"}
_8023 = {1: "MAC/PHY configuration/status", 2: "Power via MDI", 3: "Link aggregation",
         4: "Max frame size"}
_TIA = {1: "LLDP-MED Capabilities", 2: "Network policy", 3: "Location identification",
        4: "Extended power-via-MDI", 5: "Inventory - hardware revision",
        6: "Inventory - firmware revision", 7: "Inventory - software revision",
        8: "Inventory - serial number", 9: "Inventory - manufacturer name",
        10: "Inventory - model name", 11: "Inventory - asset ID"}
_INVENTORY = {5: "Hardware revision", 6: "Firmware revision", 7: "Software revision",
              8: "Serial number", 9: "Manufacturer name", 10: "Model name", 11: "Asset ID"}
_MAU_TYPES = ("Unknown", "AUI", "10BASE_5", "FOIRL", "10BASE2", "10BASET duplex mode unknown",
              "10BASEFP", "10BASEFB", "10BASEFL duplex mode unknown", "10BROAD36",
              "10BASET hdx", "10BASET fdx", "10BASEFL hdx", "10BASEFL fdx", "100BASET4",
              "100BASETX hdx", "100BASETX fdx", "100BASEFX hdx", "100BASEFX fdx",
              "100BASET2 hdx", "100BASET2 fdx", "1000BASEX hdx", "1000BASEX fdx",
              "1000BASELX hdx", "1000BASELX fdx", "1000BASESX hdx", "1000BASESX fdx",
              "1000BASECX hdx", "1000BASECX fdx", "1000BASET hdx", "1000BASET fdx",
              "10GBASEX", "10GBASELX4", "10GBASER", "10GBASEER", "10GBASELR", "10GBASESR",
              "10GBASEW", "10GBASEEW", "10GBASELW", "10GBASESW")
_PMD = ((1 << 14, "10BASE-T hdx"), (1 << 13, "10BASE-T fdx"), (1 << 12, "100BASE-T4"),
        (1 << 11, "100BASE-TX hdx"), (1 << 10, "100BASE-TX fdx"), (1 << 9, "100BASE-T2 hdx"),
        (1 << 8, "100BASE-T2 fdx"), (1 << 7, "Pause for fdx links"),
        (1 << 6, "Asym PAUSE for fdx"), (1 << 5, "Sym PAUSE for fdx"),
        (1 << 4, "Asym and Sym PAUSE for fdx"), (1 << 3, "1000BASE-{X LX SX CX} hdx"),
        (1 << 2, "1000BASE-{X LX SX CX} fdx"), (1 << 1, "1000BASE-T hdx"),
        (1 << 0, "1000BASE-T fdx"))
_SUPPORTED_ENABLED = ((1, "supported"), (2, "enabled"))
_MDI = ((1, "PSE"), (2, "supported"), (4, "enabled"), (8, "can be controlled"))
_TIA_CAPABILITIES = ((1, "LLDP-MED capabilities"), (2, "network policy"),
                     (4, "location identification"), (8, "extended power via MDI-PSE"),
                     (16, "extended power via MDI-PD"), (32, "Inventory"))
_TIA_DEVICES = {1: "endpoint class 1", 2: "endpoint class 2", 3: "endpoint class 3",
                4: "network connectivity"}
_TIA_APPLICATIONS = {1: "voice", 2: "voice signaling", 3: "guest voice",
                     4: "guest voice signaling", 5: "softphone voice",
                     6: "video conferencing", 7: "streaming video", 8: "video signaling"}
_LOCATION_FORMATS = {1: "coordinate-based LCI", 2: "civic address LCI", 3: "ECS ELIN"}
_DATUMS = {1: "World Geodesic System 1984", 2: "North American Datum 1983 (NAVD88)",
           3: "North American Datum 1983 (MLLW)"}
_CA_TYPES = {1: "national subdivisions (state,canton,region,province,prefecture)",
             2: "county, parish, gun, district", 3: "city, township, shi",
             4: "city division, borough, city district, ward chou", 5: "neighborhood, block",
             6: "street"}
_LCI_WHAT = {0: "location of DHCP server",
             1: "location of the network element believed to be closest to the client",
             2: "location of the client"}
_POWER_SOURCES = {1: "PSE - primary power source", 2: "local - backup power source",
                  3: "PSE+local - reserved"}
_EVB_MODES = ("Not Supported", "EVB Bridge", "EVB Station",
              "Reserved for future Standardization")


def _bits(table: tuple[tuple[int, str], ...], value: int, empty: str = "none") -> str:
    """bittok2str: the names of the set bits in the table's order."""
    return ", ".join(name for bit, name in table if value & bit) or empty


def _jnp(raw: bytes) -> str:
    """nd_printjnp: up to the first NUL, escaped."""
    return safe_text(raw.split(b"\0", 1)[0])


def organisation_text(oui: int, body: bytes, verbose: int) -> tuple[str, bool]:
    """The sub-fields of an organisation-specific TLV whose value is ``body``."""
    printer = {0x0080C2: _ieee_8021, 0x00120F: _ieee_8023, 0x00005E: _iana,
               0x0012BB: _tia, 0x001B21: _dcbx}.get(oui)
    if printer is None:
        return "", True
    out: list[str] = []
    hexdump = printer(out, body, verbose)
    return "".join(out), hexdump


def _subtype(out: list[str], body: bytes, names: dict[int, str], minimum: int = 4) -> int:
    if len(body) < minimum:
        return -1
    out.append(f"\n\t  {names.get(body[3], 'unknown')} Subtype ({body[3]})")
    return body[3]


def _flags_row(title: str, value: int) -> str:
    return (f"\n\t    {title}\n\t     Priority : 0  1  2  3  4  5  6  7\n\t     Value    : "
            + "".join(f"{(value >> i) & 1:<2d} " for i in range(8)))


def _tables(body: bytes) -> str:
    """ETS's priority assignment, bandwidth and selection tables."""
    priorities = [n for b in body[5:9] for n in (b >> 4, b & 0x0F)]
    return ("\n\t    Priority Assignment Table\n\t     Priority : 0   1   2   3   4   5   6   7"
            "\n\t     Value    : " + " ".join(f"{n:<3d}" for n in priorities)
            + "\n\t    TC Bandwidth Table\n\t     TC%   : 0   1   2   3   4   5   6   7"
            "\n\t     Value : " + " ".join(f"{n:<3d}" for n in body[9:17])
            + "\n\t    TSA Assignment Table"
            "\n\t     Traffic Class: 0   1   2   3   4   5   6   7"
            "\n\t     Value        : " + " ".join(f"{n:<3d}" for n in body[17:25]))


def _ieee_8021(out: list[str], body: bytes, verbose: int) -> bool:
    subtype = _subtype(out, body, _8021)
    size = len(body)
    if subtype == 1 and size >= 6:
        out.append(f"\n\t    port vlan id (PVID): {struct.unpack_from('!H', body, 4)[0]}")
    elif subtype == 2 and size >= 7:
        out.append(f"\n\t    port and protocol vlan id (PPVID): "
                   f"{struct.unpack_from('!H', body, 5)[0]}, flags "
                   f"[{_bits(((2, 'supported'), (4, 'enabled')), body[4])}] (0x{body[4]:02x})")
    elif subtype == 3 and size >= 6:
        out.append(f"\n\t    vlan id (VID): {struct.unpack_from('!H', body, 4)[0]}")
        if size >= 7 and size >= 7 + body[6]:
            out.append("\n\t    vlan name: " + _jnp(body[7:7 + body[6]]))
    elif subtype == 4 and size >= 5 and size >= 5 + body[4]:
        out.append("\n\t    protocol identity: " + _jnp(body[5:5 + body[4]]))
    elif subtype == 7 and size >= 9:
        out.append(f"\n\t    aggregation status [{_bits(_SUPPORTED_ENABLED, body[4])}], "
                   f"aggregation port ID {struct.unpack_from('!I', body, 5)[0]}")
    elif subtype == 8 and size >= 6:
        out.append(_flags_row("Pre-Priority CNPV Indicator", body[4])
                   + _flags_row("Pre-Priority Ready Indicator", body[5]))
    elif subtype == 9 and size >= 25:
        value = body[4]
        out.append(f"\n\t    Willing:{value >> 7}, CBS:{(value >> 6) & 2}, "
                   f"RES:{(value >> 3) & 7}, Max TCs:{value & 7}" + _tables(body))
    elif subtype == 10 and size >= 25:
        out.append(f"\n\t    RES: {body[4]}" + _tables(body))
    elif subtype == 11 and size >= 6:
        value = body[4]
        out.append(f"\n\t    Willing: {value >> 7}, MBC: {(value >> 6) & 1}, "
                   f"RES: {(value >> 4) & 3}, PFC cap:{value & 0x0F} "
                   + _flags_row("PFC Enable", body[5]))
    elif subtype == 12 and size >= 5:
        out.append(f"\n\t    RES: {body[4]}")
        if size > 5 and (size - 5) % 3 == 0:
            out.append("\n\t    Application Priority Table")
            for at in range(5, size, 3):
                value = body[at]
                out.append(f"\n\t      Priority: {value >> 5}, RES: {(value >> 3) & 3}, "
                           f"Sel: {value & 7}, Protocol ID: "
                           f"{struct.unpack_from('!H', body, at + 1)[0]}")
    elif subtype == 13 and size >= 9:
        bridge, station, r_rte, mode, last = body[4:9]
        out.append(f"\n\t    EVB Bridge Status\n\t      RES: {bridge >> 3}, BGID: "
                   f"{(bridge >> 2) & 1}, RRCAP: {(bridge >> 1) & 1}, RRCTR: {bridge & 1}"
                   f"\n\t    EVB Station Status\n\t      RES: {station >> 4}, SGID: "
                   f"{(station >> 3) & 1}, RRREQ: {(station >> 2) & 1},RRSTAT: {station & 3}"
                   f"\n\t    R: {r_rte >> 5}, RTE: {r_rte & 0x1F}, "
                   f"EVB Mode: {_EVB_MODES[mode >> 6]} [{mode >> 6}]"
                   f"\n\t    ROL: {(mode >> 5) & 1}, RWD: {mode & 0x1F}, "
                   f"RES: {last >> 6}, ROL: {(last >> 5) & 1}, RKA: {last & 0x1F}")
    elif subtype == 14 and size >= 8:
        value = body[4]
        out.append(f"\n\t    Role: {value >> 7}, RES: {(value >> 4) & 7}, Scomp: "
                   f"{(value >> 3) & 1} ChnCap: {struct.unpack_from('!H', body, 6)[0] & 0xFFF}")
        if (size - 8) % 3 == 0:
            for at in range(8, size, 3):
                channel = int.from_bytes(body[at:at + 3], "big")
                out.append(f"\n\t    SCID: {channel >> 12}, SVID: {channel & 0xFFF}")
    elif subtype >= 0 and subtype not in _8021:
        return True
    return False


def _ieee_8023(out: list[str], body: bytes, verbose: int) -> bool:
    subtype = _subtype(out, body, _8023)
    size = len(body)
    if subtype == 1 and size >= 9:
        capability, mau = struct.unpack_from("!HH", body, 5)
        out.append(f"\n\t    autonegotiation [{_bits(_SUPPORTED_ENABLED, body[4])}] "
                   f"(0x{body[4]:02x})\n\t    PMD autoneg capability "
                   f"[{_bits(_PMD, capability, 'unknown')}] (0x{capability:04x})"
                   f"\n\t    MAU type "
                   f"{_MAU_TYPES[mau] if mau < len(_MAU_TYPES) else 'unknown'} (0x{mau:04x})")
    elif subtype == 2 and size >= 7:
        pairs = {1: "signal", 2: "spare"}.get(body[5], "unknown")
        power = f"class{body[6] - 1}" if 1 <= body[6] <= 5 else "unknown"
        out.append(f"\n\t    MDI power support [{_bits(_MDI, body[4])}], power pair {pairs}, "
                   f"power class {power}")
    elif subtype == 3 and size >= 9:
        out.append(f"\n\t    aggregation status [{_bits(_SUPPORTED_ENABLED, body[4])}], "
                   f"aggregation port ID {struct.unpack_from('!I', body, 5)[0]}")
    elif subtype == 4 and size >= 6:
        out.append(f"\n\t    MTU size {struct.unpack_from('!H', body, 4)[0]}")
    elif subtype >= 0 and subtype not in _8023:
        return True
    return False


def _iana(out: list[str], body: bytes, verbose: int) -> bool:
    subtype = _subtype(out, body, {1: "MUD-URL"}, minimum=8)
    if subtype == 1:
        out.append("\n\t  MUD-URL=" + safe_text(body[4:]))
    return subtype > 1 or subtype == 0


def _latlon(raw: bytes) -> int:
    return (raw[0] & 3) << 32 | struct.unpack_from("!I", raw, 1)[0]


def _tia(out: list[str], body: bytes, verbose: int) -> bool:
    subtype = _subtype(out, body, _TIA)
    size = len(body)
    if subtype == 1 and size >= 7:
        capabilities = struct.unpack_from("!H", body, 4)[0]
        out.append(f"\n\t    Media capabilities [{_bits(_TIA_CAPABILITIES, capabilities)}] "
                   f"(0x{capabilities:04x})\n\t    Device type "
                   f"[{_TIA_DEVICES.get(body[6], 'unknown')}] (0x{body[6]:02x})")
    elif subtype == 2 and size >= 8:
        policy = struct.unpack_from("!H", body, 6)[0]
        flags = _bits(((0x80, "Unknown"), (0x40, "Tagged"), (0x20, "reserved")), body[5])
        out.append(f"\n\t    Application type [{_TIA_APPLICATIONS.get(body[4], 'none')}] "
                   f"(0x{body[4]:02x}), Flags [{flags}]\n\t    Vlan id "
                   f"{(struct.unpack_from('!H', body, 5)[0] & 0x1FFE) >> 1}, L2 priority "
                   f"{(policy & 0x1FF) >> 6}, DSCP value {policy & 0x3F}")
    elif subtype == 3 and size >= 5:
        _location(out, body)
    elif subtype == 4 and size >= 7:
        value = body[4]
        # tcpdump masks with 0xC0 >> 6 (that is 3), not (value & 0xC0) >> 6
        power = struct.unpack_from("!H", body, 5)[0]
        out.append(f"\n\t    Power type [{'PD device' if value & 3 else 'PSE device'}], "
                   f"Power source [{_POWER_SOURCES.get((value & 0x30) >> 4, 'none')}]"
                   f"\n\t    Power priority "
                   f"[{({1: 'critical', 2: 'high', 3: 'low'}).get(value & 0x0F, 'none')}] "
                   f"(0x{value & 0x0F:02x})"
                   + (f", Power {power / 10:.1f} Watts" if power < 1024
                      else f", Power {power} (Reserved)"))
    elif subtype in _INVENTORY:
        out.append(f"\n\t  {_INVENTORY[subtype]} " + _jnp(body[4:]))
    elif subtype >= 0 and subtype not in _TIA:
        return True
    return False


def _location(out: list[str], body: bytes) -> None:
    size, kind = len(body), body[4]
    out.append(f"\n\t    Location data format {_LOCATION_FORMATS.get(kind, 'unknown')} "
               f"(0x{kind:02x})")
    if kind == 1:
        if size < 21:
            return
        altitude = body[15] >> 4
        out.append(f"\n\t    Latitude resolution {body[5] >> 2}, latitude value "
                   f"{_latlon(body[5:10])}\n\t    Longitude resolution {body[10] >> 2}, "
                   f"longitude value {_latlon(body[10:15])}\n\t    Altitude type "
                   f"{({1: 'meters', 2: 'floors'}).get(altitude, 'unknown')} ({altitude})"
                   f"\n\t    Altitude resolution "
                   f"{(struct.unpack_from('!H', body, 15)[0] >> 6) & 0x3F}, altitude value "
                   f"0x{struct.unpack_from('!I', body, 16)[0] & 0x3FFFFFFF:x}"
                   f"\n\t    Datum {_DATUMS.get(body[20], 'unknown')} (0x{body[20]:02x})")
    elif kind == 2:
        if size < 6 or body[5] < 3 or size < 7 + body[5]:
            return
        left = body[5]
        out.append(f"\n\t    LCI length {left}, LCI what "
                   f"{_LCI_WHAT.get(body[6], 'unknown')} (0x{body[6]:02x}), Country-code "
                   + _jnp(body[7:9]))
        left -= 3
        at = 9
        while left > 0:
            if left < 2:
                return
            ca_type, ca_len = body[at], body[at + 1]
            at += 2
            left -= 2
            out.append(f"\n\t      CA type '{_CA_TYPES.get(ca_type, 'unknown')}' ({ca_type}), "
                       f"length {ca_len}: ")
            if not ca_type or not ca_len or left < ca_len:
                return
            out.append(_jnp(body[at:at + ca_len]))
            at += ca_len
            left -= ca_len
    elif kind == 3:
        out.append("\n\t    ECS ELIN id " + _jnp(body[5:]))
    else:
        out.append("\n\t    Location ID " + unknown_data_lines(body[5:], "\n\t      "))


def _dcbx(out: list[str], body: bytes, verbose: int) -> bool:
    subtype = _subtype(out, body, {1: "DCB Capability Exchange Protocol Rev 1",
                                   2: "DCB Capability Exchange Protocol Rev 1.01"})
    if subtype < 0:
        return False
    if subtype == 1:
        return True
    hexdump = False
    at, left = 4, len(body) - 4
    while left >= 2:
        head = struct.unpack_from("!H", body, at)[0]
        kind, size = head >> 9, head & 0x1FF
        hexdump = False
        at += 2
        left -= 2
        if not kind or not size or left < size:
            break
        value = body[at:at + size]
        minimum = {1: 10, 2: 17, 3: 6, 4: 4}.get(kind)
        if minimum is not None and size < minimum:
            break
        if kind == 1:
            out.append(f"\n\t    Control - Protocol Control (type 0x1, length {size})"
                       f"\n\t      Oper_Version: {value[0]}\n\t      Max_Version: {value[1]}"
                       f"\n\t      Sequence Number: {struct.unpack_from('!I', value, 2)[0]}"
                       f"\n\t      Acknowledgement Number: "
                       f"{struct.unpack_from('!I', value, 6)[0]}")
        elif kind in (2, 3, 4):
            title = {2: "Feature - Priority Group (type 0x2, length",
                     3: "Feature - Priority Flow Control (type 0x3, length",
                     4: "Feature - Application (type 0x4, length"}[kind]
            info = value[2]
            out.append(f"\n\t    {title} {size})\n\t      Oper_Version: {value[0]}"
                       f"\n\t      Max_Version: {value[1]}\n\t      Info block(0x{info:02X}): "
                       f"Enable bit: {info >> 7 & 1}, Willing bit: {info >> 6 & 1}, "
                       f"Error Bit: {info >> 5 & 1}\n\t      SubType: {value[3]}")
            out.append(_dcbx_feature(kind, value))
        else:
            hexdump = True
        if verbose > 1 or (verbose and hexdump):
            out.append(unknown_data_lines(value, "\n\t    "))
        at += size
        left -= size
    return hexdump


def _dcbx_feature(kind: int, value: bytes) -> str:
    if kind == 2:
        groups = struct.unpack_from("!I", value, 4)[0]
        return ("\n\t      Priority Allocation"
                + "".join(f"\n\t          PgId_{i}: {(groups >> (28 - 4 * i)) & 0xF}"
                          for i in range(8))
                + "\n\t      Priority Group Allocation"
                + "".join(f"\n\t          Pg percentage[{i}]: {value[8 + i]}" for i in range(8))
                + f"\n\t      NumTCsSupported: {value[16]}")
    if kind == 3:
        config = value[4]
        return (f"\n\t      PFC Config (0x{config:02X})"
                + "".join(f"\n\t          Priority Bit {i}: "
                          f"{'Enabled' if config & (1 << i) else 'Disabled'}" for i in range(8))
                + f"\n\t      NumTCPFCSupported: {value[5]}")
    text = ""
    at, left = 4, len(value) - 4
    while left >= 6:
        protocol = struct.unpack_from("!H", value, at)[0]
        word = int.from_bytes(value[at + 2:at + 5], "big")
        text += (f"\n\t      Application Value\n\t          Application Protocol ID: "
                 f"0x{protocol:04x}\n\t          SF (0x{word >> 22:x}) Application Protocol "
                 f"ID is {'Socket Number' if word >> 22 else 'L2 EtherType'}"
                 f"\n\t          OUI: 0x{word & 0x3FFFFF:06x}\n\t          User Priority Map: "
                 f"0x{value[at + 5]:02x}")
        at += 6
        left -= 6
    return text
