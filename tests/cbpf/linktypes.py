"""Frames for every link type the compiler knows, and the pcap-filter(7) expressions of
each, for the differential tests against libpcap (tests/cbpf/test_filter_language.py).

Each Ethernet frame of tests/cbpf/packets.py that carries IPv4, IPv6 or ARP is also
re-framed as Linux cooked v1/v2, raw IP and BSD/OpenBSD loopback; Ethernet gets frames for
the protocols of pcap-filter(7) beyond IP: 802.2 LLC (STP, ISO/IS-IS, NetBEUI, IPX, SNAP
AppleTalk/AARP), MPLS stacks, PPPoE discovery and sessions, DECnet, IPsec, PIM, VRRP.
"""

from __future__ import annotations

import random
import struct

from .packets import MAC_A, MAC_B, build_packets, ether, icmp, ipv4, ipv6, tcp, udp

LINKTYPES = ("EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "NULL", "LOOP")
_AF = {0x0800: 2, 0x86DD: 10}


def _llc(dsap: int, ssap: int, control: int, body: bytes) -> bytes:
    payload = bytes([dsap, ssap, control]) + body
    return MAC_B + MAC_A + struct.pack("!H", len(payload)) + payload


def _snap(oui_ctl: int, etype: int, body: bytes) -> bytes:
    payload = struct.pack("!IH", oui_ctl, etype) + b"\x00\x00" + body
    return MAC_B + MAC_A + struct.pack("!H", len(payload) - 2) + payload[:6] + body


def _mpls(labels: list[int], inner: bytes) -> bytes:
    out = b""
    for i, label in enumerate(labels):
        out += struct.pack("!I", label << 12 | (i == len(labels) - 1) << 8 | 64)
    return out + inner


def _pppoe_session(session: int, ppp_proto: int, inner: bytes) -> bytes:
    return struct.pack("!BBHHH", 0x11, 0, session, len(inner) + 2, ppp_proto) + inner


def _geneve(protocol: int, inner: bytes, vni: int = 5) -> bytes:
    """An Ethernet frame of IPv4/UDP to Geneve's port carrying ``inner``."""
    header = struct.pack("!BBHI", 0, 0, protocol, vni << 8)
    return ether(ipv4("198.18.0.1", "198.18.0.2", 17, udp(40000, 6081, header + inner)),
                 0x800)


def ethernet_extra() -> list[tuple[str, bytes]]:
    """Ethernet frames of the non-IP protocols pcap-filter(7) names."""
    a, b = "198.18.0.1", "198.18.0.2"
    v4 = ipv4(a, b, 6, tcp(1025, 80))
    v6 = ipv6("2001:db8::1", "2001:db8::2", 17, udp(53, 53))
    out = [
        ("stp bpdu", _llc(0x42, 0x42, 0x03, b"\x00" * 35)),
        ("llc i-frame", _llc(0x06, 0x06, 0x00, b"\x00" * 40)),
        ("llc s-frame rr", _llc(0x10, 0x10, 0x01, b"\x00" * 40)),
        ("llc s-frame rej", _llc(0x10, 0x10, 0x09, b"\x00" * 40)),
        ("llc u-frame xid", _llc(0x10, 0x10, 0xAF, b"\x00" * 40)),
        ("llc u-frame test", _llc(0x10, 0x10, 0xF3, b"\x00" * 40)),
        ("netbeui", _llc(0xF0, 0xF0, 0x03, b"\x00" * 40)),
        ("iso clnp", _llc(0xFE, 0xFE, 0x03, b"\x81" + b"\x00" * 40)),
        ("iso esis", _llc(0xFE, 0xFE, 0x03, b"\x82" + b"\x00" * 40)),
        ("isis l1 lsp", _llc(0xFE, 0xFE, 0x03, b"\x83\x1b\x01\x00\x12" + b"\x00" * 40)),
        ("isis l2 hello", _llc(0xFE, 0xFE, 0x03, b"\x83\x1b\x01\x00\x10" + b"\x00" * 40)),
        ("isis csnp", _llc(0xFE, 0xFE, 0x03, b"\x83\x1b\x01\x00\x18" + b"\x00" * 40)),
        ("ipx llc", _llc(0xE0, 0xE0, 0x03, b"\x00" * 40)),
        ("ipx raw 802.3", MAC_B + MAC_A + struct.pack("!H", 40) + b"\xff\xff" + b"\x00" * 38),
        ("ipx ethertype", ether(b"\xff\xff" + b"\x00" * 40, 0x8137)),
        ("ipx snap", _snap(0xAAAA0300, 0x8137, b"\x00" * 40)),
        ("atalk snap", _snap(0xAAAA0308, 0x809B, b"\x00" * 40)),
        ("atalk ethertype", ether(b"\x00" * 40, 0x809B)),
        ("aarp snap", _snap(0xAAAA0300, 0x80F3, b"\x00" * 40)),
        ("decnet", ether(b"\x00" * 40, 0x6003)),
        ("decnet short", ether(b"\x10\x00\x02\x04\x04\x02\x04" + bytes(40), 0x6003)),
        ("decnet padded long", ether(b"\x10\x00\x81\x06" + bytes(6) + b"\x04\x04"
                                     + bytes(6) + b"\x02\x04" + bytes(30), 0x6003)),
        ("lat", ether(b"\x00" * 40, 0x6004)),
        ("mopdl", ether(b"\x00" * 40, 0x6001)),
        ("mpls ipv4", ether(_mpls([5], v4), 0x8847)),
        ("mpls 2 labels ipv4", ether(_mpls([7, 5], v4), 0x8847)),
        ("mpls ipv6", ether(_mpls([5], v6), 0x8847)),
        ("pppoed padi", ether(struct.pack("!BBHH", 0x11, 9, 0, 0) + b"\x00" * 40, 0x8863)),
        ("pppoes ipv4", ether(_pppoe_session(3, 0x21, v4), 0x8864)),
        ("pppoes ipv6", ether(_pppoe_session(7, 0x57, v6), 0x8864)),
        ("vlan pppoes ipv4", ether(_pppoe_session(3, 0x21, v4), 0x8864, vlans=(5,))),
        ("ah4", ether(ipv4(a, b, 51, b"\x06\x04" + b"\x00" * 22), 0x800)),
        ("esp4", ether(ipv4(a, b, 50, b"\x00" * 24), 0x800)),
        ("esp6", ether(ipv6("2001:db8::1", "2001:db8::2", 50, b"\x00" * 24), 0x86DD)),
        ("pim4", ether(ipv4(a, "224.0.0.13", 103, b"\x20\x00" + b"\x00" * 20), 0x800)),
        ("pim6 fragment", ether(ipv6("2001:db8::1", "ff02::d", 103, b"\x00" * 24,
                                     fragment_of=1), 0x86DD)),
        ("vrrp", ether(ipv4(a, "224.0.0.18", 112, b"\x21" + b"\x00" * 19), 0x800)),
        ("igrp", ether(ipv4(a, b, 9, b"\x00" * 20), 0x800)),
        ("geneve", ether(ipv4(a, b, 17, udp(40000, 6081, b"\x00\x00\x65\x58\x00\x00\x05\x00"
                                              + bytes(12) + b"\x08\x00" + v4)), 0x800)),
        ("geneve options ipv6", ether(ipv4(a, b, 17, udp(
            40000, 6081, b"\x02\x00\x65\x58\x00\x00\x06\x00" + bytes(8) + bytes(12)
            + b"\x86\xdd" + v6)), 0x800)),
        ("geneve bare ipv4", ether(ipv4(a, b, 17, udp(
            40000, 6081, b"\x00\x00\x08\x00\x00\x00\x05\x00" + v4)), 0x800)),
        ("geneve over ipv6", ether(ipv6("2001:db8::1", "2001:db8::2", 17, udp(
            40000, 6081, b"\x00\x00\x65\x58\x00\x00\x05\x00" + bytes(12) + b"\x08\x00"
            + v4)), 0x86DD)),
        ("geneve version 1", ether(ipv4(a, b, 17, udp(
            40000, 6081, b"\x40\x00\x65\x58\x00\x00\x05\x00" + bytes(12) + b"\x08\x00"
            + v4)), 0x800)),
        ("geneve vlan", ether(ipv4(a, b, 17, udp(
            40000, 6081, b"\x00\x00\x65\x58\x00\x00\x05\x00" + bytes(12)
            + b"\x81\x00\x00\x0a\x08\x00" + v4)), 0x800)),
        ("geneve vlan ipv6", ether(ipv6("2001:db8::1", "2001:db8::2", 17, udp(
            40000, 6081, b"\x00\x00\x65\x58\x00\x00\x05\x00" + bytes(12)
            + b"\x88\xa8\x00\x05\x86\xdd" + v6)), 0x86DD)),
        ("geneve mpls", ether(ipv4(a, b, 17, udp(
            40000, 6081, b"\x00\x00\x65\x58\x00\x00\x05\x00" + bytes(12) + b"\x88\x47"
            + _mpls([7, 5], v4))), 0x800)),
        ("geneve pppoes", ether(ipv4(a, b, 17, udp(
            40000, 6081, b"\x00\x00\x65\x58\x00\x00\x05\x00" + bytes(12) + b"\x88\x64"
            + _pppoe_session(3, 0x21, v4))), 0x800)),
        # geneve's inner Ethernet carrying 802.2 LLC (and a bare payload whose protocol
        # type is a length: libpcap reads a lone SAP two bytes past that field, the VNI)
        *[(f"geneve {name}", _geneve(0x6558, frame)) for name, frame in (
            ("stp", _llc(0x42, 0x42, 0x03, b"\x00" * 35)),
            ("llc i-frame", _llc(0x06, 0x06, 0x00, b"\x00" * 40)),
            ("llc u-frame xid", _llc(0x10, 0x10, 0xAF, b"\x00" * 40)),
            ("isis l1 lsp", _llc(0xFE, 0xFE, 0x03, b"\x83\x1b\x01\x00\x12" + bytes(40))),
            ("ipx raw 802.3", MAC_B + MAC_A + struct.pack("!H", 40) + b"\xff\xff"
             + bytes(38)),
            ("atalk snap", _snap(0xAAAA0308, 0x809B, b"\x00" * 40)),
            ("decnet short", ether(b"\x10\x00\x02\x04\x04\x02\x04" + bytes(40), 0x6003)),
            ("vlan stp", MAC_B + MAC_A + b"\x81\x00\x00\x05" + _llc(0x42, 0x42, 0x03,
                                                                    bytes(35))[12:]))],
        ("geneve bare length", _geneve(0x0100, b"\xfe\xfe\x03\x83\x1b\x01\x00\x12"
                                       + bytes(40), vni=0x424242)),
        # past mpls, libpcap tests what geneve carries as a label's payload (VNI 1: the
        # byte it reads as bottom of stack)
        *[(f"mpls geneve {name}", ether(_mpls([5], _geneve(proto, inner, vni=1)[14:]), 0x8847))
          for name, proto, inner in (("bare ipv4", 0x0800, v4), ("ipv4", 0x6558, ether(
              v4, 0x800)))],
        ("geneve in geneve", _geneve(0x6558, _geneve(0x6558, ether(v6, 0x86DD), vni=9))),
        ("geneve in bare geneve", _geneve(0x0800, _geneve(0x0800, v4, vni=9)[14:], vni=7)),
        ("pppoes mpls ipv4", ether(_pppoe_session(3, 0x281, _mpls([5], v4)), 0x8864)),
        ("pppoes in pppoes", ether(_pppoe_session(3, 0x8864, _pppoe_session(
            5, 0x21, v4)), 0x8864)),
        ("vxlan", ether(ipv4(a, b, 17, udp(40000, 4789, b"\x08\x00\x00\x00\x00\x00\x05\x00"
                                             + bytes(12) + b"\x08\x00" + v4)), 0x800)),
        ("ip6 hbh tcp", ether(ipv6("2001:db8::1", "2001:db8::2", 0, bytes([6, 0]) + bytes(6)
                                   + tcp(1, 80)), 0x86DD)),
        ("ip6 dstopt routing udp", ether(ipv6("2001:db8::1", "2001:db8::2", 60, bytes(
            [43, 0]) + bytes(6) + bytes([17, 0]) + bytes(6) + udp(1, 53)), 0x86DD)),
        ("ip6 ah tcp", ether(ipv6("2001:db8::1", "2001:db8::2", 51, bytes([6, 4])
                                  + bytes(22) + tcp(1, 80)), 0x86DD)),
        ("ip6 no next", ether(ipv6("2001:db8::1", "2001:db8::2", 0, bytes([59, 0])
                                   + bytes(6)), 0x86DD)),
        ("ip4 ah tcp", ether(ipv4(a, b, 51, bytes([6, 4]) + bytes(22) + tcp(1, 80)), 0x800)),
        ("ip4 ah ah udp", ether(ipv4(a, b, 51, bytes([51, 1]) + bytes(10) + bytes([17, 1])
                                     + bytes(10) + udp(1, 2)), 0x800)),
        ("smtp", ether(ipv4(a, b, 6, tcp(40000, 25)), 0x800)),
        ("dns6", ether(ipv6("2001:db8::1", "::1", 17, udp(40000, 53)), 0x86DD)),
        ("to localhost", ether(ipv4("127.0.0.1", "127.0.0.1", 17, udp(1, 2)), 0x800)),
        ("icmp6 mld query", ether(ipv6("fe80::1", "ff02::1", 58, icmp(130)), 0x86DD)),
        ("icmp6 unreach", ether(ipv6("fe80::1", "2001:db8::1", 58, icmp(1, 4)), 0x86DD)),
        ("icmp timestamp", ether(ipv4(a, b, 1, icmp(13)), 0x800)),
        ("tcp syn-ece-cwr", ether(ipv4(a, b, 6, tcp(1, 2, 0xC2)), 0x800)),
        ("odd mac", bytes.fromhex("abcdef000001") + MAC_A + b"\x08\x00" + v4),
    ]
    return out


def _ip_frames() -> list[tuple[str, int, bytes, bool]]:
    """(name, ethertype, network packet, sent by us) for each IP/ARP Ethernet frame."""
    out = []
    for name, frame, wirelen in build_packets():
        if len(frame) != wirelen or len(frame) < 14:
            continue
        etype = struct.unpack_from("!H", frame, 12)[0]
        if etype in (0x0800, 0x86DD, 0x0806, 0x8035):
            out.append((name, etype, frame[14:], frame[6:12] == MAC_A))
    for name, frame in ethernet_extra():
        etype = struct.unpack_from("!H", frame, 12)[0]
        if etype in (0x0800, 0x86DD):
            out.append((name, etype, frame[14:], False))
    return out


def frames_for(linktype: str) -> list[tuple[str, bytes, int]]:
    """Every test frame of ``linktype`` as (name, captured bytes, wire length), complete and
    cut short."""
    frames: list[tuple[str, bytes]] = []
    if linktype == "EN10MB":
        frames = [(n, f) for n, f, w in build_packets() if len(f) == w] + ethernet_extra()
    else:
        for index, (name, etype, packet, outgoing) in enumerate(_ip_frames()):
            if linktype == "LINUX_SLL":
                head = struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, MAC_A + b"\0\0",
                                   etype)
            elif linktype == "LINUX_SLL2":
                head = struct.pack("!HHIHBB8s", etype, 0, 2 + index % 2, 1,
                                   4 if outgoing else 0, 6, MAC_A + b"\0\0")
            elif linktype == "RAW":
                if etype not in _AF:
                    continue
                head = b""
            else:
                if etype not in _AF:
                    continue
                family = _AF[etype]
                head = struct.pack(">I" if linktype == "LOOP" else "<I", family)
            frames.append((name, head + packet))
        if linktype in ("LINUX_SLL", "LINUX_SLL2"):
            # libpcap reads an OSI protocol id right at the cooked payload (no 802.2 skip)
            for name, sap, payload in (
                    ("stp", 0x42, b"\x42\x42\x03" + bytes(35)),
                    ("isis l1 lsp", 0xFE, b"\xfe\xfe\x03\x83\x1b\x01\x00\x12" + bytes(32)),
                    ("isis nlpid first", 0xFE, b"\x83\x1b\x01\x00\x12" + bytes(35))):
                head = (struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", 4)
                        if linktype == "LINUX_SLL" else
                        struct.pack("!HHIHBB8s", sap, 0, 1, 1, 0, 6, MAC_A + b"\0\0"))
                frames.append((f"cooked 802.2 {name}", head + payload))
    packets = [(name, frame, len(frame)) for name, frame in frames]
    rng = random.Random(linktype)
    for name, frame in rng.sample(frames, min(len(frames), 25)):
        for cut in sorted(rng.sample(range(1, len(frame)), min(4, len(frame) - 1))):
            packets.append((f"{name} cut at {cut}", frame[:cut], len(frame)))
    return packets


# pcap-filter(7) beyond tests/cbpf/expressions.py, for every link type (libpcap refuses
# some on some link types: then we must refuse too)
LANGUAGE = [
    # names: services, protocols, hosts (from /etc/hosts: no network needed)
    "port smtp", "tcp port http", "port domain", "udp port domain", "src port echo",
    "portrange 25-domain", "tcp portrange ftp-data-ssh", "portrange 20-22", "port \\80",
    "proto \\tcp", "ip proto \\udp", "ip6 proto \\tcp", "proto \\sctp", "proto \\igmp",
    "proto \\ah", "proto \\esp", "proto \\pim", "proto \\vrrp", "ip proto \\icmp",
    "ether proto \\arp", "ether proto \\ip", "ether proto \\ip6", "ether proto \\rarp",
    "ether proto \\iso", "ether proto \\stp", "ether proto \\ipx", "ether proto \\atalk",
    "ether proto \\aarp", "ether proto \\decnet", "ether proto \\netbeui",
    "ether proto \\lat", "ether proto \\sca", "ether proto \\mopdl", "ether proto \\moprc",
    "host localhost", "src host localhost", "ip host localhost", "ip6 host ip6-localhost",
    "host localhost or 198.18.0.1", "net loopback", "src net link-local", "net default",
    "ip net loopback",
    # addresses
    "host 2001:db8::1/128", "ip6 host 2001:db8::2/128", "net 2001:db8::1/128",
    "net 10.1 mask 255.255", "net 198.18 mask 255.254", "net 198.18.0.0 mask 255.254.0.0",
    "src net 198 mask 255", "ether host ab.CD.ef.0.0.1", "ether host abcd.ef00.0001",
    "ether src 2:0:0:0:0:1", "ether dst 02-00-00-00-00-02", "ether host ab:cd:ef:00:00:01",
    "fddi host 02:00:00:00:00:01", "tr src 02:00:00:00:00:01", "wlan dst 02:00:00:00:00:02",
    "fddi broadcast", "wlan multicast", "link host 02:00:00:00:00:01",
    "ppp[0] = 2", "slip[1] = 0", "fddi[12:2] = 0x800", "tr[0] & 1 = 1", "wlan[6] = 2",
    # link and network protocols
    "llc", "llc i", "llc s", "llc u", "llc rr", "llc rnr", "llc rej", "llc ui", "llc ua",
    "llc disc", "llc dm", "llc sabme", "llc test", "llc xid", "llc frmr", "stp", "iso",
    "isis", "clnp", "esis", "l1", "l2", "iih", "lsp", "snp", "csnp", "psnp", "decnet",
    "atalk", "aarp", "ipx", "netbeui", "lat", "sca", "mopdl", "moprc",
    "decnet host 1.2", "decnet src 1.2", "decnet dst 1.1", "decnet dst 1.2",
    "decnet host 1026", "decnet src 1.2.3", "decnet host 64.1", "decnet dst 1.4",
    "mpls", "mpls 5", "mpls 7", "mpls and ip", "mpls and ip6", "mpls 5 and tcp port 80",
    "mpls and mpls 5 and ip", "mpls and udp", "mpls and host 198.18.0.2",
    "pppoed", "pppoes", "pppoes 3", "pppoes and ip", "pppoes 7 and ip6",
    "pppoes and tcp port 80", "pppoes and host 198.18.0.2", "vlan 5 and pppoes and ip",
    "protochain 6", "ip6 protochain 17", "ip protochain 6", "protochain \\udp",
    "ip6 protochain 58", "ip protochain 17", "protochain 51", "protochain 59",
    "tcp or protochain 17", "vlan and ip6 protochain 6",
    "geneve", "geneve 5", "geneve 6", "geneve and ip", "geneve and ip6", "geneve and arp",
    "geneve and tcp port 80", "geneve 5 and host 198.18.0.2", "geneve and udp port 53",
    "geneve and ip[9] = 6", "geneve and tcp[13] & 2 != 0", "geneve and ether[12:2] = 0x800",
    "geneve and ip6 net 2001:db8::/32", "geneve or tcp", "vlan and geneve and tcp",
    "not geneve and udp", "geneve and ether proto 0x86dd", "geneve and ip[2:2] - ip[0] > 10",
    "geneve and ether host 00:00:00:00:00:00", "geneve and ether src 02:00:00:00:00:01",
    "geneve and ether broadcast", "geneve and ether multicast", "geneve and multicast",
    "geneve and vlan", "geneve and vlan 10", "geneve and vlan 5 and ip6",
    "geneve and vlan 10 and tcp port 80", "geneve and vlan and ip[2:2] > 3",
    "geneve and vlan and tcp[13] = 2", "geneve and vlan and vlan", "geneve and mpls",
    "geneve and mpls 7", "geneve and mpls and mpls 5 and ip", "geneve and mpls 5",
    "geneve and mpls and mpls and tcp port 80", "geneve and vlan and host 198.18.0.2",
    "geneve and pppoes", "geneve and pppoes 3 and ip", "geneve and pppoes and tcp port 80",
    "geneve and vlan and pppoes 3 and ip", "geneve and pppoes and ip6",
    # 802.2 LLC inside geneve's Ethernet, after mpls (never true: libpcap reads the outer
    # length field), a session inside a session
    "geneve and llc", "geneve and llc i", "geneve and llc s", "geneve and llc u",
    "geneve and llc rr", "geneve and llc ui", "geneve and llc xid", "geneve and stp",
    "geneve and ipx", "geneve and iso", "geneve and isis", "geneve and clnp",
    "geneve and esis", "geneve and netbeui", "geneve and atalk", "geneve and aarp",
    "geneve and l1", "geneve and lsp", "geneve and psnp", "geneve and ether proto 100",
    "geneve and vlan and stp", "geneve and vlan and llc", "geneve and vlan and isis",
    "geneve 5 and llc u", "geneve and mpls and llc", "mpls and llc", "mpls and llc i",
    "mpls and llc ui", "vlan and mpls and llc", "vlan and mpls and llc rr", "vlan and llc",
    "vlan and stp", "vlan and isis", "pppoes and pppoes", "pppoes and pppoes 5",
    "geneve and decnet host 1.2", "geneve and decnet src 1.2", "geneve and decnet dst 1.1",
    # link[], ether[] and byte count from the PPP header past pppoes, geneve's inner frame
    "pppoes and ppp[1] = 0x21", "pppoes and ppp[0:2] = 0x57", "pppoes and ether[0] = 0",
    "pppoes and link[0] = 2", "pppoes and pppoes and link[1] = 0x21", "pppoes 3 and ppp[0] = 0",
    "pppoes and byte 1 = 0x21", "vlan and pppoes and byte 1 = 0x21", "geneve and byte 9 = 6",
    "geneve and byte 23 = 6", "geneve and pppoes and ether[1] = 0x21",
    "geneve and pppoes and byte 1 = 0x21", "geneve and link[12:2] = 0x800",
    "mpls and geneve and ip", "mpls and geneve and tcp port 80", "mpls and geneve and llc",
    "mpls and geneve and mpls", "mpls and geneve and ether host 02:00:00:00:00:01",
    "geneve and geneve", "geneve and geneve 9", "geneve 7 and geneve and ip",
    "geneve and geneve and ip6", "geneve and geneve and tcp port 80",
    "geneve and geneve and ether host 02:00:00:00:00:01", "geneve and vlan and geneve",
    "geneve and geneve and byte 9 = 6", "geneve and geneve and udp[0:2] = 40000",
    "geneve and pppoes and geneve", "geneve or geneve 9", "mpls and geneve and geneve",
    "pppoes and mpls and ip", "pppoes and mpls 5 and tcp port 80", "pppoes and mpls and inbound",
    "pppoes and mpls and link[1] = 0x81", "pppoes and mpls and ppp[0:2] = 0x281",
    "pppoes and mpls and byte 1 = 0x81", "geneve and pppoes and mpls and ether[1] = 0x81",
    "pppoes 3 and pppoes and ip", "pppoes and pppoes and tcp port 80",
    "ah", "esp", "pim", "vrrp", "carp", "igrp", "ip6 proto 50", "ip proto 51",
    "ah or esp", "pim and ip6", "vrrp or carp",
    # bytes, lengths, metadata
    "byte 2 = 3", "byte 0 = 0x45", "byte 13 > 2", "byte 20 < 8", "byte 1 | 4",
    "length > 60", "length <= 64", "len >= 80", "length - 14 > 40", "less 60",
    "greater 80", "inbound", "outbound", "ifindex 2", "ifindex 3 and udp",
    "not inbound and ip6", "pppoes or not inbound", "pppoes and ifindex 3",
    "pppoes or ifindex 3", "geneve or inbound", "geneve and outbound",
    # ICMP/ICMPv6/TCP names
    "icmp[icmptype] = icmp-tstamp", "icmp[icmptype] = icmp-unreach",
    "icmp[icmpcode] != 0", "icmp[icmptype] = icmp-sourcequench or icmp[0] = icmp-redirect",
    "icmp[icmptype] = icmp-routeradvert", "icmp[icmptype] = icmp-routersolicit",
    "icmp[icmptype] = icmp-timxceed", "icmp[icmptype] = icmp-paramprob",
    "icmp[icmptype] = icmp-tstampreply", "icmp[icmptype] = icmp-ireq",
    "icmp[icmptype] = icmp-ireqreply", "icmp[icmptype] = icmp-maskreq",
    "icmp[icmptype] = icmp-maskreply", "icmp[0] = icmp-echoreply",
    "icmp6[icmp6type] = icmp6-destinationunreach", "icmp6[icmp6type] = icmp6-packettoobig",
    "icmp6[icmp6type] = icmp6-timeexceeded", "icmp6[icmp6type] = icmp6-parameterproblem",
    "icmp6[icmp6type] = icmp6-echoreply", "icmp6[icmp6type] = icmp6-multicastlistenerquery",
    "icmp6[icmp6type] = icmp6-multicastlistenerreportv1",
    "icmp6[icmp6type] = icmp6-multicastlistenerdone", "icmp6[0] = icmp6-routersolicit",
    "icmp6[0] = icmp6-routeradvert", "icmp6[0] = icmp6-neighboradvert",
    "icmp6[0] = icmp6-redirect", "icmp6[0] = icmp6-routerrenum",
    "icmp6[0] = icmp6-nodeinformationquery", "icmp6[0] = icmp6-nodeinformationresponse",
    "icmp6[0] = icmp6-ineighbordiscoverysolicit", "icmp6[0] = icmp6-ineighbordiscoveryadvert",
    "icmp6[0] = icmp6-multicastlistenerreportv2", "icmp6[0] = icmp6-homeagentdiscoveryrequest",
    "icmp6[0] = icmp6-homeagentdiscoveryreply", "icmp6[0] = icmp6-mobileprefixsolicit",
    "icmp6[0] = icmp6-mobileprefixadvert", "icmp6[0] = icmp6-certpathsolicit",
    "icmp6[0] = icmp6-certpathadvert", "icmp6[0] = icmp6-multicastrouteradvert",
    "icmp6[0] = icmp6-multicastroutersolicit", "icmp6[0] = icmp6-multicastrouterterm",
    "icmp6[icmp6code] = 4", "tcp[tcpflags] & tcp-fin != 0", "tcp[tcpflags] & tcp-rst != 0",
    "tcp[tcpflags] & tcp-push != 0", "tcp[tcpflags] & tcp-ack != 0",
    "tcp[tcpflags] & tcp-urg != 0", "tcp[tcpflags] & (tcp-ece|tcp-cwr) != 0",
    "tcp[tcpflags] == tcp-syn|tcp-ack", "igmp[0] = 0x11", "pim[0] = 0x20", "vrrp[0] = 0x21",
    "igrp[0] = 0", "carp[0] & 0xf0 = 0x20", "sctp[0:2] = 443",
    # the usual ones again, for the other link types
    "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "tcp port 80",
    "udp port 53", "host 198.18.0.1", "src net 198.18.0.0/15", "ip6 net 2001:db8::/32",
    "ip multicast", "ip6 multicast", "ip broadcast", "tcp[13] & 2 != 0", "ip[9] = 17",
    "ip6[6] = 58", "vlan", "vlan 5 and tcp", "ether host 02:00:00:00:00:01", "broadcast",
    "multicast", "ether proto 0x88cc", "ether proto 100", "ether[0] = 2", "link[0] = 0",
    "arp host 198.18.0.2", "portrange 1-1024", "proto 6", "ip proto 300",
    "ether proto 0x10000", "ip and ip6", "not ip and not ip6",
]

# refused by libpcap on every link type: we must refuse them too, never crash
REFUSED = [
    "vxlan", "ip proto tcp", "proto \\igrp", "proto \\carp", "ip6 proto \\icmp6",
    "udp port smtp", "sctp port http", "port nosuchservice", "host nosuchhost.invalid",
    "net localhost", "ether host localhost", "gateway localhost", "len 5",
    "host 2001:db8::1/127", "ip6 host 2001:db8::/64", "host 1.2.3.4/32", "atalk proto 1",
    "mpls 1048576", "pppoes 65536", "ether host ab.CD.ef.0.0.1.2", "ether host 1:2:3:4:5",
    "proto \\nosuch", "\\", "tcp \\", "port 1-2-3", "icmp6[0] = icmp6-nosuch",
    "isis l1", "llc nosuch", "type mgt", "vpi 1", "on eth0",
    # past pppoes the link layer is PPP's
    "pppoes and ether broadcast", "pppoes and ether host 1:2:3:4:5:6",
    "pppoes and ether src 1:2:3:4:5:6", "pppoes and ether multicast", "pppoes and llc",
    "pppoes and multicast", "pppoes and vlan", "geneve and pppoes and ether broadcast",
    "geneve and pppoes and llc i", "mpls and pppoes", "geneve and mpls and stp",
    "mpls and arp[7] = 1", "geneve and mpls and rarp[0] = 0", "mpls and geneve and vlan",
    "pppoes and mpls and ether dst 2:0:0:0:0:2", "pppoes and mpls and llc xid",
    "pppoes and mpls and ether broadcast", "pppoes and mpls and vlan",
]


def random_compounds(linktype: str, count: int) -> list[str]:
    rng = random.Random(f"compound {linktype}")
    # a primitive after geneve that did not match reads its offsets from scratch memory
    # geneve never set; libpcap's then holds what its arithmetic left there, ours zeros:
    # geneve atoms go last
    atoms = [a for a in LANGUAGE if "geneve" not in a]
    tails = [a for a in LANGUAGE if "geneve" in a]
    out = []
    for _ in range(count):
        parts = [rng.choice(atoms) for _ in range(rng.randint(2, 3))]
        if rng.random() < 0.2:
            parts[-1] = rng.choice(tails)
        text = parts[0]
        for part in parts[1:]:
            op = rng.choice(["and", "or", "and not", "or not"])
            text += f" {op} ({part})" if " " in part else f" {op} {part}"
        out.append(text)
    return out
