"""One line per Ethernet frame, in the shape of tcpdump's default output with ``-n``.

``PacketPrinter().line(frame, wirelen, timestamp_us)`` gives e.g.::

    12:34:56.789012 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1, win 64240, length 0

Covered: IPv4 and IPv6 (extension headers skipped), TCP (flags, sequence numbers relative
to the first ACK-carrying packet of a connection as tcpdump shows them, the common options),
UDP, ICMP and ICMPv6 echo/unreachable/time-exceeded, ARP, 802.1Q tags. Anything else gets
tcpdump's fallback words (``ethertype 0x88cc``, ``ip-proto-47``). Application protocols
(DNS, HTTP...) that tcpdump decodes on well-known ports are printed as plain UDP/TCP.
Truncated frames print ``[|ip]``/``[|tcp]`` like tcpdump. Addresses are always numeric.
The printer keeps TCP connection state (for relative sequence numbers): one per capture.
"""

from __future__ import annotations

import ipaddress
import struct
import time

__all__ = ["PacketPrinter", "format_timestamp"]

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, ETH_P_8021AD = 0x0800, 0x86DD, 0x0806, 0x8100, \
    0x88A8
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 = 1, 6, 17, 58
# IPv6 extension headers tcpdump walks over: hop-by-hop, routing, destination options
_IPV6_EXTENSIONS = {0, 43, 60}
# tcpdump's order of the TCP flag letters (print-tcp.c tcp_flag_values)
_TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x40, "E"),
              (0x80, "W"), (0x10, "."))
_ICMP_UNREACH = {0: "net {dst} unreachable", 1: "host {dst} unreachable",
                 3: "{dst} {proto} port {port} unreachable"}
_ICMP6_NAMES = {133: "router solicitation", 134: "router advertisement",
                135: "neighbor solicitation", 136: "neighbor advertisement"}


def format_timestamp(timestamp_us: int) -> str:
    """``HH:MM:SS.uuuuuu`` in local time, as tcpdump prints it."""
    seconds, micros = divmod(timestamp_us, 1_000_000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{micros:06d}"


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


class PacketPrinter:
    """Formats frames one by one; remembers TCP connections for relative sequence numbers
    (tcpdump's default; ``absolute_seq=True`` is its ``-S``)."""

    def __init__(self, *, absolute_seq: bool = False) -> None:
        self.absolute_seq = absolute_seq
        # canonical (addr, port, addr, port) -> [seq base, ack base] as tcpdump's tcp_seq_hash
        self._connections: dict[tuple[bytes, int, bytes, int], list[int]] = {}

    def line(self, frame: bytes, wirelen: int | None = None, timestamp_us: int = 0) -> str:
        """The tcpdump-style line (timestamp first) for one captured Ethernet frame."""
        return format_timestamp(timestamp_us) + " " + self.describe(frame, wirelen)

    def describe(self, frame: bytes, wirelen: int | None = None) -> str:
        """The line without its timestamp."""
        if wirelen is None:
            wirelen = len(frame)
        if len(frame) < 14:
            return "[|ether]"
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        offset = 14
        # tcpdump shows 802.1Q tags only with -e: without it, the line is the inner packet's
        while ethertype in (ETH_P_8021Q, ETH_P_8021AD) and len(frame) >= offset + 4:
            ethertype = struct.unpack_from("!H", frame, offset + 2)[0]
            offset += 4
        payload, length = frame[offset:], wirelen - offset
        if ethertype == ETH_P_IP:
            body = self._ipv4(payload, length)
        elif ethertype == ETH_P_IPV6:
            body = self._ipv6(payload, length)
        elif ethertype == ETH_P_ARP:
            body = self._arp(payload, length)
        else:
            body = f"ethertype 0x{ethertype:04x}, length {wirelen}"
        return body

    # -- layer 3 -----------------------------------------------------------------------------

    def _ipv4(self, packet: bytes, length: int) -> str:
        if len(packet) < 20:
            return "IP [|ip]"
        ihl = (packet[0] & 0x0F) * 4
        total = struct.unpack_from("!H", packet, 2)[0]
        frag = struct.unpack_from("!H", packet, 6)[0]
        proto = packet[9]
        src, dst = packet[12:16], packet[16:20]
        src_text = str(ipaddress.IPv4Address(src))
        dst_text = str(ipaddress.IPv4Address(dst))
        # the IP total length wins over the frame's (Ethernet pads short frames)
        payload_len = min(total, length) - ihl
        payload = packet[ihl:min(total, len(packet))]
        if frag & 0x1FFF:  # a later fragment: no transport header to show
            return f"IP {src_text} > {dst_text}: ip-proto-{proto}"
        return "IP " + self._transport(proto, src, dst, src_text, dst_text, payload,
                                       payload_len, packet, ihl)

    def _ipv6(self, packet: bytes, length: int) -> str:
        if len(packet) < 40:
            return "IP6 [|ip6]"
        payload_len = struct.unpack_from("!H", packet, 4)[0]
        next_header = packet[6]
        src, dst = packet[8:24], packet[24:40]
        src_text = str(ipaddress.IPv6Address(src))
        dst_text = str(ipaddress.IPv6Address(dst))
        offset = 40
        while next_header in _IPV6_EXTENSIONS and len(packet) >= offset + 2:
            next_header, ext_len = packet[offset], (packet[offset + 1] + 1) * 8
            offset += ext_len
            payload_len -= ext_len
        payload = packet[offset:offset + max(payload_len, 0)]
        return "IP6 " + self._transport(next_header, src, dst, src_text, dst_text, payload,
                                        payload_len, packet, offset)

    def _arp(self, packet: bytes, length: int) -> str:
        if len(packet) < 28:
            return "ARP, [|arp]"
        op = struct.unpack_from("!H", packet, 6)[0]
        sender_mac, sender_ip = packet[8:14], packet[14:18]
        target_ip = packet[24:28]
        sender = str(ipaddress.IPv4Address(sender_ip))
        target = str(ipaddress.IPv4Address(target_ip))
        if op == 1:
            return f"ARP, Request who-has {target} tell {sender}, length {length}"
        if op == 2:
            return f"ARP, Reply {sender} is-at {_mac(sender_mac)}, length {length}"
        return f"ARP, Unknown (op {op}), length {length}"

    # -- layer 4 -----------------------------------------------------------------------------

    def _transport(self, proto: int, src: bytes, dst: bytes, src_text: str, dst_text: str,
                   payload: bytes, payload_len: int, packet: bytes, l4_offset: int) -> str:
        if proto == IPPROTO_TCP:
            return self._tcp(src, dst, src_text, dst_text, payload, payload_len)
        if proto == IPPROTO_UDP:
            if len(payload) < 8:
                return f"{src_text} > {dst_text}: [|udp]"
            sport, dport, udp_len = struct.unpack_from("!HHH", payload)
            return (f"{src_text}.{sport} > {dst_text}.{dport}: UDP, length "
                    f"{udp_len - 8}")
        if proto == IPPROTO_ICMP:
            return f"{src_text} > {dst_text}: ICMP {self._icmp(payload, payload_len)}"
        if proto == IPPROTO_ICMPV6:
            return f"{src_text} > {dst_text}: ICMP6, {self._icmp6(payload, payload_len)}"
        return f"{src_text} > {dst_text}: ip-proto-{proto} {payload_len}"

    def _icmp(self, payload: bytes, length: int) -> str:
        if len(payload) < 8:
            return "[|icmp]"
        kind, code = payload[0], payload[1]
        ident, seq = struct.unpack_from("!HH", payload, 4)
        if kind in (0, 8):
            name = "echo reply" if kind == 0 else "echo request"
            return f"{name}, id {ident}, seq {seq}, length {length}"
        if kind == 3 and code in _ICMP_UNREACH and len(payload) >= 28:
            inner = payload[8:]
            ihl = (inner[0] & 0x0F) * 4
            text = _ICMP_UNREACH[code].format(
                dst=ipaddress.IPv4Address(inner[16:20]),
                proto={6: "tcp", 17: "udp"}.get(inner[9], f"proto-{inner[9]}"),
                port=struct.unpack_from("!H", inner, ihl + 2)[0] if len(inner) >= ihl + 4
                else 0)
            return f"{text}, length {length}"
        if kind == 11:
            return f"time exceeded in-transit, length {length}"
        return f"type {kind}, length {length}"

    def _icmp6(self, payload: bytes, length: int) -> str:
        if len(payload) < 4:
            return "[|icmp6]"
        kind = payload[0]
        if kind in (128, 129) and len(payload) >= 8:
            ident, seq = struct.unpack_from("!HH", payload, 4)
            name = "echo request" if kind == 128 else "echo reply"
            return f"{name}, id {ident}, seq {seq}, length {length}"
        if kind in _ICMP6_NAMES:
            return f"{_ICMP6_NAMES[kind]}, length {length}"
        return f"type-#{kind}, length {length}"

    def _tcp(self, src: bytes, dst: bytes, src_text: str, dst_text: str, segment: bytes,
             segment_len: int) -> str:
        if len(segment) < 20:
            return f"{src_text} > {dst_text}: [|tcp]"
        sport, dport, seq, ack, offset_byte, flags, win, _, urg = struct.unpack_from(
            "!HHIIBBHHH", segment)
        header_len = (offset_byte >> 4) * 4
        data_len = segment_len - header_len
        head = f"{src_text}.{sport} > {dst_text}.{dport}: "
        letters = "".join(c for bit, c in _TCP_FLAGS if flags & bit) or "none"
        seq, ack = self._relative(src, sport, dst, dport, flags, seq, ack)
        parts = [f"Flags [{letters}]"]
        if data_len > 0 or flags & 0x07:  # data, or SYN/FIN/RST
            parts.append(f"seq {seq}" + (f":{(seq + data_len) & 0xFFFFFFFF}"
                                         if data_len > 0 else ""))
        if flags & 0x10:
            parts.append(f"ack {ack}")
        parts.append(f"win {win}")
        if flags & 0x20:
            parts.append(f"urg {urg}")
        options = _tcp_options(segment[20:header_len])
        if options:
            parts.append(f"options [{options}]")
        parts.append(f"length {data_len}")
        return head + ", ".join(parts)

    def _relative(self, src: bytes, sport: int, dst: bytes, dport: int, flags: int, seq: int,
                  ack: int) -> tuple[int, int]:
        """tcpdump's relative numbering: the first ACK-carrying packet of a connection sets
        the bases (and prints absolute numbers); later ones print the difference."""
        if self.absolute_seq or not flags & 0x10:
            return seq, ack
        reverse = (sport, src) > (dport, dst) if sport != dport else src > dst
        key = (dst, dport, src, sport) if reverse else (src, sport, dst, dport)
        bases = self._connections.get(key)
        if bases is None:
            # [seq base of the canonical direction, its ack base]
            self._connections[key] = [(ack - 1) & 0xFFFFFFFF, seq] if reverse \
                else [seq, (ack - 1) & 0xFFFFFFFF]
            return seq, ack
        if reverse:
            return (seq - bases[1]) & 0xFFFFFFFF, (ack - bases[0]) & 0xFFFFFFFF
        return (seq - bases[0]) & 0xFFFFFFFF, (ack - bases[1]) & 0xFFFFFFFF


def _tcp_options(raw: bytes) -> str:
    """The common options in tcpdump's words: mss, nop, wscale, sackOK, sack, TS, eol."""
    words = []
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            words.append("eol")
            break
        if kind == 1:
            words.append("nop")
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            words.append("[bad opt]")
            break
        size = raw[i + 1]
        body = raw[i + 2:i + size]
        if kind == 2 and size == 4:
            words.append(f"mss {struct.unpack('!H', body)[0]}")
        elif kind == 3 and size == 3:
            words.append(f"wscale {body[0]}")
        elif kind == 4:
            words.append("sackOK")
        elif kind == 5:
            edges = struct.unpack(f"!{len(body) // 4}I", body[:len(body) // 4 * 4])
            words.append(f"sack {len(edges) // 2} " + "".join(
                f"{{{edges[j]}:{edges[j + 1]}}}" for j in range(0, len(edges) - 1, 2)))
        elif kind == 8 and size == 10:
            tsval, tsecr = struct.unpack("!II", body)
            words.append(f"TS val {tsval} ecr {tsecr}")
        else:
            words.append(f"unknown-{kind} 0x{body.hex()}")
        i += size
    return ",".join(words)
