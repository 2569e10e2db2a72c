"""Filter primitives for Ethernet (DLT_EN10MB) as predicate trees, with libpcap's meaning.

Every builder takes ``shift``: the bytes of VLAN tags the expression has stepped over so
far. libpcap moves its link-type and payload offsets by 4 each time it compiles ``vlan``,
for the rest of the expression (even across ``or``), and so do we. Offsets in the Ethernet
header itself (``ether host``, ``ether[...]``) never move.

Test order inside a primitive follows libpcap's generated code, since a load beyond the
captured bytes rejects the packet: e.g. the 16 bytes of an IPv6 address are compared in
four words front to back, a MAC address last four bytes first.
"""

from __future__ import annotations

from .predicates import And, Arith, Cmp, Load, Not, Or, PacketLoad, Pred, all_of, any_of

ETHERTYPE_IP = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_ARP = 0x0806
ETHERTYPE_REVARP = 0x8035
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
ETHERMTU = 1500
LINK_HEADER_BYTES = 14
IPV6_HEADER_BYTES = 40
IPPROTO = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "icmp6": 58, "sctp": 132}
IPPROTO_FRAGMENT = 44
IP_FRAGMENT_OFFSET_MASK = 0x1FFF
PORT_PROTOS = (IPPROTO["tcp"], IPPROTO["udp"], IPPROTO["sctp"])
# 802.2 LLC SAPs libpcap compares as a 16-bit DSAP+SSAP pair
_LLC_PAIRED_SAPS = (0x06, 0xF0, 0xFE)
# values libpcap compiles into SNAP/802.2 tests we do not model
UNSUPPORTED_ETHER_PROTOS = {0xE0: "IPX", 0x809B: "AppleTalk", 0x80F3: "AARP"}


def _abs(size: int, offset: int) -> Load:
    return Load("abs", size, offset)


def payload(shift: int) -> int:
    """Offset of the network-layer header."""
    return LINK_HEADER_BYTES + shift


def ethertype(shift: int, value: int) -> Pred:
    return Cmp(_abs(2, 12 + shift), "jeq", value)


def ether_proto(shift: int, value: int) -> Pred:
    """``ether proto N``: an EtherType above 1500, else an 802.2 LLC SAP."""
    if value > ETHERMTU:
        return ethertype(shift, value)
    is_llc = Not(Cmp(_abs(2, 12 + shift), "jgt", ETHERMTU))
    if value in _LLC_PAIRED_SAPS:
        return And(is_llc, Cmp(_abs(2, payload(shift)), "jeq", value << 8 | value))
    return And(is_llc, Cmp(_abs(1, payload(shift)), "jeq", value))


def ip_proto(shift: int, proto: int) -> Pred:
    return And(ethertype(shift, ETHERTYPE_IP), Cmp(_abs(1, payload(shift) + 9), "jeq", proto))


def ip6_proto(shift: int, proto: int) -> Pred:
    """IPv6 next header, or the next header of a fragment header right after it."""
    next_header = _abs(1, payload(shift) + 6)
    direct = Cmp(next_header, "jeq", proto)
    fragmented = And(Cmp(next_header, "jeq", IPPROTO_FRAGMENT),
                     Cmp(_abs(1, payload(shift) + IPV6_HEADER_BYTES), "jeq", proto))
    return And(ethertype(shift, ETHERTYPE_IPV6), Or(direct, fragmented))


def transport_proto(shift: int, name: str) -> Pred:
    """``tcp``, ``udp``, ``sctp`` (IPv4 or IPv6), ``icmp``, ``igmp`` (IPv4), ``icmp6``."""
    proto = IPPROTO[name]
    if name in ("icmp", "igmp"):
        return ip_proto(shift, proto)
    if name == "icmp6":
        return ip6_proto(shift, proto)
    return Or(ip_proto(shift, proto), ip6_proto(shift, proto))


def not_ip_fragment(shift: int) -> Pred:
    """The first (or only) fragment: fragment offset 0 (libpcap's ``jset #0x1fff``)."""
    return Not(Cmp(_abs(2, payload(shift) + 6), "jset", IP_FRAGMENT_OFFSET_MASK))


def _by_direction(direction: str, src: Pred, dst: Pred) -> Pred:
    if direction == "src":
        return src
    if direction == "dst":
        return dst
    if direction == "and":
        return And(src, dst)
    return Or(src, dst)  # default, "or"


# -- addresses ---------------------------------------------------------------------------------

def _ipv4_word(shift: int, offset: int, addr: int, mask: int) -> Pred:
    return Cmp(_abs(4, payload(shift) + offset), "jeq", addr & mask,
               None if mask == 0xFFFF_FFFF else mask)


def ipv4_host(shift: int, proto: str, direction: str, addr: int, mask: int) -> Pred:
    """``[ip|arp|rarp] [src|dst] host/net`` for an IPv4 address and mask."""
    # (ethertype, source address offset, destination address offset) in the payload
    layouts = {"ip": (ETHERTYPE_IP, 12, 16), "arp": (ETHERTYPE_ARP, 14, 24),
               "rarp": (ETHERTYPE_REVARP, 14, 24)}
    tests = []
    for name in (("ip", "arp", "rarp") if proto == "default" else (proto,)):
        etype, src_off, dst_off = layouts[name]
        tests.append(And(ethertype(shift, etype), _by_direction(
            direction, _ipv4_word(shift, src_off, addr, mask),
            _ipv4_word(shift, dst_off, addr, mask))))
    return any_of(*tests)


def ipv6_host(shift: int, direction: str, addr: bytes, mask: bytes) -> Pred:
    def words(offset: int) -> Pred:
        tests: list[Pred] = []
        for i in range(4):
            # a word under a zero mask still loads (it can fall beyond a short capture)
            word_mask = int.from_bytes(mask[4 * i:4 * i + 4], "big")
            word = int.from_bytes(addr[4 * i:4 * i + 4], "big")
            tests.append(_ipv4_word(shift, offset + 4 * i, word, word_mask))
        return all_of(*tests)
    return And(ethertype(shift, ETHERTYPE_IPV6), _by_direction(direction, words(8), words(24)))


def _mac_equals(offset: int, mac: bytes) -> Pred:
    return And(Cmp(_abs(4, offset + 2), "jeq", int.from_bytes(mac[2:], "big")),
               Cmp(_abs(2, offset), "jeq", int.from_bytes(mac[:2], "big")))


def ether_host(direction: str, mac: bytes) -> Pred:
    return _by_direction(direction, _mac_equals(6, mac), _mac_equals(0, mac))


def ether_broadcast() -> Pred:
    return _mac_equals(0, b"\xff" * 6)


def ether_multicast() -> Pred:
    return Cmp(_abs(1, 0), "jset", 1)


def ip_multicast(shift: int) -> Pred:
    return And(ethertype(shift, ETHERTYPE_IP), Cmp(_abs(1, payload(shift) + 16), "jge", 224))


def ip_broadcast(shift: int, *, netmask: int) -> Pred:
    """Destination host part all zeros or all ones, under ``netmask``."""
    hostmask = ~netmask & 0xFFFF_FFFF
    dst = _abs(4, payload(shift) + 16)
    return And(ethertype(shift, ETHERTYPE_IP),
               Or(Cmp(dst, "jeq", 0, hostmask if hostmask != 0xFFFF_FFFF else None),
                  Cmp(dst, "jeq", hostmask, hostmask if hostmask != 0xFFFF_FFFF else None)))


def ip6_multicast(shift: int) -> Pred:
    return And(ethertype(shift, ETHERTYPE_IPV6),
               Cmp(_abs(1, payload(shift) + 24), "jeq", 0xFF))


# -- ports ---------------------------------------------------------------------------------

def _port_test(load: Load, low: int, high: int | None) -> Pred:
    if high is None:
        return Cmp(load, "jeq", low)
    return And(Cmp(load, "jge", low), Not(Cmp(load, "jgt", high)))


def port(shift: int, protos: tuple[int, ...], direction: str, low: int,
         high: int | None = None) -> Pred:
    """``[tcp|udp|sctp] [src|dst] port N`` (``high``: portrange), over IPv6 and IPv4.

    IPv6 reads the ports right after the fixed header (no extension headers, as libpcap);
    IPv4 skips non-first fragments and finds the ports after the header's IHL.
    """
    base = payload(shift)
    v6_proto = any_of(*(Cmp(_abs(1, base + 6), "jeq", p) for p in protos))
    v6 = all_of(ethertype(shift, ETHERTYPE_IPV6), v6_proto, _by_direction(
        direction, _port_test(_abs(2, base + 40), low, high),
        _port_test(_abs(2, base + 42), low, high)))
    v4_proto = any_of(*(Cmp(_abs(1, base + 9), "jeq", p) for p in protos))

    def transport(offset: int) -> Load:
        return Load("transport", 2, base + offset, base)
    v4 = all_of(ethertype(shift, ETHERTYPE_IP), v4_proto, not_ip_fragment(shift),
                _by_direction(direction, _port_test(transport(0), low, high),
                              _port_test(transport(2), low, high)))
    return Or(v6, v4)


# -- vlan, lengths -----------------------------------------------------------------------------

def vlan(shift: int, vlan_id: int | None) -> Pred:
    """An 802.1Q/802.1ad tag at the current link-type offset (and its VLAN ID)."""
    tpid = any_of(*(Cmp(_abs(2, 12 + shift), "jeq", t) for t in VLAN_TPIDS))
    if vlan_id is None:
        return tpid
    return And(tpid, Cmp(_abs(2, payload(shift)), "jeq", vlan_id, 0x0FFF))


def length_at_least(n: int) -> Pred:
    return Cmp(Load("len"), "jge", n)


def length_at_most(n: int) -> Pred:
    return Not(Cmp(Load("len"), "jgt", n))


# -- proto[index:size] ---------------------------------------------------------------------------

NETWORK_PROTOS = {"ip": ETHERTYPE_IP, "ip6": ETHERTYPE_IPV6, "arp": ETHERTYPE_ARP,
                  "rarp": ETHERTYPE_REVARP}
TRANSPORT_V4_PROTOS = ("tcp", "udp", "sctp", "icmp", "igmp")


def packet_load(shift: int, proto: str, index: Arith, size: int) -> PacketLoad:
    """``proto[index:size]`` with the guards libpcap puts before it."""
    base = payload(shift)
    if proto in ("ether", "link"):
        return PacketLoad(size, 0, index)
    if proto in NETWORK_PROTOS:
        return PacketLoad(size, base, index,
                          guards_after=(ethertype(shift, NETWORK_PROTOS[proto]),))
    if proto in TRANSPORT_V4_PROTOS:
        return PacketLoad(size, base, index,
                          guards_before=(ethertype(shift, ETHERTYPE_IP),),
                          guards_after=(And(transport_proto(shift, proto),
                                            not_ip_fragment(shift)),),
                          transport_msh=base)
    if proto == "icmp6":
        return PacketLoad(size, base + IPV6_HEADER_BYTES, index,
                          guards_after=(And(ethertype(shift, ETHERTYPE_IPV6),
                                            Cmp(_abs(1, base + 6), "jeq", IPPROTO["icmp6"])),))
    raise KeyError(proto)
