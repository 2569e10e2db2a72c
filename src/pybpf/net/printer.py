"""Lines in the shape of ``tcpdump -n`` for captured packets of five link types.

``Printer(linktype, options).format(packet)`` gives the whole text tcpdump prints for one
packet: the timestamp (``-t``...``-ttttt``), the link header with ``-e``, the protocols
(Ethernet II and 802.3/LLC/SNAP, STP, ARP/RARP, 802.1Q/QinQ, MPLS, PPPoE, IPv4/IPv6 with
extension headers and fragments, ICMP/ICMPv6 with ND and MLD, IGMP, GRE, IPIP, EGP, OSPF
(v2, v3), EIGRP, SCTP, DCCP, TCP with its options, UDP, DNS, TFTP, BOOTP/DHCP, DHCPv6, NTP, RIP,
Kerberos, VXLAN, OTV, Geneve, LDP, L2TP and PPP) and the payload names tcpdump adds on
well-known ports (``: HTTP``, ``: BGP``), then ``-x``/``-X``/``-A`` dumps. What it does not
decode it shows as tcpdump does for unknown data. A frame cut short ends its line with
``[|proto]``; no input makes it raise.

The printer keeps TCP connection state for relative sequence numbers (tcpdump's default;
``-S`` turns it off) and the previous timestamp for ``-ttt``: one printer per capture.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

from ..pcap import PcapPacket
from .inet_checksum import ones_sum
from .printer_arp import arp_text
from .printer_atalk import aarp_text, atalk_text, llap_text
from .printer_bfd import bfd_text
from .printer_bootp import bootp_text, ntp_text
from .printer_dccp import dccp_text
from .printer_dhcp6 import dhcp6_text
from .printer_dns import dns_text
from .printer_egp import egp_text
from .printer_eigrp import eigrp_text
from .printer_geneve import geneve_flags, geneve_options_text
from .printer_gre1 import gre1_text
from .printer_hsrp import hsrp_text
from .printer_icmp import ERROR_TYPES as ICMP_ERROR_TYPES
from .printer_icmp import icmp_text, multipart_text
from .printer_icmp6 import icmp6_text
from .printer_igmp import igmp_text
from .printer_ipopt import OptionsCut, ip_options_text
from .printer_ipsec import ipcomp_text, udp_encap_text
from .printer_ipx import ipx_text
from .printer_isakmp import IsakmpPrinter
from .printer_krb import krb_text
from .printer_l2tp import l2tp_text
from .printer_ldp import ldp_text
from .printer_llc import llc_text
from .printer_lldp import lldp_text
from .printer_ospf import ospf_text
from .printer_ospf6 import ospf6_text
from .printer_otv import otv_text
from .printer_pgm import pgm_text
from .printer_pim import pim_text
from .printer_ppp import ppp_text
from .printer_pppoe import pppoe_discovery_text, pppoe_session_text
from .printer_radius import radius_text
from .printer_rip import rip_text, ripng_text
from .printer_routing import ah_header, igrp_text, vrrp_text
from .printer_rsvp import rsvp_text
from .printer_sctp import sctp_text
from .printer_snmp import snmp_text
from .printer_tcp_options import tcp_options_text
from .printer_text import (
    HTTP_COMMANDS,
    RTSP_COMMANDS,
    SIP_COMMANDS,
    ssh_banner,
    syslog_text,
    text_protocol,
)
from .printer_tftp import tftp_text
from .printer_words import ETHERTYPES as _ETHERTYPES
from .printer_words import CutShort, LongJump, safe_text, u16, u32
from .printer_words import Truncated as _Truncated
from .printer_words import etype_name as _etype_name
from .printer_words import etype_text as _etype
from .printer_words import hex_dump as _hex
from .printer_words import ip4 as _ip4
from .printer_words import ip6 as _ip6
from .printer_words import mac as _mac
from .printer_words import need as _need
from .udp_ports import udp_protocol

__all__ = ["PrintOptions", "Printer", "LINKTYPE_NAMES"]

# DLT number -> (tcpdump's name, description) for the "reading from file" banner
LINKTYPE_NAMES = {1: ("EN10MB", "Ethernet"), 113: ("LINUX_SLL", "Linux cooked v1"),
                  276: ("LINUX_SLL2", "Linux cooked v2"), 12: ("RAW", "Raw IP"),
                  101: ("RAW", "Raw IP"), 0: ("NULL", "BSD loopback"),
                  108: ("LOOP", "OpenBSD loopback")}

_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U"),
              (0x40, "E"), (0x80, "W"))
_IP_PROTOS = {0: "Options", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 8: "EGP", 9: "IGRP",
              17: "UDP", 33: "DCCP", 41: "IPv6", 43: "Routing", 44: "Fragment", 46: "RSVP",
              47: "GRE", 50: "ESP", 51: "AH", 55: "Mobile IP", 58: "ICMPv6",
              62: "Mobile IP (old)", 88: "EIGRP", 89: "OSPF", 103: "PIM", 108: "Compressed IP",
              112: "VRRP", 113: "PGM", 132: "SCTP", 135: "Mobility", 143: "Ethernet"}
_NEXT_HEADERS = {**_IP_PROTOS, 60: "DSTOPT"}


@dataclass(frozen=True)
class PrintOptions:
    """tcpdump's printing flags: ``link_header`` (-e), ``verbose`` (count of -v),
    ``quiet`` (-q), ``absolute_seq`` (-S), ``time_format`` (number of -t: 0 default,
    1 none, 2 epoch, 3 delta, 4 date, 5 since first), ``dump`` ("x", "xx", "X", "XX",
    "A" or "")."""

    link_header: bool = False
    verbose: int = 0
    quiet: bool = False
    absolute_seq: bool = False
    time_format: int = 0
    dump: str = ""
    utc: bool = False


class Printer:
    """Formats packets of one capture, one after another."""

    def __init__(self, linktype: int = 1, options: PrintOptions | None = None) -> None:
        self.linktype = linktype
        self.options = options or PrintOptions()
        self._connections: dict[tuple[bytes, int, bytes, int], list[int]] = {}
        self._previous_us: int | None = None
        self._first_us: int | None = None
        self._addresses = (b"", b"")
        self._fragment = False  # the transport header is in a fragment: no checksums
        self._ttl = 0           # the innermost IP header's TTL or hop limit (VRRP shows it)
        self._left_packet = ""  # where tcpdump abandoned the packet (a bounds-checked read)
        self._isakmp = IsakmpPrinter()   # remembers IKE initiators, as tcpdump does

    # -- whole packets --------------------------------------------------------------------------

    def format(self, packet: PcapPacket) -> str:
        """Everything tcpdump prints for ``packet`` (its timestamp, line and dumps)."""
        stamp = self.timestamp(packet.timestamp_us)
        text, link_bytes = self.describe(packet.data, packet.wirelen)
        out = stamp + text
        dump = self.options.dump
        if dump:
            data = packet.data if dump in ("xx", "XX") else packet.data[link_bytes:]
            if dump == "A":
                out += "\n" + _ascii(data)
            else:
                out += _hex(data, ascii_too=dump in ("X", "XX"))
        return out

    def timestamp(self, stamp_us: int) -> str:
        """The timestamp and the space after it, per ``-t`` (empty for ``-t``)."""
        kind = self.options.time_format
        if self._first_us is None:
            self._first_us = stamp_us
        previous = self._previous_us if self._previous_us is not None else stamp_us
        self._previous_us = stamp_us
        seconds, micros = divmod(stamp_us, 1_000_000)
        convert = time.gmtime if self.options.utc else time.localtime
        if kind == 1:
            return ""
        if kind == 2:
            return f"{seconds}.{micros:06d} "
        if kind in (3, 5):
            delta = stamp_us - (previous if kind == 3 else self._first_us)
            sign = "-" if delta < 0 else " "
            d_seconds, d_micros = divmod(abs(delta), 1_000_000)
            hours, rest = divmod(d_seconds, 3600)
            return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{d_micros:06d} "
        if kind == 4:
            return time.strftime("%Y-%m-%d %H:%M:%S", convert(seconds)) + f".{micros:06d} "
        return time.strftime("%H:%M:%S", convert(seconds)) + f".{micros:06d} "

    def describe(self, frame: bytes, wirelen: int | None = None) -> tuple[str, int]:
        """The line without its timestamp, and how many bytes the link header took."""
        if wirelen is None:
            wirelen = len(frame)
        try:
            if self.linktype == 1:
                return self._ethernet(frame, wirelen)
            if self.linktype == 113:
                return self._sll(frame, wirelen)
            if self.linktype == 276:
                return self._sll2(frame, wirelen)
            if self.linktype in (12, 14, 101):
                if self.options.link_header:
                    return "ip: " + self._network_by_version(frame, wirelen, prefix=False), 0
                return self._network_by_version(frame, wirelen), 0
            if self.linktype in (0, 108):
                return self._loopback(frame, wirelen)
        except _Truncated as cut:
            return f" [|{cut.proto}]", 0
        except (struct.error, ValueError, IndexError):
            # a header whose fields contradict each other (lengths beyond the data...):
            # what tcpdump calls an invalid packet
            return " (invalid)", 0
        return f"unsupported link type {self.linktype}", 0

    def _unknown(self, data: bytes) -> str:
        """tcpdump dumps what it cannot decode, unless -x/-X/-A dump everything anyway."""
        if self.options.quiet or self.options.dump in ("x", "xx", "X", "XX"):
            return ""
        return _hex(data, ascii_too=True)

    # -- link layers ----------------------------------------------------------------------------

    def _ethernet(self, frame: bytes, wirelen: int) -> tuple[str, int]:
        if len(frame) < 14:
            return " [|ether]", 0
        dst, src = _mac(frame[0:6]), _mac(frame[6:12])
        etype = struct.unpack_from("!H", frame, 12)[0]
        e = self.options.link_header
        head = f"{src} > {dst}, " if e else ""
        if etype <= 1500:  # 802.3: a length, then 802.2 LLC
            # a length beyond the frame's (a tunnel's inner frame can claim any) gives way
            size = min(etype, wirelen - 14)
            llc = frame[14:14 + size]
            if e:
                head += f"802.3, length {size}: "
            text, llc_bytes = llc_text(self, llc, size, src, dst)
            return head + text, 14 + llc_bytes
        offset = 14
        text = suffix = ""
        while etype in _VLAN_TPIDS:
            if len(frame) < offset + 4:
                # the last tag's EtherType words come only once the next tag is read
                return head + text[:len(text) - len(suffix)] + " [|vlan]", offset
            tci, inner = struct.unpack_from("!HH", frame, offset)
            if e:
                quiet = self.options.quiet
                if not text:
                    head += (f"{_etype_name(etype)}, length {wirelen}: " if quiet else
                             f"ethertype {_etype(etype)}, length {wirelen}: ")
                suffix = (f"{_etype_name(inner)}, " if quiet else
                          f"ethertype {_etype(inner)}, ")
                text += (f"vlan {tci & 0xFFF}, p {tci >> 13}"
                         + (", DEI" if tci & 0x1000 else "") + ", " + suffix)
            etype = inner
            offset += 4
        if e and not text:
            if self.options.quiet:
                kind = _ETHERTYPES.get(etype, f"Unknown Ethertype (0x{etype:04x})")
                head += f"{kind}, length {wirelen}: "
            else:
                head += f"ethertype {_etype(etype)}, length {wirelen}: "
        body = self._ethertype(etype, frame[offset:], wirelen - offset, frame, offset)
        if body is None:
            if not e:
                kind = f"Unknown Ethertype (0x{etype:04x})" if self.options.quiet else \
                    f"ethertype {_etype(etype)}"
                head = f"{src} > {dst}, {kind}, length {wirelen}: "
            return head + text + self._unknown(frame[offset:]), offset
        return head + text + body, offset

    def _sll(self, frame: bytes, wirelen: int) -> tuple[str, int]:
        if len(frame) < 16:
            return "[|sll]", 0
        pkttype, _, addrlen = struct.unpack_from("!HHH", frame)
        etype = struct.unpack_from("!H", frame, 14)[0]
        head = ""
        if self.options.link_header:
            direction = {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}.get(pkttype, "?")
            addr = _mac(frame[6:6 + min(addrlen, 8)])
            head = f"{direction:>3} {addr} ethertype {_etype(etype)}, length {wirelen}: "
        body = self._ethertype(etype, frame[16:], wirelen - 16, frame, 16)
        return head + (body if body is not None else ""), 16

    def _sll2(self, frame: bytes, wirelen: int) -> tuple[str, int]:
        if len(frame) < 20:
            return " [|sll2]", 0
        etype = struct.unpack_from("!H", frame, 0)[0]
        ifindex = struct.unpack_from("!I", frame, 4)[0]
        pkttype, addrlen = frame[10], frame[11]
        direction = {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}.get(pkttype, "?")
        try:  # tcpdump names the interface as this machine knows its index
            ifname = socket.if_indextoname(ifindex)
        except OSError:
            ifname = str(ifindex)
        if self.options.link_header:
            head = (f"{ifname:<5} {direction:<3} ifindex {ifindex} "
                    f"{_mac(frame[12:12 + min(addrlen, 8)])} ethertype {_etype(etype)}, "
                    f"length {wirelen}: ")
            body = self._ethertype(etype, frame[20:], wirelen - 20, frame, 20)
        else:
            head = f"{ifname:<5} {direction:<3} "
            body = self._ethertype(etype, frame[20:], wirelen - 20, frame, 20, prefix=True)
        return head + (body if body is not None else ""), 20

    def _loopback(self, frame: bytes, wirelen: int) -> tuple[str, int]:
        if len(frame) < 4:
            return " [|null]", 0
        order = "<" if self.linktype == 0 else ">"
        family = struct.unpack_from(order + "I", frame)[0]
        if self.linktype == 0 and family & 0xFFFF0000:
            family = struct.unpack_from(">I", frame)[0]  # written on the other byte order
        # BSD's numbering: IPv6 is 24, 28 or 30 (Linux's 10 is not one of them)
        name = {2: "IPv4", 24: "IPv6", 28: "IPv6", 30: "IPv6"}.get(family, "Unknown")
        e = self.options.link_header
        head = f"AF {name} ({family}), length {wirelen}: " if e else ""
        payload = frame[4:]
        if family == 2:
            return head + self._ipv4(payload, wirelen - 4, prefix=not e), 4
        if name == "IPv6":
            return head + self._ipv6(payload, wirelen - 4, prefix=not e), 4
        return f"AF {name} ({family}), length {wirelen}: " + self._unknown(payload), 4

    def _network_by_version(self, packet: bytes, length: int, *, prefix: bool = True) -> str:
        _need(packet, 1, "ip")
        if packet[0] >> 4 == 4:
            return self._ipv4(packet, length, prefix=prefix)
        if packet[0] >> 4 == 6:
            return self._ipv6(packet, length, prefix=prefix)
        return f"IP{packet[0] >> 4}"

    def _ethertype(self, etype: int, payload: bytes, length: int, frame: bytes,
                   offset: int, *, prefix: bool | None = None) -> str | None:
        """The text for ``payload`` of EtherType ``etype`` (None: unknown, dump it)."""
        e = self.options.link_header if prefix is None else not prefix
        try:
            if etype == 0x0800:
                return self._ipv4(payload, length, prefix=not e)
            if etype == 0x86DD:
                return self._ipv6(payload, length, prefix=not e)
            if etype in (0x0806, 0x8035):
                return arp_text(payload, length, prefix=not e, verbose=self.options.verbose)
            if etype in (0x8847, 0x8848):
                return self._mpls(payload, length)
            if etype == 0x8863:
                return pppoe_discovery_text(payload, length, self._ppp)
            if etype == 0x8864:
                return pppoe_session_text(payload, length, self._ppp)
            if etype == 0x6558:
                text, _ = self._ethernet(payload, length)
                return text
            if etype == 0x88CC:
                return self._lldp(payload, length)
            if etype == 0x809B:   # -v names the encapsulation: EtherTalk phase 1
                return ("et1 " if self.options.verbose else "") + atalk_text(payload, length, e)
            if etype == 0x80F3:
                return aarp_text(payload, length)
            if etype == 0x8137:
                return "(NOV-ETHII) " + ipx_text(payload, e)
        except _Truncated as cut:
            return f" [|{cut.proto}]"
        except LongJump as jump:
            return ("(NOV-ETHII) " if etype == 0x8137 else "") + jump.text + \
                f" [|{jump.proto}]"
        return None

    def _lldp(self, payload: bytes, length: int) -> str:
        return lldp_text(payload, length, self.options.verbose)

    def _mpls(self, payload: bytes, length: int) -> str:
        verbose = self.options.verbose
        parts: list[str] = []
        offset = 0
        while True:
            if len(payload) < offset + 4:   # the labels read so far, then tcpdump's mark
                self._left_packet = "mpls"
                return ("MPLS " + ("\n\t" if verbose else ", ").join(parts)).rstrip(" ") + \
                    " [|mpls]"
            entry = struct.unpack_from("!I", payload, offset)[0]
            label, tc, bottom, ttl = entry >> 12, (entry >> 9) & 7, (entry >> 8) & 1, \
                entry & 0xFF
            name = f" ({_MPLS_RESERVED.get(label, 'rsvd')})" if verbose and label < 16 else ""
            parts.append(f"(label {label}{name}, tc {tc}{', [S]' if bottom else ''}, "
                         f"ttl {ttl})")
            offset += 4
            if bottom:
                break
        inner = payload[offset:]
        # -v puts each further label, and the packet inside, on a line of its own
        gap = "\n\t" if verbose else " "
        text = "MPLS " + ("\n\t" if verbose else ", ").join(parts)
        prefix = not self.options.link_header
        if not inner:
            self._left_packet = "mpls"
            return text + " [|mpls]"
        if inner and inner[0] >> 4 == 4:
            return text + gap + self._ipv4(inner, length - offset, prefix=prefix)
        if inner and inner[0] >> 4 == 6:
            return text + gap + self._ipv6(inner, length - offset, prefix=prefix)
        return text

    def _ppp(self, frame: bytes, length: int) -> str:
        """A PPP frame (PPPoE's, L2TP's): its network protocols come back to this printer."""
        return ppp_text(frame, length, self.options.verbose, self.options.link_header,
                        self._ppp_network)

    def _inner_ip(self, version: int, packet: bytes, length: int) -> str:
        """A packet another protocol carries (PIM's Register)."""
        prefix = not self.options.link_header
        if version == 4:
            return self._ipv4(packet, length, prefix=prefix)
        return self._ipv6(packet, length, prefix=prefix)

    def _ppp_network(self, family: int, packet: bytes, length: int) -> str | None:
        prefix = not self.options.link_header
        self._left_packet = ""
        if family == 0x21:
            text = self._ipv4(packet, length, prefix=prefix)
        elif family == 0x57:
            text = self._ipv6(packet, length, prefix=prefix)
        elif family == 0x2B:
            return ipx_text(packet, self.options.link_header)
        else:
            text = self._mpls(packet, length)
        marker = f" [|{self._left_packet}]"
        if self._left_packet and text.endswith(marker):
            # tcpdump left the whole packet there: nothing of L2TP's follows
            raise LongJump(text[:-len(marker)], self._left_packet)
        return text

    # -- IP ---------------------------------------------------------------------------------------

    def _ipv4(self, packet: bytes, length: int, *, prefix: bool) -> str:
        head = "IP " if prefix else ""
        self._fragment = False
        if packet and packet[0] >> 4 != 4:
            version = packet[0] >> 4
            return ("IP6, wrong link-layer encapsulation" if version == 6
                    else f"IP{version}") + " (invalid)"
        if not packet:   # tcpdump names the protocol only once it has a byte of it
            self._left_packet = "ip"
            return " [|ip]"
        if len(packet) < 20:
            return head + " [|ip]"
        ihl = (packet[0] & 0x0F) * 4
        if length < 20:
            return head + f"truncated-ip {length}"
        if ihl < 20:    # also keeps a header that claims no length from nesting forever
            return head + f"bad-hlen {ihl}"
        total = struct.unpack_from("!H", packet, 2)[0]
        if length < total:   # tcpdump goes on with the header's length
            head += f"truncated-ip - {total - length} bytes missing! "
        if total < ihl:
            return head + f"bad-len {total}"
        tos, total, ident, frag, ttl, proto = struct.unpack_from("!xBHHHBB", packet)
        self._ttl = ttl
        src, dst = packet[12:16], packet[16:20]
        src_text, dst_text = _ip4(src), _ip4(dst)
        verbose = ""
        if self.options.verbose:
            flags = [w for bit, w in ((0x2000, "+"), (0x4000, "DF"), (0x8000, "rsvd"))
                     if frag & bit]
            proto_name = _IP_PROTOS.get(proto, "unknown")
            verbose = (f"(tos 0x{tos:x}" + ("", ",ECT(1)", ",ECT(0)", ",CE")[tos & 3]
                       + (f", ttl {ttl}" if ttl else "")
                       + f", id {ident}, offset {(frag & 0x1FFF) * 8}, flags "
                       f"[{', '.join(flags) if flags else 'none'}], proto {proto_name} "
                       f"({proto}), length {total}")
            if ihl > 20:
                try:
                    verbose += ", options (" + ip_options_text(packet[20:], ihl - 20) + ")"
                except OptionsCut as cut:
                    if not cut.checked:   # tcpdump left the packet inside an option
                        self._left_packet = "ip"
                        return head + verbose + ", options (" + cut.text + " [|ip]"
                    self._left_packet = "ip"
                    return (head + verbose + ", options (" + cut.text + "))\n    "
                            + f"{src_text} > {dst_text}:  [|ip]")
            if len(packet) >= ihl and ones_sum(packet[:ihl]) != 0xFFFF:
                stored = struct.unpack_from("!H", packet, 10)[0]
                right = ~ones_sum(packet[:10] + b"\0\0" + packet[12:ihl]) & 0xFFFF
                verbose += f", bad cksum {stored:x} (->{right:x})!"
            verbose += ")\n    "
            head = head + verbose
        payload_len = total - ihl
        payload = packet[ihl:min(total, len(packet))]
        self._fragment = bool(frag & 0x3FFF & ~0x4000 & 0xFFFF) and bool(frag & 0x2000 or
                                                                      frag & 0x1FFF)
        if frag & 0x1FFF:
            return head + f"{src_text} > {dst_text}: ip-proto-{proto}"
        if len(packet) < ihl:   # options cut short: tcpdump leaves the packet here
            self._left_packet = "ip"
            names = "" if proto in (6, 17, 33, 132) else f"{src_text} > {dst_text}: "
            return head + (f"{names} [remaining caplen({len(packet)}) < header length({ihl})]"
                           " [|ip]")
        return head + self._transport(proto, src, dst, src_text, dst_text, payload,
                                      payload_len, frag)

    def _ipv6(self, packet: bytes, length: int, *, prefix: bool) -> str:
        head = "IP6 " if prefix else ""
        self._fragment = False
        if len(packet) < 40:
            return " [|ip6]"
        if length < 40:
            return f"truncated-ip6 {length}"
        if packet[0] >> 4 != 6:
            return head + f"version error: {packet[0] >> 4} != 6"
        flow_word, payload_len, next_header, hop_limit = struct.unpack_from("!IHBB", packet)
        if payload_len and length < payload_len + 40:
            head += f"truncated-ip6 - {payload_len + 40 - length} bytes missing!"
        self._ttl = hop_limit
        src, dst = packet[8:24], packet[24:40]
        src_text, dst_text = _ip6(src), _ip6(dst)
        if self.options.verbose:
            head += ("(" + (f"class 0x{(flow_word >> 20) & 0xFF:02x}, "
                             if (flow_word >> 20) & 0xFF else "")
                     + (f"flowlabel 0x{flow_word & 0xFFFFF:05x}, "
                        if flow_word & 0xFFFFF else "")
                     + f"hlim {hop_limit}, next-header {_NEXT_HEADERS.get(next_header, 'unknown')}"
                     f" ({next_header}) payload length: {payload_len}) ")
        offset = 40
        words: list[str] = []
        remaining = payload_len
        after_fragment = False
        while next_header in (0, 43, 60, 44):
            names = f"{src_text} > {dst_text}: " + "".join(w + " " for w in words)
            if after_fragment and len(packet) <= offset:   # tcpdump stops there quietly
                return head + names
            needed = (4 + 4 * bool(self.options.verbose) if next_header == 44 else
                      8 if len(packet) < offset + 2 else (packet[offset + 1] + 1) * 8)
            if len(packet) < offset + needed:
                self._left_packet = {0: "hbhopt", 43: "srcrt", 60: "dstopt", 44: "frag6"}[
                    next_header]
                return head + names + f" [|{self._left_packet}]"
            if next_header == 44:
                inner, _, frag_word = struct.unpack_from("!BBH", packet, offset)
                ident = u32(packet, offset + 4) if self.options.verbose else 0
                frag_off = frag_word & 0xFFF8
                words.append(f"frag (0x{ident:08x}:{frag_off}|{remaining - 8})"
                             if self.options.verbose else
                             f"frag ({frag_off}|{remaining - 8})")
                offset += 8
                remaining -= 8
                next_header = inner
                self._fragment = after_fragment = True
                if frag_off:
                    return head + f"{src_text} > {dst_text}: " + " ".join(words)
                continue
            ext_len = (packet[offset + 1] + 1) * 8
            word = {0: "HBH", 43: "srcrt", 60: "DSTOPT"}[next_header]
            if self.options.verbose and next_header != 43:
                # "HBH (rtalert: 0x0000) (padn) ": the join below adds the last space
                word += " " + _ip6_option_words(packet[offset + 2:offset + ext_len],
                                                payload_len)
            words.append(word)
            after_fragment = False
            next_header = packet[offset]
            offset += ext_len
            remaining -= ext_len
        if after_fragment and len(packet) <= offset:
            return head + f"{src_text} > {dst_text}: " + "".join(w + " " for w in words)
        payload = packet[offset:offset + max(remaining, 0)]
        text = self._transport(next_header, src, dst, src_text, dst_text, payload, remaining, 0,
                               v6=True)
        if words:
            # tcpdump puts the extension headers after the addresses, then names only ports
            return head + f"{src_text} > {dst_text}: " + " ".join(words) + " " + \
                self._strip_addresses(text, src_text, dst_text)
        return head + text

    @staticmethod
    def _strip_addresses(text: str, src: str, dst: str) -> str:
        """``a.p > b.q: X`` -> ``p > q: X``; ``a > b: X`` -> ``X`` (after a fragment or
        extension header tcpdump names only the ports)."""
        plain = f"{src} > {dst}: "
        if text.startswith(plain + "[|"):
            return text   # TCP cut short before its ports: tcpdump names the addresses
        if text.startswith(plain):
            return text[len(plain):]
        if text.startswith(src + "."):
            left, _, rest = text.partition(" > ")
            right, _, tail = rest.partition(": ")
            return f"{left[len(src) + 1:]} > {right[len(dst) + 1:]}: {tail}"
        return text

    def _transport(self, proto: int, src: bytes, dst: bytes, src_text: str, dst_text: str,
                   payload: bytes, length: int, frag: int, *, v6: bool = False) -> str:
        addresses = f"{src_text} > {dst_text}: "
        self._addresses = (src, dst)
        try:
            if proto == 6:
                return self._tcp(src, dst, src_text, dst_text, payload, length)
            if proto == 17:
                return self._udp(src_text, dst_text, payload, length)
            if proto == 1 and not v6:
                return addresses + self._icmp(payload, length)
            if proto == 58 and v6:
                return addresses + self._icmp6(payload, length)
            if proto == 58:
                return addresses + "[ICMPv6 requires IPv6] (invalid)"
            if proto == 2 and not v6:
                return addresses + self._igmp(payload, length)
            if proto == 47:
                return addresses + self._gre(payload, length)
            if proto == 4:
                return addresses + self._ipv4(payload, length, prefix=not
                                              self.options.link_header)
            if proto == 41:
                return addresses + self._ipv6(payload, length, prefix=True)
        except _Truncated as cut:
            self._left_packet = cut.proto
            return addresses + f" [|{cut.proto}]"
        if proto == 59 and v6:
            return addresses + "no next header"
        if proto == 33:
            return dccp_text(payload, length, self.options.verbose, self.options.quiet,
                             src_text, dst_text, src + dst)
        if proto == 132:
            return sctp_text(payload, length, self.options.verbose, src_text, dst_text)
        if proto == 51:
            header, size = ah_header(payload, self.options.verbose)
            if not size:
                return addresses + header
            inner = self._transport(payload[0], src, dst, src_text, dst_text, payload[size:],
                                    length - size, frag, v6=v6)
            return addresses + header + self._strip_addresses(inner, src_text, dst_text)
        if proto == 103:   # PIM's checksum covers IPv6's pseudo-header, not IPv4's
            pseudo = src + dst if v6 else b""
            return addresses + pim_text(payload, length, self.options.verbose, pseudo,
                                        self._inner_ip)
        if proto == 112:
            pseudo = src + dst + (struct.pack("!IxxxB", length, 112) if v6
                                  else struct.pack("!xBH", 112, length))
            return addresses + vrrp_text(payload, length, self.options.verbose, self._ttl,
                                         pseudo)
        if proto == 8:
            return addresses + egp_text(payload, length, self.options.verbose)
        if proto == 46:
            return addresses + rsvp_text(payload, length, self.options.verbose)
        if proto == 113:
            return addresses + pgm_text(payload, length, self.options.verbose,
                                        (src_text, dst_text))
        if proto == 88:
            return addresses + eigrp_text(payload, length, self.options.verbose)
        if proto == 89:
            return addresses + (ospf6_text if v6 else ospf_text)(payload, length,
                                                                 self.options.verbose)
        if proto == 108:
            return addresses + ipcomp_text(payload)
        if proto == 9 and not v6:
            return addresses + igrp_text(payload, length, self.options.verbose)
        if proto == 50 and len(payload) >= 8:
            spi, seq = struct.unpack_from("!II", payload)
            return addresses + f"ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {length}"
        return addresses + f" ip-proto-{proto} {length}"

    def _icmp(self, payload: bytes, length: int) -> str:
        try:
            text = icmp_text(payload, length, self.options.verbose, self._fragment)
            if self.options.verbose and payload[:1] and payload[0] in ICMP_ERROR_TYPES:
                if len(payload) < 12:   # the quoted header's length is read first
                    self._left_packet = "icmp"
                    return text + "\n\t [|icmp]"
                text += self._icmp_inner(payload[8:])
                text += multipart_text(payload, length)
        except CutShort:
            raise _Truncated("icmp") from None
        return text

    def _icmp_inner(self, inner: bytes) -> str:
        """tcpdump -v shows the packet an ICMP error quotes, on its own lines."""
        saved = self._addresses
        if len(inner) < 4:
            raise _Truncated("icmp")
        total = struct.unpack_from("!H", inner, 2)[0]
        text = self._ipv4(inner[:total], total, prefix=not self.options.link_header)
        self._addresses = saved
        return "\n\t" + text

    def _icmp6(self, payload: bytes, length: int) -> str:
        src, dst = self._addresses
        pseudo = src + dst + struct.pack("!IxxxB", length, 58)
        try:
            return icmp6_text(payload, length, self.options.verbose, self._fragment, pseudo)
        except CutShort:
            raise _Truncated("icmp6") from None

    def _igmp(self, payload: bytes, length: int) -> str:
        if self.options.quiet:
            return "igmp"
        try:
            return igmp_text(payload, length, self.options.verbose)
        except LongJump as jump:
            self._left_packet = jump.proto
            return jump.text + f" [|{jump.proto}]"

    def _gre(self, payload: bytes, length: int) -> str:
        _need(payload, 2, "gre")
        if u16(payload, 0) & 7:   # PPTP's enhanced GRE, or a version tcpdump refuses
            version = u16(payload, 0) & 7
            if version > 1:
                return f"GREv{version} ERROR: unknown-version"
            return gre1_text(payload, length, self.options.verbose, self.options.link_header,
                             self._ppp)
        if len(payload) < 4:   # tcpdump names the version (and -v the flags) first
            flags = u16(payload, 0)
            self._left_packet = "gre"
            named = ", ".join(name for bit, name in _GRE_FLAGS if flags & bit)
            return (f"GREv{flags & 7}" + (f", Flags [{named or 'none'}]"
                                          if self.options.verbose else "") + " [|gre]")
        flags, proto = struct.unpack_from("!HH", payload)
        version = flags & 7
        offset = 4 + 4 * bool(flags & 0xC000) + 4 * bool(flags & 0x2000) + 4 * bool(
            flags & 0x1000)
        inner = payload[offset:]
        head = f"GREv{version}"
        words = []
        if self.options.verbose:
            words.append("Flags [" + (", ".join(name for bit, name in _GRE_FLAGS if flags & bit)
                                      or "none") + "]")
        if flags & 0xC000 and len(payload) >= 8:
            checksum, routing_offset = struct.unpack_from("!HH", payload, 4)
            if self.options.verbose:
                words.append(f"sum 0x{checksum:x}")
            words.append(f"off 0x{routing_offset:x}")
        if flags & 0x2000 and len(payload) >= offset:
            key_at = 4 + 4 * bool(flags & 0xC000)
            words.append(f"key=0x{struct.unpack_from('!I', payload, key_at)[0]:x}")
        if flags & 0x1000:
            seq_at = offset - 4
            words.append(f"seq {struct.unpack_from('!I', payload, seq_at)[0]}")
        text = head + (", " + ", ".join(words) if words else "")
        if self.options.link_header:
            text += f", proto {_etype(proto)}"
        text += f", length {length}" + ("\n\t" if self.options.verbose else ": ")
        if proto == 0x0800:
            return text + self._ipv4(inner, length - offset, prefix=not
                                     self.options.link_header)
        if proto == 0x86DD:
            return text + self._ipv6(inner, length - offset, prefix=not
                                     self.options.link_header)
        if proto == 0x6558:
            body, _ = self._ethernet(inner, length - offset)
            return text + body
        return text + f"gre-proto-0x{proto:x}"

    def _tcp(self, src: bytes, dst: bytes, src_text: str, dst_text: str, segment: bytes,
             segment_len: int) -> str:
        if len(segment) < 20:
            if len(segment) >= 4:
                sport, dport = struct.unpack_from("!HH", segment)
                return f"{src_text}.{sport} > {dst_text}.{dport}:  [|tcp]"
            return f"{src_text} > {dst_text}: [|tcp]"
        sport, dport, seq, ack, offset_byte, flags, win, _, urg = struct.unpack_from(
            "!HHIIBBHHH", segment)
        header_len = (offset_byte >> 4) * 4
        data_len = segment_len - header_len
        head = f"{src_text}.{sport} > {dst_text}.{dport}: "
        if self.options.quiet:   # tcpdump's unsigned difference, then the complaint
            return head + f"tcp {data_len & 0xFFFFFFFF}" + (
                f" [bad hdr length {header_len} - too long, > {segment_len}]"
                if header_len > segment_len else "")
        if header_len < 20:
            return head + (f" tcp {segment_len - header_len} [bad hdr length {header_len}"
                           " - too short, < 20]")
        letters = "".join(c for bit, c in _TCP_FLAGS if flags & bit) or "none"
        seq, ack, sack_base = self._relative(src, sport, dst, dport, flags, seq, ack)
        if header_len > segment_len:
            return head + (f"Flags [{letters}] [bad hdr length {header_len} - too long, > "
                           f"{segment_len}]")
        parts = [f"Flags [{letters}]"]
        if self.options.verbose and len(segment) >= segment_len:
            parts.append(_checksum_words(src, dst, 6, segment[:segment_len], 16))
        if data_len > 0 or flags & 0x07 or self.options.verbose > 1:
            parts.append(f"seq {seq}" + (f":{(seq + data_len) & 0xFFFFFFFF}"
                                         if data_len > 0 else ""))
        if flags & 0x10:
            parts.append(f"ack {ack}")
        parts.append(f"win {win}")
        if flags & 0x20:
            parts.append(f"urg {urg}")
        if header_len > 20:
            options, whole = tcp_options_text(segment[20:header_len], header_len - 20,
                                          sack_base, flags,
                                          len(segment) >= segment_len)
            parts.append(options)
            if not whole:   # tcpdump ends the line inside the options
                return head + ", ".join(parts)
        parts.append(f"length {data_len}")
        line = head + ", ".join(parts)
        if data_len > 0 and len(segment) < header_len:
            self._left_packet = "tcp"
            return line + (f" [remaining caplen({len(segment)}) < header length({header_len})]"
                           " [|tcp]")
        if data_len > 0 and flags & 0x04 and self.options.verbose:
            # -v shows what a reset carries (the first 30 bytes), "!" when not all captured
            data = segment[header_len:header_len + min(data_len, 30)]
            whole = len(segment) >= header_len + data_len
            return line + (" [RST" if whole else " [!RST") + ("+" if data_len > 30 else "") \
                + " " + safe_text(data) + "]"
        if data_len > 0 and not self._fragment:
            return line + self._tcp_payload(sport, dport, segment[header_len:], data_len)
        return line

    def _tcp_payload(self, sport: int, dport: int, data: bytes, length: int) -> str:
        """What tcpdump adds for a payload on a port it knows (print-tcp.c's order)."""
        ports = (sport, dport)
        verbose = self.options.verbose
        data = data[:length]
        if 25 in ports:
            return ": " + text_protocol(data, length, "smtp", verbose)
        if 43 in ports:
            return ": " + text_protocol(data, length, "whois", verbose)
        if 179 in ports:
            return ": BGP"
        if 22 in ports:
            return ssh_banner(data, length)
        if 21 in ports:
            return ": " + text_protocol(data, length, "ftp", verbose)
        if 80 in ports or 8080 in ports:
            return ": " + text_protocol(data, length, "http", verbose, HTTP_COMMANDS, True)
        if 554 in ports or 8554 in ports:
            return ": " + text_protocol(data, length, "rtsp", verbose, RTSP_COMMANDS, True)
        if 53 in ports:
            return dns_text(data, length, verbose, over_tcp=True)
        if 646 in ports:
            return ldp_text(data, length, verbose)
        return ""

    def _relative(self, src: bytes, sport: int, dst: bytes, dport: int, flags: int, seq: int,
                  ack: int) -> tuple[int, int, int]:
        """tcpdump's relative numbering: an ACK-carrying packet of a connection not seen yet,
        or any SYN among them, sets the bases (and prints absolute numbers); later ones
        print the difference. Also the base of the peer's numbering, which SACK edges are
        in (0 when absolute)."""
        if self.options.absolute_seq or not flags & 0x10:
            return seq, ack, 0
        # one entry for both directions, keyed from the lower port's side
        reverse = sport > dport or (sport == dport and src > dst)
        key = (dst, dport, src, sport) if reverse else (src, sport, dst, dport)
        bases = self._connections.get(key)
        if bases is None or flags & 0x02:
            bases = [(ack - 1) & 0xFFFFFFFF, seq] if reverse \
                else [seq, (ack - 1) & 0xFFFFFFFF]
            self._connections[key] = bases
        elif reverse:
            seq, ack = (seq - bases[1]) & 0xFFFFFFFF, (ack - bases[0]) & 0xFFFFFFFF
        else:
            seq, ack = (seq - bases[0]) & 0xFFFFFFFF, (ack - bases[1]) & 0xFFFFFFFF
        return seq, ack, bases[0] if reverse else bases[1]

    def _udp(self, src_text: str, dst_text: str, payload: bytes, length: int) -> str:
        if len(payload) < 4:
            return f"{src_text} > {dst_text}:  [|udp]"
        sport, dport = struct.unpack_from("!HH", payload)
        head = f"{src_text}.{sport} > {dst_text}.{dport}: "
        # tcpdump's order: the IP length, then the UDP length field, then the rest
        if length < 8:
            return head + f"truncated-udp {length}"
        if len(payload) < 6:
            return head + " [|udp]"
        udp_len = struct.unpack_from("!H", payload, 4)[0]
        if udp_len < 8:
            return head + f"truncated-udplength {udp_len}"
        if len(payload) < 8:
            return head + " [|udp]"
        v6 = ":" in src_text
        if (self.options.verbose > 1 or (v6 and self.options.verbose)) and \
                not self._fragment:
            if not v6 and payload[6:8] == b"\0\0":
                head += "[no cksum] "
            elif udp_len >= 8 and len(payload) >= min(udp_len, length):
                # over what both the UDP and the IP length hold, as tcpdump sums it
                head += _udp_checksum_words(self._addresses, payload[:min(udp_len, length)])
        data = payload[8:]
        data_len = udp_len - 8
        # a UDP length beyond the IP packet's: tcpdump says so unless it is a fragment
        plain = (f"UDP, bad length {data_len} > {length - 8}"
                 if data_len > length - 8 and not self._fragment else f"UDP, length {data_len}")
        data_len = min(data_len, length - 8)   # what tcpdump passes on to the payload
        if self.options.quiet:
            return head + plain
        # the protocol tcpdump's port chain picks, in its order (udp_ports.py); one it
        # picks that we do not decode gets the plain line, not a later one's decoding
        proto = udp_protocol(sport, dport, data)
        verbose = self.options.verbose
        try:
            if proto in ("domain", "mdns"):
                return head + dns_text(data[:data_len], data_len, verbose,
                                       mdns=proto == "mdns")
            if proto == "tftp":
                return head + tftp_text(data, data_len)
            if proto == "bootp":
                return head + bootp_text(data, data_len, verbose)
            if proto == "rip":
                return head + rip_text(data, data_len, verbose)
            if proto == "isakmp":
                return head + self._isakmp.text(data, data_len, verbose, self._addresses)
            if proto == "udp-encap":
                encap = udp_encap_text(data[:data_len], data_len)
                if encap is not None:
                    return head + encap
                return head + "NONESP-encap: " + self._isakmp.text(
                    data[4:], data_len - 4, verbose, self._addresses)
            if proto == "ntp":
                return head + ntp_text(data, data_len, verbose)
            if proto == "snmp":
                return head + snmp_text(data, data_len, verbose)
            if proto == "krb":
                return head + krb_text(data)
            if proto == "l2tp":
                return head + l2tp_text(data, data_len, self._ppp)
            if proto == "ripng":
                return head + ripng_text(data, data_len, verbose)
            if proto == "dhcp6":
                return head + dhcp6_text(data, data_len, verbose)
            if proto == "ldp":
                return head + ldp_text(data, data_len, verbose=verbose)
            if proto == "radius":
                return head + radius_text(data[:data_len], data_len, verbose)
            if proto == "hsrp":
                return head + hsrp_text(data[:data_len], data_len, verbose)
            if proto == "bfd":
                return head + bfd_text(data[:data_len], data_len, verbose, dport)
            if proto == "sip":
                return head + text_protocol(data[:data_len], data_len, "sip",
                                            verbose, SIP_COMMANDS, True)
            if proto == "syslog":
                return head + syslog_text(data[:data_len], data_len, verbose)
            if proto == "otv":
                return head + otv_text(data, data_len, self._inner_ethernet)
            if proto == "vxlan":
                return head + self._vxlan(data, data_len)
            if proto == "geneve":
                return head + self._geneve(data, data_len)
            if proto == "kip":   # AppleTalk in UDP: a LocalTalk header, then DDP
                return head + ("kip " if verbose else "") + llap_text(data[:data_len],
                                                                      data_len)
        except _Truncated as cut:
            return head + f" [|{cut.proto}]"
        except LongJump as jump:
            return head + jump.text + f" [|{jump.proto}]"
        return head + plain

    def _inner_ethernet(self, frame: bytes, length: int) -> str:
        """An Ethernet frame a tunnel carries (OTV's)."""
        return self._ethernet(frame, length)[0]

    def _vxlan(self, data: bytes, length: int) -> str:
        """VXLAN's header, then the Ethernet frame inside (a cut names VXLAN)."""
        if length < 8:
            return "VXLAN (invalid)"
        if not data:
            return "VXLAN [|vxlan]"
        flags = data[0]
        text = f"VXLAN, flags [{'I' if flags & 8 else 'invalid'}] (0x{flags:02x}), "
        if len(data) < 7:
            return text + " [|vxlan]"
        text += f"vni {int.from_bytes(data[4:7], 'big')}\n"
        if len(data) < 8:
            return text + " [|vxlan]"
        body, _ = self._ethernet(data[8:], length - 8)
        return text + body

    def _geneve(self, data: bytes, length: int) -> str:
        if length < 8:
            return f"Geneve [length {length} < 8] (invalid)"
        if len(data) < 8:
            return "Geneve [|geneve]"
        if data[0] >> 6:
            return f"Geneve ERROR: unknown-version {data[0] >> 6}"
        opt_len = (data[0] & 0x3F) * 4
        proto = struct.unpack_from("!H", data, 2)[0]
        vni = int.from_bytes(data[4:7], "big")
        text = f"Geneve, Flags [{geneve_flags(data[1])}], vni 0x{vni:x}"
        if data[7]:
            text += f", rsvd 0x{data[7]:x}"
        if self.options.link_header:
            text += f", proto {_ETHERTYPES.get(proto, 'unknown')} (0x{proto:04x})"
        if length - 8 < opt_len:
            return text + f" truncated-geneve - {opt_len - (length - 8)} bytes missing"
        if len(data) < 8 + opt_len:
            return text + " [|geneve]"
        if opt_len:
            text += ", options [" + (geneve_options_text(data[8:8 + opt_len],
                                                         self.options.verbose)
                                     if self.options.verbose else f"{opt_len} bytes") + "]"
        text += "\n\t" if self.options.verbose else ": "
        inner, inner_len = data[8 + opt_len:], length - 8 - opt_len
        # the packet inside is named ("IP ") unless -e, as on a link of its own
        body = self._ethertype(proto, inner, inner_len, data,
                               8 + opt_len) if proto != 0x6558 else None
        if body is not None:
            return text + body
        if proto == 0x6558:
            return text + self._ethernet(inner, inner_len)[0]
        return text + f"geneve-proto-0x{proto:x}"


def _ip6_option_words(raw: bytes, payload_len: int) -> str:
    """The options of a hop-by-hop or destination header as tcpdump -v shows them, each
    in parentheses (rtalert and jumbo with a space after)."""
    out = []
    at = 0
    while at < len(raw):
        kind = raw[at]
        if kind == 0:
            out.append("(pad1)")
            at += 1
            continue
        if at + 2 > len(raw) or at + 2 + raw[at + 1] > len(raw):
            return "".join(out) + " (invalid)"
        size = raw[at + 1]
        value = raw[at + 2:at + 2 + size]
        if kind == 1:
            out.append("(padn)")
        elif kind == 5 and size == 2:
            out.append(f"(rtalert: 0x{struct.unpack('!H', value)[0]:04x}) ")
        elif kind == 0xC2 and size == 4:
            jumbo = struct.unpack("!I", value)[0]
            why = (" - payload len != 0" if payload_len else " - < 65536" if jumbo < 65536
                   else "")
            out.append(f"(jumbo: {jumbo}{why}) ")
        else:
            out.append(f"(unknown opt-type 0x{kind:02x} len={size})")
        at += 2 + size
    return "".join(out)


def _pseudo_header(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    if len(src) == 16:
        return src + dst + struct.pack("!IxxxB", length, proto)
    return src + dst + struct.pack("!BBH", 0, proto, length)


def _checksum_words(src: bytes, dst: bytes, proto: int, segment: bytes, at: int) -> str:
    """tcpdump -v's ``cksum 0x1234 (correct)`` / ``(incorrect -> 0xabcd)``."""
    stored = struct.unpack_from("!H", segment, at)[0]
    total = ones_sum(_pseudo_header(src, dst, proto, len(segment)) + segment)
    if total == 0xFFFF:
        return f"cksum 0x{stored:04x} (correct)"
    zeroed = segment[:at] + b"\0\0" + segment[at + 2:]
    right = ~ones_sum(_pseudo_header(src, dst, proto, len(segment)) + zeroed) & 0xFFFF
    return f"cksum 0x{stored:04x} (incorrect -> 0x{right:04x})"


def _udp_checksum_words(addresses: tuple[bytes, bytes], dgram: bytes) -> str:
    src, dst = addresses
    total = ones_sum(_pseudo_header(src, dst, 17, len(dgram)) + dgram)
    if total == 0xFFFF:
        return "[udp sum ok] "
    stored = struct.unpack_from("!H", dgram, 6)[0]
    zeroed = dgram[:6] + b"\0\0" + dgram[8:]
    right = ~ones_sum(_pseudo_header(src, dst, 17, len(dgram)) + zeroed) & 0xFFFF
    return f"[bad udp cksum 0x{stored:04x} -> 0x{right:04x}!] "


def _quote(value: bytes) -> str:
    return '"' + "".join(chr(b) if 32 <= b < 127 else "." for b in value) + '"'


_MPLS_RESERVED = {0: "IPv4 explicit NULL", 1: "router alert", 2: "IPv6 explicit NULL",
                  3: "implicit NULL"}
_GRE_FLAGS = ((0x8000, "checksum present"), (0x4000, "routing present"),
              (0x2000, "key present"), (0x1000, "sequence# present"),
              (0x0800, "source routing present"), (0x0080, "ack present"))
def _ascii(data: bytes) -> str:
    """tcpdump's -A: printable bytes, line feeds and tabs as they are, the rest as '.'."""
    out = []
    for i, b in enumerate(data):
        if b == 0x0D and i + 1 < len(data) and data[i + 1] == 0x0A:
            continue
        out.append(chr(b) if 32 <= b < 127 or b in (9, 10) else ".")
    return "".join(out)
