"""Filter primitives as predicate trees, with libpcap's meaning, for five link types.

Every builder takes a :class:`Layer`: where the link-layer protocol field is, where the
network header starts, and what encapsulation the expression has stepped into so far.
libpcap moves these offsets each time it compiles ``vlan``, ``mpls`` or ``pppoes``, for the
rest of the expression (even across ``or``), and so do we. Offsets in the Ethernet header
itself (``ether host``, ``ether[...]``) never move.

Test order inside a primitive follows libpcap's generated code, since a load beyond the
captured bytes rejects the packet: e.g. the 16 bytes of an IPv6 address are compared in
four words front to back, a MAC address last four bytes first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import ParamSpec, TypeVar

from .isa import SKF_AD_OFF
from .predicates import (
    Always,
    And,
    Arith,
    Cmp,
    GeneveSetup,
    Load,
    Not,
    Or,
    PacketLoad,
    Pred,
    ProtoChain,
    Relation,
    Scratch,
    all_of,
    any_of,
)

ETHERTYPE_IP = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_ARP = 0x0806
ETHERTYPE_REVARP = 0x8035
ETHERTYPE_ATALK = 0x809B
ETHERTYPE_AARP = 0x80F3
ETHERTYPE_IPX = 0x8137
ETHERTYPE_MPLS = 0x8847
ETHERTYPE_PPPOED = 0x8863
ETHERTYPE_PPPOES = 0x8864
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
ETHERMTU = 1500
IPV6_HEADER_BYTES = 40
IPPROTO = {"icmp": 1, "igmp": 2, "igrp": 9, "tcp": 6, "udp": 17, "ah": 51, "esp": 50,
           "icmp6": 58, "pim": 103, "vrrp": 112, "carp": 112, "sctp": 132}
IPPROTO_FRAGMENT = 44
IP_FRAGMENT_OFFSET_MASK = 0x1FFF
PORT_PROTOS = (IPPROTO["tcp"], IPPROTO["udp"], IPPROTO["sctp"])
# 802.2 LLC SAPs libpcap compares as a 16-bit DSAP+SSAP pair (IP, NetBEUI, ISO)
_LLC_PAIRED_SAPS = (0x06, 0xF0, 0xFE)
LLCSAP_IPX, LLCSAP_ISONS, LLCSAP_8021D, LLCSAP_NETBEUI = 0xE0, 0xFE, 0x42, 0xF0
_SNAP_AARP, _SNAP_ATALK = 0xAAAA0300, 0xAAAA0308
# PPP protocol numbers for EtherTypes inside PPPoE sessions (others pass through)
_PPP_PROTOS = {ETHERTYPE_IP: 0x21, ETHERTYPE_IPV6: 0x57}
SKF_AD_PKTTYPE, SKF_AD_IFINDEX = 4, 8
PACKET_OUTGOING = 4

# link types: name -> (DLT number, its name in tcpdump -y)
LINKTYPES = {"ether": (1, "EN10MB"), "sll": (113, "LINUX_SLL"), "sll2": (276, "LINUX_SLL2"),
             "raw": (12, "RAW"), "null": (0, "NULL"), "loop": (108, "LOOP")}
LINKTYPE_NUMBERS = {"ether": (1,), "sll": (113,), "sll2": (276,), "raw": (12, 14, 101),
                    "null": (0,), "loop": (108,)}
LINKTYPE_TITLES = {"ether": "Ethernet", "sll": "Linux cooked v1", "sll2": "Linux cooked v2",
                   "raw": "Raw IP", "null": "BSD loopback", "loop": "OpenBSD loopback"}
_FIXED = {"ether": (12, 14), "sll": (14, 16), "sll2": (0, 20), "raw": (-1, 0),
          "null": (0, 4), "loop": (0, 4)}


class PrimitiveError(Exception):
    """A primitive that makes no sense on this link type (the parser adds the column)."""


_P = ParamSpec("_P")
_R = TypeVar("_R")
_MEMO_SIZE = 2048


def _memo(builder: Callable[_P, _R]) -> Callable[_P, _R]:
    """``builder`` remembering its trees by argument: a builder is a pure function of
    hashable arguments and nothing mutates a tree, so one tree serves every expression
    with that primitive (building one costs tens of objects; the look-up, one hash). A
    refusal (PrimitiveError) is not remembered."""
    memo: dict[object, _R] = {}

    @wraps(builder)
    def remembered(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        key = (args, *kwargs.items()) if kwargs else args
        found = memo.get(key)
        if found is None:
            found = builder(*args, **kwargs)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = found
        return found
    return remembered


# Value classes here are hashable but not frozen: a frozen dataclass's __init__ costs about
# four times as much, and a compile makes hundreds of them (nothing mutates them).
@dataclass(slots=True, unsafe_hash=True)
class Layer:
    """Where the expression stands: the link type, the offset of the protocol field that
    says what follows (EtherType, PPP protocol), the network header's offset, and the
    encapsulation stepped into (``"link"``, ``"mpls"`` and its label count, ``"ppp"``)."""

    linktype: str = "ether"
    proto_off: int = 12
    net: int = 14
    encap: str = "link"
    labels: int = 0
    # past 'geneve': offsets are in scratch memory (M[0] the protocol field, M[1] the inner
    # link header, M[2] the network header), as libpcap keeps them
    var: bool = False
    proto_slot: int = 0  # past geneve, the M[] the protocol field is relative to
    slots: int = 0  # past geneve, the first of its three M[] (a geneve inside: the next 3)
    # for a saved file libpcap tests BSD loopback IPv6 as BSDs number it (24, 28, 30),
    # for a capture without one (tcpdump -y NULL -d) as this host does (Linux: 10)
    savefile: bool = False
    # where an OSI protocol id sits in the link payload: past the 3-byte 802.2 header on
    # Ethernet, at once on the others (libpcap's off_nl_nosnap; geneve keeps the outer one)
    nlpid_off: int = 3
    # past pppoes (even after mpls) the link layer is PPP's: no MACs, no LLC, no cooked header
    ppp_link: bool = False

    @staticmethod
    def of(linktype: str, savefile: bool = False) -> Layer:
        """Where an expression starts on ``linktype``: one object for each (nothing
        changes a layer), so the builders' memory finds it by identity, not by comparing
        eleven fields."""
        layer = _START_LAYERS.get((linktype, savefile))
        if layer is None:
            proto_off, net = _FIXED[linktype]
            layer = _START_LAYERS[linktype, savefile] = Layer(
                linktype, proto_off, net, savefile=savefile,
                nlpid_off=3 if linktype == "ether" else 0)
        return layer

    @property
    def title(self) -> str:
        return LINKTYPE_TITLES[self.linktype]


_START_LAYERS: dict[tuple[str, bool], Layer] = {}


def _abs(size: int, offset: int) -> Load:
    return Load("abs", size, offset)


GENEVE_PROTO_SLOT, GENEVE_LINK_SLOT, GENEVE_NET_SLOT = 0, 1, 2  # from Layer.slots
GENEVE_PORT = 6081


def _net(layer: Layer, size: int, offset: int) -> Load:
    """``size`` bytes at ``offset`` into the network header."""
    if layer.var:
        return Load("memind", size, layer.net + offset, layer.slots + GENEVE_NET_SLOT)
    return _abs(size, layer.net + offset)


def _field(layer: Layer) -> Load:
    """The 16-bit protocol field (EtherType, PPP protocol) saying what follows."""
    if layer.var:
        return Load("memind", 2, layer.proto_off, layer.proto_slot)
    return _abs(2, layer.proto_off)


def _link_payload(layer: Layer, size: int, offset: int) -> Load:
    """``size`` bytes at ``offset`` past the link header (where an 802.2 LLC header is):
    ``mpls`` moves the network header, not this (libpcap's OR_LLC)."""
    return _net(layer, size, offset - 4 * layer.labels)


def _transport(layer: Layer, size: int, offset: int) -> Load:
    """``size`` bytes at ``offset`` past the IPv4 header (its length from IHL)."""
    if layer.var:
        return Load("memtransport", size, layer.net + offset, layer.slots + GENEVE_NET_SLOT,
                    layer.net)
    return Load("transport", size, layer.net + offset, layer.net)


def _refuse_after_geneve(layer: Layer, what: str) -> None:
    if layer.var:
        raise PrimitiveError(f"{what} after 'geneve' is not supported")


def _mpls_bos(layer: Layer, bottom: bool) -> Pred:
    """The last label read has its bottom-of-stack bit set (or not)."""
    return Cmp(_net(layer, 1, -2), "jeq", int(bottom), 1)


@_memo
def link_proto(layer: Layer, ethertype: int) -> Pred:
    """The packet carries ``ethertype`` (> 1500) next, wherever the expression stands."""
    if layer.encap == "mpls":
        version = {ETHERTYPE_IP: 0x40, ETHERTYPE_IPV6: 0x60}.get(ethertype)
        if version is None:
            raise PrimitiveError("unsupported protocol over mpls")
        return And(_mpls_bos(layer, True), Cmp(_net(layer, 1, 0), "jeq", version, 0xF0))
    if layer.encap == "ppp":
        return Cmp(_field(layer), "jeq", _PPP_PROTOS.get(ethertype, ethertype))
    if layer.var:
        return Cmp(_field(layer), "jeq", ethertype)
    kind = layer.linktype
    if kind in ("ether", "sll", "sll2"):
        return Cmp(_field(layer), "jeq", ethertype)
    if kind == "raw":
        version = {ETHERTYPE_IP: 0x40, ETHERTYPE_IPV6: 0x60}.get(ethertype)
        return Cmp(_abs(1, 0), "jeq", version, 0xF0) if version else Always(False)
    family = {ETHERTYPE_IP: 2, ETHERTYPE_IPV6: 10}.get(ethertype)
    if family is None:
        return Always(False)
    if family == 10 and layer.savefile:
        return any_of(*(Cmp(_abs(4, 0), "jeq", bsd if kind == "loop" else bsd << 24)
                        for bsd in (30, 24, 28)))
    # DLT_NULL stores the family in the capturing host's byte order (little-endian here)
    return Cmp(_abs(4, 0), "jeq", family if kind == "loop" else family << 24)


def ethertype(layer: Layer, value: int) -> Pred:
    return link_proto(layer, value)


def _llc_sap(layer: Layer, value: int) -> Pred:
    """The 802.2 LLC header right after the link header starts with SAP ``value``.

    libpcap reads a lone SAP two bytes past the protocol field, a paired one in the link
    payload: the same byte, except past geneve when the inner frame is not Ethernet."""
    if value in _LLC_PAIRED_SAPS:
        return Cmp(_link_payload(layer, 2, 0), "jeq", value << 8 | value)
    if layer.var:
        return Cmp(Load("memind", 1, layer.proto_off + 2, layer.proto_slot), "jeq", value)
    return Cmp(_abs(1, layer.proto_off + 2), "jeq", value)


def _snap(layer: Layer, oui_and_ctl: int, etype: int) -> Pred:
    return And(Cmp(_link_payload(layer, 4, 4), "jeq", etype),
               Cmp(_link_payload(layer, 4, 0), "jeq", oui_and_ctl))


@_memo
def ether_proto(layer: Layer, value: int) -> Pred:
    """``ether proto N``: an EtherType above 1500, else an 802.2 LLC SAP (and the ways
    IPX, AppleTalk and AARP travel), per link type as libpcap's gen_linktype."""
    # past geneve the inner frame is Ethernet's (libpcap switches to it), until mpls/pppoes
    if layer.encap not in ("link", "geneve") or layer.linktype in ("raw", "null", "loop",
                                                                   "sll2"):
        if layer.linktype == "sll2" and layer.encap == "link":
            return Cmp(_field(layer), "jeq", value)
        return link_proto(layer, value)
    kind = layer.linktype
    field = _field(layer)
    if kind == "ether":
        is_llc = Not(Cmp(field, "jgt", ETHERMTU))
        if value == LLCSAP_IPX:
            return Or(Cmp(field, "jeq", ETHERTYPE_IPX), And(is_llc, any_of(
                _snap(layer, 0xAAAA0300, ETHERTYPE_IPX),
                Cmp(_link_payload(layer, 1, 0), "jeq", 0xE0),
                Cmp(_link_payload(layer, 2, 0), "jeq", 0xFFFF))))
        if value == ETHERTYPE_ATALK:
            return Or(Cmp(field, "jeq", value),
                      And(is_llc, _snap(layer, _SNAP_ATALK, 0x7809B)))
        if value == ETHERTYPE_AARP:
            return Or(Cmp(field, "jeq", value), And(is_llc, _snap(layer, _SNAP_AARP, value)))
        if value > ETHERMTU:
            return Cmp(field, "jeq", value)
        return And(is_llc, _llc_sap(layer, value))
    # Linux cooked v1: 802.2 frames carry protocol 4, raw 802.3 (IPX) protocol 1
    cooked_llc = Cmp(field, "jeq", 4)
    if value == LLCSAP_IPX:
        return any_of(Cmp(field, "jeq", ETHERTYPE_IPX), Cmp(field, "jeq", 1), And(
            cooked_llc, Or(Cmp(_net(layer, 1, 0), "jeq", 0xE0),
                       _snap(layer, 0xAAAA0300, ETHERTYPE_IPX))))
    if value == ETHERTYPE_ATALK:
        return Or(Cmp(field, "jeq", value), And(cooked_llc, _snap(layer, _SNAP_ATALK, 0x7809B)))
    if value == ETHERTYPE_AARP:
        return Or(Cmp(field, "jeq", value), And(cooked_llc, _snap(layer, _SNAP_AARP, value)))
    if value > ETHERMTU:
        return Cmp(field, "jeq", value)
    return And(cooked_llc, _llc_sap(layer, value))


@_memo
def ip_proto(layer: Layer, proto: int) -> Pred:
    return And(ethertype(layer, ETHERTYPE_IP), Cmp(_net(layer, 1, 9), "jeq", proto))


@_memo
def ip6_proto(layer: Layer, proto: int) -> Pred:
    """IPv6 next header, or the next header of a fragment header right after it."""
    next_header = _net(layer, 1, 6)
    direct = Cmp(next_header, "jeq", proto)
    fragmented = And(Cmp(next_header, "jeq", IPPROTO_FRAGMENT),
                     Cmp(_net(layer, 1, IPV6_HEADER_BYTES), "jeq", proto))
    return And(ethertype(layer, ETHERTYPE_IPV6), Or(direct, fragmented))


@_memo
def transport_proto(layer: Layer, name: str) -> Pred:
    """``tcp``, ``udp``, ``sctp``... (IPv4 or IPv6), ``icmp``, ``igmp``... (IPv4),
    ``icmp6``."""
    proto = IPPROTO[name]
    if name in ("icmp", "igmp", "igrp", "vrrp", "carp"):
        return ip_proto(layer, proto)
    if name == "icmp6":
        return ip6_proto(layer, proto)
    return Or(ip_proto(layer, proto), ip6_proto(layer, proto))


def not_ip_fragment(layer: Layer) -> Pred:
    """The first (or only) fragment: fragment offset 0 (libpcap's ``jset #0x1fff``)."""
    return Not(Cmp(_net(layer, 2, 6), "jset", IP_FRAGMENT_OFFSET_MASK))


def _by_direction(direction: str, src: Pred, dst: Pred) -> Pred:
    if direction == "src":
        return src
    if direction == "dst":
        return dst
    if direction == "and":
        return And(src, dst)
    return Or(src, dst)  # default, "or"


# -- addresses ---------------------------------------------------------------------------------

def _ipv4_word(layer: Layer, offset: int, addr: int, mask: int) -> Pred:
    return Cmp(_net(layer, 4, offset), "jeq", addr & mask,
               None if mask == 0xFFFF_FFFF else mask)


@_memo
def ipv4_host(layer: Layer, proto: str, direction: str, addr: int, mask: int) -> Pred:
    """``[ip|arp|rarp] [src|dst] host/net`` for an IPv4 address and mask."""
    # (ethertype, source address offset, destination address offset) in the payload
    layouts = {"ip": (ETHERTYPE_IP, 12, 16), "arp": (ETHERTYPE_ARP, 14, 24),
               "rarp": (ETHERTYPE_REVARP, 14, 24)}
    names = ("ip", "arp", "rarp") if proto == "default" else (proto,)
    if layer.encap == "mpls" or layer.linktype in ("raw", "null", "loop"):
        if proto in ("arp", "rarp"):
            return link_proto(layer, layouts[proto][0]) if layer.encap != "mpls" else \
                _raise("unsupported protocol over mpls")
        names = ("ip",)
    tests = []
    for name in names:
        etype, src_off, dst_off = layouts[name]
        tests.append(And(ethertype(layer, etype), _by_direction(
            direction, _ipv4_word(layer, src_off, addr, mask),
            _ipv4_word(layer, dst_off, addr, mask))))
    return any_of(*tests)


def _raise(message: str) -> Pred:
    raise PrimitiveError(message)


@_memo
def ipv6_host(layer: Layer, direction: str, addr: bytes, mask: bytes) -> Pred:
    def words(offset: int) -> Pred:
        tests: list[Pred] = []
        for i in range(4):
            # a word under a zero mask still loads (it can fall beyond a short capture)
            word_mask = int.from_bytes(mask[4 * i:4 * i + 4], "big")
            word = int.from_bytes(addr[4 * i:4 * i + 4], "big")
            tests.append(_ipv4_word(layer, offset + 4 * i, word, word_mask))
        return all_of(*tests)
    return And(ethertype(layer, ETHERTYPE_IPV6), _by_direction(direction, words(8), words(24)))


def _link(layer: Layer, size: int, offset: int) -> Load:
    """``size`` bytes at ``offset`` into the link-layer header (past geneve: its inner
    Ethernet header)."""
    if layer.var:
        return Load("memind", size, offset, layer.slots + GENEVE_LINK_SLOT)
    return _abs(size, offset)


def _link_header(layer: Layer) -> tuple[int, int | None]:
    """Where ``link[]``, ``ether[]`` and ``byte`` count from, as (offset, scratch slot it
    is relative to): the packet's start, geneve's inner frame, or past ``pppoes`` the PPP
    header (where libpcap moves its link header)."""
    if layer.ppp_link:
        return layer.proto_off, layer.proto_slot if layer.var else None
    return 0, layer.slots + GENEVE_LINK_SLOT if layer.var else None


def byte_load(layer: Layer, offset: int) -> Load:
    """The byte ``byte OFFSET`` compares: counted from the link header."""
    base, slot = _link_header(layer)
    if slot is not None:
        return Load("memind", 1, base + offset, slot)
    return _abs(1, base + offset)


def _inner_ethernet(layer: Layer, test: Pred) -> Pred:
    """Past geneve, a link-layer test needs an Ethernet frame inside (M[1] != M[2])."""
    if not layer.var:
        return test
    return And(Not(Relation("=", Scratch(layer.slots + GENEVE_LINK_SLOT),
                            Scratch(layer.slots + GENEVE_NET_SLOT))), test)


def _mac_equals(layer: Layer, offset: int, mac: bytes) -> Pred:
    return And(Cmp(_link(layer, 4, offset + 2), "jeq", int.from_bytes(mac[2:], "big")),
               Cmp(_link(layer, 2, offset), "jeq", int.from_bytes(mac[:2], "big")))


def _has_ethernet_header(layer: Layer) -> bool:
    """Ethernet, or geneve's inner Ethernet; past ``pppoes`` libpcap's link layer is PPP."""
    return (layer.linktype == "ether" or layer.var) and not layer.ppp_link


@_memo
def ether_host(layer: Layer, direction: str, mac: bytes) -> Pred:
    if not _has_ethernet_header(layer):
        raise PrimitiveError("ethernet addresses supported only on ethernet/FDDI/token "
                             "ring/802.11/ATM LANE/Fibre Channel")
    return _inner_ethernet(layer, _by_direction(direction, _mac_equals(layer, 6, mac),
                                                _mac_equals(layer, 0, mac)))


def ether_broadcast(layer: Layer) -> Pred:
    if not _has_ethernet_header(layer):
        raise PrimitiveError("not a broadcast link")
    return _inner_ethernet(layer, _mac_equals(layer, 0, b"\xff" * 6))


def ether_multicast(layer: Layer) -> Pred:
    if not _has_ethernet_header(layer):
        raise PrimitiveError("link-layer multicast filters supported only on ethernet/FDDI/"
                             "token ring/ARCNET/802.11/ATM LANE/Fibre Channel")
    return _inner_ethernet(layer, Cmp(_link(layer, 1, 0), "jset", 1))


def ip_multicast(layer: Layer) -> Pred:
    return And(ethertype(layer, ETHERTYPE_IP), Cmp(_net(layer, 1, 16), "jge", 224))


def ip_broadcast(layer: Layer, *, netmask: int) -> Pred:
    """Destination host part all zeros or all ones, under ``netmask``."""
    hostmask = ~netmask & 0xFFFF_FFFF
    dst = _net(layer, 4, 16)
    return And(ethertype(layer, ETHERTYPE_IP),
               Or(Cmp(dst, "jeq", 0, hostmask if hostmask != 0xFFFF_FFFF else None),
                  Cmp(dst, "jeq", hostmask, hostmask if hostmask != 0xFFFF_FFFF else None)))


def ip6_multicast(layer: Layer) -> Pred:
    return And(ethertype(layer, ETHERTYPE_IPV6),
               Cmp(_net(layer, 1, 24), "jeq", 0xFF))


# -- ports ---------------------------------------------------------------------------------

def _port_test(load: Load, low: int, high: int | None) -> Pred:
    if high is None:
        return Cmp(load, "jeq", low)
    return And(Cmp(load, "jge", low), Not(Cmp(load, "jgt", high)))


@_memo
def port(layer: Layer, protos: tuple[int, ...], direction: str, low: int,
         high: int | None = None) -> Pred:
    """``[tcp|udp|sctp] [src|dst] port N`` (``high``: portrange), over IPv6 and IPv4.

    IPv6 reads the ports right after the fixed header (no extension headers, as libpcap);
    IPv4 skips non-first fragments and finds the ports after the header's IHL.
    """
    v6_proto = any_of(*(Cmp(_net(layer, 1, 6), "jeq", p) for p in protos))
    v6 = all_of(ethertype(layer, ETHERTYPE_IPV6), v6_proto, _by_direction(
        direction, _port_test(_net(layer, 2, 40), low, high),
        _port_test(_net(layer, 2, 42), low, high)))
    v4_proto = any_of(*(Cmp(_net(layer, 1, 9), "jeq", p) for p in protos))

    def transport(offset: int) -> Load:
        return _transport(layer, 2, offset)
    v4 = all_of(ethertype(layer, ETHERTYPE_IP), v4_proto, not_ip_fragment(layer),
                _by_direction(direction, _port_test(transport(0), low, high),
                              _port_test(transport(2), low, high)))
    return Or(v6, v4)


# -- encapsulations that move later offsets ----------------------------------------------------

@_memo
def vlan(layer: Layer, vlan_id: int | None) -> tuple[Pred, Layer]:
    """An 802.1Q/802.1ad tag at the current link-type offset (and its VLAN ID)."""
    if layer.linktype != "ether":
        raise PrimitiveError(f"no VLAN support for {layer.title}")
    if layer.encap == "mpls":
        raise PrimitiveError("no VLAN match after MPLS")
    if layer.encap == "ppp":
        raise PrimitiveError("no VLAN support for PPP")
    tpid = any_of(*(Cmp(_field(layer), "jeq", t) for t in VLAN_TPIDS))
    if vlan_id is not None:
        tpid = And(tpid, Cmp(_net(layer, 2, 0), "jeq", vlan_id, 0x0FFF))
    return tpid, replace(layer, proto_off=layer.proto_off + 4, net=layer.net + 4)


@_memo
def mpls(layer: Layer, label: int | None) -> tuple[Pred, Layer]:
    """An MPLS label stack entry here; later protocols look past it."""
    if layer.linktype != "ether" and layer.encap == "link":
        raise PrimitiveError(f"no MPLS support for {layer.title}")
    if layer.encap == "mpls":
        pred: Pred = _mpls_bos(layer, False)
    elif layer.encap == "ppp":
        pred = Cmp(_field(layer), "jeq", 0x281)
    else:
        pred = Cmp(_field(layer), "jeq", ETHERTYPE_MPLS)
    if label is not None:
        pred = And(pred, Cmp(_net(layer, 4, 0), "jeq", label << 12, 0xFFFFF000))
    return pred, replace(layer, net=layer.net + 4, encap="mpls", labels=layer.labels + 1)


@_memo
def pppoes(layer: Layer, session: int | None) -> tuple[Pred, Layer]:
    """A PPPoE session frame (and its session id); later protocols are PPP's."""
    if layer.encap == "mpls":
        raise PrimitiveError("unsupported protocol over mpls")
    pred: Pred = link_proto(layer, ETHERTYPE_PPPOES)
    if session is not None:
        pred = And(pred, Cmp(_net(layer, 4, 0), "jeq", session, 0xFFFF))
    # past geneve the PPP header is where M[2] points, as libpcap moves it
    return pred, replace(layer, proto_off=layer.net + 6, net=layer.net + 8, encap="ppp",
                         proto_slot=layer.slots + GENEVE_NET_SLOT, ppp_link=True)


# -- LLC and the protocols that ride on it ----------------------------------------------------

LLC_KINDS = {"i": (0x01, "i"), "s": (0x03, 0x01), "u": (0x03, 0x03),
             "rr": (0x0F, 0x01), "rnr": (0x0F, 0x05), "rej": (0x0F, 0x09),
             "ui": (0xEF, 0x03), "ua": (0xEF, 0x63), "disc": (0xEF, 0x43),
             "dm": (0xEF, 0x0F), "sabme": (0xEF, 0x6F), "test": (0xEF, 0xE3),
             "xid": (0xEF, 0xAF), "frmr": (0xEF, 0x87)}


@_memo
def llc(layer: Layer, kind: str | None) -> Pred:
    """An 802.2 LLC frame (not Novell raw 802.3), optionally of one frame type."""
    if layer.ppp_link:
        raise PrimitiveError("'llc' not supported for PPP")
    if layer.linktype != "ether":
        raise PrimitiveError(f"'llc' not supported for {layer.title}")
    # after mpls too: libpcap tests the Ethernet header's length field (never true then)
    base = And(Not(Cmp(_field(layer), "jgt", ETHERMTU)),
               Not(Cmp(_link_payload(layer, 2, 0), "jeq", 0xFFFF)))
    if kind is None:
        return base
    mask, value = LLC_KINDS[kind]
    control = _link_payload(layer, 1, 2)
    if value == "i":
        return And(base, Not(Cmp(control, "jset", 1)))
    assert isinstance(value, int)
    return And(base, Cmp(control, "jeq", value, mask))


ISO_PROTOS = {"clnp": 0x81, "esis": 0x82, "isis": 0x83}
ISIS_PDUS = {"l1": (0x0F, 0x11, 0x12, 0x18, 0x1A), "l2": (0x10, 0x11, 0x14, 0x19, 0x1B),
             "iih": (0x0F, 0x10, 0x11), "lsp": (0x12, 0x14), "snp": (0x18, 0x19, 0x1A, 0x1B),
             "csnp": (0x18, 0x19), "psnp": (0x1A, 0x1B)}


@_memo
def iso_proto(layer: Layer, nlpid: int) -> Pred:
    """An OSI network-layer protocol id inside an ISO (0xfefe) LLC frame."""
    return And(ether_proto(layer, LLCSAP_ISONS),
               Cmp(_link_payload(layer, 1, layer.nlpid_off), "jeq", nlpid))


@_memo
def isis_pdu(layer: Layer, name: str) -> Pred:
    """IS-IS PDU types (``l1``, ``lsp``...) in libpcap's order of alternatives."""
    order = {"l1": (0x1A, 0x18, 0x12, 0x0F, 0x11), "l2": (0x1B, 0x19, 0x14, 0x10, 0x11),
             "iih": (0x11, 0x10, 0x0F), "lsp": (0x14, 0x12), "snp": (0x1B, 0x1A, 0x19, 0x18),
             "csnp": (0x19, 0x18), "psnp": (0x1B, 0x1A)}[name]
    isis = iso_proto(layer, ISO_PROTOS["isis"])
    pdu_type = _link_payload(layer, 1, layer.nlpid_off + 4)
    return any_of(*(And(isis, Cmp(pdu_type, "jeq", pdu)) for pdu in order))


# -- lengths, metadata -------------------------------------------------------------------------

def length_at_least(n: int) -> Pred:
    return Cmp(Load("len"), "jge", n)


def length_at_most(n: int) -> Pred:
    return Not(Cmp(Load("len"), "jgt", n))


def _metadata(layer: Layer, what: str, offset: int) -> Load:
    """Linux's ancillary ``offset`` (a live capture's metadata); a saved file has none, and
    libpcap refuses to compile for it."""
    if layer.savefile:
        title = "PPP" if layer.ppp_link else layer.title
        raise PrimitiveError(f"{what} not supported on {title} when reading savefiles")
    return _abs(4 if offset == SKF_AD_IFINDEX else 2, (SKF_AD_OFF + offset) & 0xFFFF_FFFF)


def direction(layer: Layer, inbound: bool) -> Pred:
    """``inbound``/``outbound``: the cooked header's packet type, else Linux's ancillary
    packet type. Past pppoes the link type is PPP's: no cooked header to read."""
    cooked = not layer.ppp_link
    if layer.linktype == "sll" and cooked:
        outgoing = Cmp(_abs(2, 0), "jeq", PACKET_OUTGOING)
    elif layer.linktype == "sll2" and cooked:
        outgoing = Cmp(_abs(1, 10), "jeq", PACKET_OUTGOING)
    else:
        outgoing = Cmp(_metadata(layer, "inbound/outbound", SKF_AD_PKTTYPE), "jeq",
                       PACKET_OUTGOING)
    return Not(outgoing) if inbound else outgoing


def ifindex(layer: Layer, index: int) -> Pred:
    if layer.linktype == "sll2" and not layer.ppp_link:
        return Cmp(_abs(4, 4), "jeq", index)
    return Cmp(_metadata(layer, "ifindex", SKF_AD_IFINDEX), "jeq", index)


# -- proto[index:size] ---------------------------------------------------------------------------

NETWORK_PROTOS = {"ip": ETHERTYPE_IP, "ip6": ETHERTYPE_IPV6, "arp": ETHERTYPE_ARP,
                  "rarp": ETHERTYPE_REVARP}
TRANSPORT_V4_PROTOS = ("tcp", "udp", "sctp", "icmp", "igmp", "igrp", "pim", "vrrp", "carp")
LINK_ALIASES = ("ether", "link", "fddi", "tr", "wlan", "ppp", "slip")


@_memo
def packet_load(layer: Layer, proto: str, index: Arith, size: int) -> PacketLoad:
    """``proto[index:size]`` with the guards libpcap puts before it."""
    base = layer.net  # past geneve: what vlan and mpls add to M[2]
    mem = layer.slots + GENEVE_NET_SLOT if layer.var else None
    if proto in LINK_ALIASES:
        link_base, slot = _link_header(layer)
        return PacketLoad(size, link_base, index, base_mem=slot)
    if proto in NETWORK_PROTOS:
        return PacketLoad(size, base, index, base_mem=mem,
                          guards_after=(ethertype(layer, NETWORK_PROTOS[proto]),))
    if proto in TRANSPORT_V4_PROTOS:
        return PacketLoad(size, base, index, base_mem=mem,
                          guards_before=(ethertype(layer, ETHERTYPE_IP),),
                          guards_after=(And(ip_proto(layer, IPPROTO[proto]),
                                            not_ip_fragment(layer)),),
                          transport_msh=base)
    if proto == "icmp6":
        return PacketLoad(size, base + IPV6_HEADER_BYTES, index, base_mem=mem,
                          guards_after=(And(ethertype(layer, ETHERTYPE_IPV6),
                                            Cmp(_net(layer, 1, 6), "jeq",
                                                IPPROTO["icmp6"])),))
    raise KeyError(proto)


@_memo
def geneve(layer: Layer, vni: int | None) -> tuple[Pred, Layer]:
    """A Geneve packet (UDP port 6081, version 0, and its VNI) over IPv4 or IPv6; later
    primitives look at what it carries (its own Ethernet frame, or a bare protocol). A
    geneve inside one keeps its offsets in the next three scratch words, as libpcap."""
    udp = IPPROTO["udp"]

    def header(load: Callable[[int, int], Load]) -> list[Pred]:
        tests: list[Pred] = [Cmp(load(2, 2), "jeq", GENEVE_PORT),
                             Cmp(load(1, 8), "jeq", 0, 0xC0)]
        if vni is not None:
            tests.append(Cmp(load(4, 12), "jeq", vni << 8, 0xFFFFFF00))
        return tests
    v4 = all_of(ethertype(layer, ETHERTYPE_IP), Cmp(_net(layer, 1, 9), "jeq", udp),
                not_ip_fragment(layer), *header(lambda size, off: _transport(layer, size, off)))
    v6 = all_of(ethertype(layer, ETHERTYPE_IPV6), Cmp(_net(layer, 1, 6), "jeq", udp),
                *header(lambda size, off: _net(layer, size, IPV6_HEADER_BYTES + off)))
    # libpcap's view on any link type: an Ethernet frame inside, but an MPLS label stack
    # before geneve still counts (what follows is tested as MPLS's payload, no vlan)
    slots = layer.slots + 3 if layer.var else 0
    inner = Layer("ether", 0, 0, encap="mpls" if layer.encap == "mpls" else "geneve",
                  var=True, proto_slot=slots, slots=slots, savefile=layer.savefile,
                  nlpid_off=layer.nlpid_off)
    return GeneveSetup(v4, v6, layer.net, layer.slots + GENEVE_NET_SLOT if layer.var else None,
                       slots), inner


@_memo
def protochain(layer: Layer, version: int | None, proto: int) -> Pred:
    """``[ip|ip6] protochain PROTO``: ``proto`` anywhere in the header chain."""
    _refuse_after_geneve(layer, "'protochain'")
    v4 = And(ethertype(layer, ETHERTYPE_IP), ProtoChain(4, layer.net, proto))
    v6 = And(ethertype(layer, ETHERTYPE_IPV6), ProtoChain(6, layer.net, proto))
    if version == 4:
        return v4
    if version == 6:
        return v6
    return Or(v4, v6)


@_memo
def decnet_host(layer: Layer, direction: str, addr: int) -> Pred:
    """``decnet [src|dst|host] AREA.NODE``: the address in the four DECnet routing header
    layouts (short or long, with or without a pad byte), as libpcap lists them."""
    value = (addr & 0xFF) << 8 | (addr >> 8 & 0xFF)  # little-endian on the wire

    def at(offsets: tuple[int, int, int, int]) -> Pred:
        short, padded_short, long, padded_long = offsets
        flags = _net(layer, 1, 2)
        flags_pad = _net(layer, 2, 2)
        return any_of(
            And(Cmp(flags, "jeq", 0x02, 0x07), Cmp(_net(layer, 2, short), "jeq", value)),
            And(Cmp(flags_pad, "jeq", 0x8102, 0xFF07),
                Cmp(_net(layer, 2, padded_short), "jeq", value)),
            And(Cmp(flags, "jeq", 0x06, 0x07), Cmp(_net(layer, 2, long), "jeq", value)),
            And(Cmp(flags_pad, "jeq", 0x8106, 0xFF07),
                Cmp(_net(layer, 2, padded_long), "jeq", value)))
    return And(ethertype(layer, 0x6003),
               _by_direction(direction, at((5, 6, 17, 18)), at((3, 4, 9, 10))))
