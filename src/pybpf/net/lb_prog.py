"""The XDP programs of ``pybpf lb``, written in pybpf.lang.

``net_lb`` runs on the balancer's interface. For a TCP or UDP packet over IPv4 (no
options, not a fragment) or IPv6 (no extension headers) to a virtual service (VIP
address, port, protocol in ``vips`` or ``vips6``) it finds the flow's backend, first in
the connection table (``flows``, ``flows6``: a flow keeps its backend while the rings
change), else in the VIP's Maglev ring at ``vip_index * RING + hash(5-tuple) % RING``;
it then puts an outer header in front of the packet's IP header, sends the frame to the
backend's MAC address from the MAC it arrived on, and returns XDP_TX. The outer header's
family is the backend's: IPv4 (protocol 4 for an IPv4 packet, 41 for an IPv6 one) or
IPv6 (next header 4 or 41), as Katran encapsulates. Everything else passes to the stack.

With ``gue_port`` set in ``config``, the outer headers are IP and UDP to that port
instead (GUE "variant 1" as Katran sends it: the inner IP packet straight after the UDP
header, whose first nibble tells IPv4 from IPv6), the UDP source port taken from the
flow's hash.

ICMP, as Katran handles it: a "destination unreachable" (ICMPv6: or "packet too big")
about a packet a VIP sent goes to the backend of that flow, found from the quoted header
(its addresses and ports swapped), so the backend's own stack learns of it. A VIP packet
that would exceed ``mtu`` once encapsulated is not forwarded: the client is told
"fragmentation needed" (ICMPv6 "packet too big") with the size that fits, from the VIP's
address, quoting the packet's first bytes. A ping to a VIP's address is answered.

``net_lb_decap`` runs on each backend: an IPv4 or IPv6 packet carrying IPv4 (4) or IPv6
(41), or UDP to ``gue_port`` of ``decap_config``, loses its outer headers (the Ethernet
header moves forward over them, then the head does) and passes on as the inner packet,
which the backend's stack delivers to the VIP on its loopback.

Multi-byte fields are raw little-endian loads of network-order bytes (see
:mod:`pybpf.net.headers`); addresses and ports stay in that form in every map.
"""

from pybpf.lang import (
    XDP_DROP,
    XDP_PASS,
    XDP_TX,
    Array,
    Hash,
    LRUHash,
    PerCPUArray,
    bpf,
    cast,
    csum_diff,
    struct,
    u8,
    u16,
    u32,
    u64,
    xdp_adjust_head,
    xdp_adjust_tail,
)
from pybpf.net.headers import ETH_IPV4_RAW, ETH_IPV6_RAW, IPPROTO_UDP, EthHdr, IPv4Hdr, Ports

__all__ = ["RING", "MAX_VIPS", "MAX_BACKENDS", "MAX_FLOWS", "net_lb", "net_lb_decap"]

RING = 4099              # Maglev ring size per VIP: a prime well above the backend count
MAX_VIPS = 64
MAX_BACKENDS = 256
MAX_FLOWS = 65536
IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41
KIND_IPV4 = 4            # Backend.kind; 0: the slot is empty
KIND_IPV6 = 6
QUOTE4 = 64              # bytes of a refused packet its "fragmentation needed" quotes
QUOTE6 = 128             # ... and its "packet too big"
STAT_TOO_BIG = 0         # rows of lb_stats
STAT_ICMP_ERRORS = 1
STAT_ECHO = 2
ECHO6 = 1 << 30          # parse6: a ping
VIP_RING = 1             # VipInfo.flags: the ring is filled (a VIP without backends passes)
VIP_NO_SOURCE_PORT = 2   # the hash leaves the source port out (Katran's F_HASH_NO_SRC_PORT)
VIP_NO_FLOWS = 4         # no connection table: the ring alone decides (F_LRU_BYPASS)


class VipKey(struct):
    addr: u32
    port: u16
    proto: u16


class Vip6Key(struct):
    a0: u32
    a1: u32
    a2: u32
    a3: u32
    port: u16
    proto: u16


class Addr6(struct):
    a0: u32
    a1: u32
    a2: u32
    a3: u32


class VipInfo(struct):
    index: u32           # row of the VIP in the ring and counter arrays
    flags: u32           # VIP_RING, VIP_NO_SOURCE_PORT, VIP_NO_FLOWS


class FlowKey(struct):
    saddr: u32
    daddr: u32
    sport: u16
    dport: u16
    proto: u32


class Flow6Key(struct):
    s0: u32
    s1: u32
    s2: u32
    s3: u32
    d0: u32
    d1: u32
    d2: u32
    d3: u32
    sport: u16
    dport: u16
    proto: u32


class Backend(struct):
    addr: u32            # IPv4
    mac_lo: u32
    mac_hi: u16
    kind: u16            # KIND_IPV4, KIND_IPV6; 0: the slot is empty
    a0: u32              # IPv6
    a1: u32
    a2: u32
    a3: u32


class Counter(struct):
    packets: u64
    bytes: u64


class Config(struct):
    """The backends' decap settings (``decap_config``): gue_port only."""
    source: u32
    gue_port: u16
    pad: u16


class Settings(struct):
    """The balancer's ``config``."""
    source: u32          # outer IPv4 source address: the balancer's
    gue_port: u16        # raw; 0: IPIP, else GUE (UDP to this port) as Katran's variant 1
    pad: u16
    mtu: u32             # largest packet to send to a backend; 0: no limit
    s0: u32              # outer IPv6 source address
    s1: u32
    s2: u32
    s3: u32


class Ip6Hdr(struct):
    ver_flow: u32
    payload_len: u16
    next_header: u8
    hop_limit: u8
    s0: u32
    s1: u32
    s2: u32
    s3: u32
    d0: u32
    d1: u32
    d2: u32
    d3: u32


class IcmpHdr(struct):
    """ICMP and ICMPv6 alike: type, code, checksum, then four bytes (the MTU's)."""
    type: u8
    code: u8
    check: u16
    w1: u16
    w2: u16


class UdpHdr(struct):
    sport: u16
    dport: u16
    length: u16
    check: u16


class Words(struct):
    """An IPv4 header as ten 16-bit words, for its checksum."""
    w0: u16
    w1: u16
    w2: u16
    w3: u16
    w4: u16
    w5: u16
    w6: u16
    w7: u16
    w8: u16
    w9: u16


vips = Hash(VipKey, VipInfo, max_entries=MAX_VIPS)
vips6 = Hash(Vip6Key, VipInfo, max_entries=MAX_VIPS)
ring = Array(u32, max_entries=MAX_VIPS * RING)
backends = Array(Backend, max_entries=MAX_BACKENDS)
flows = LRUHash(FlowKey, u32, max_entries=MAX_FLOWS)
flows6 = LRUHash(Flow6Key, u32, max_entries=MAX_FLOWS)
vip_stats = PerCPUArray(Counter, max_entries=MAX_VIPS)
backend_stats = PerCPUArray(Counter, max_entries=MAX_BACKENDS)
lb_stats = PerCPUArray(Counter, max_entries=3)  # STAT_TOO_BIG, STAT_ICMP_ERRORS, STAT_ECHO
vip_addrs = Hash(u32, u32, max_entries=MAX_VIPS)     # the VIPs' addresses: pings answered
vip_addrs6 = Hash(Addr6, u32, max_entries=MAX_VIPS)
config = Array(Settings, max_entries=1)
decap_config = Array(Config, max_entries=1)     # the backends' program: gue_port only


@bpf.inline
def flow_hash(saddr, daddr, ports, proto):
    # murmur3's 32-bit finaliser over a mix of the tuple: well spread, cheap
    h: u32 = saddr * 0x9E3779B1
    h ^= daddr + 0x7F4A7C15 + (h << 6) + (h >> 2)
    h ^= ports * 0x85EBCA77 + proto
    h ^= h >> 16
    h *= 0x85EBCA6B
    h ^= h >> 13
    h *= 0xC2B2AE35
    h ^= h >> 16
    return h


def swap16(x: u32) -> u32:
    # a subprogram (net_lb's stack is short): net_lb writes its hot path's swaps out
    return (x & 0xFF) << 8 | (x >> 8) & 0xFF


@bpf.inline
def fold(s):
    # a ones' complement sum of raw 16-bit words, folded and complemented: the checksum
    t: u64 = s
    t = (t & 0xFFFF) + (t >> 16)
    t = (t & 0xFFFF) + (t >> 16)
    t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


@bpf.inline
def ipv4_check(w):
    s: u32 = w.w0 + w.w1 + w.w2 + w.w3 + w.w4 + w.w5 + w.w6 + w.w7 + w.w8 + w.w9
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


@bpf.inline
def reply_macs(neth, old):
    # the reply goes back to where the packet came from, from the address it was sent to
    src_lo = old.src_lo
    src_hi = old.src_hi
    dst_lo = old.dst_lo
    dst_hi = old.dst_hi
    neth.dst_lo = src_lo | (src_hi << 16)
    neth.dst_hi = src_hi >> 16
    neth.src_lo = dst_lo & 0xFFFF
    neth.src_hi = (dst_lo >> 16) | (dst_hi << 16)


@bpf.inline
def count_echo(length):
    st = lb_stats.lookup(STAT_ECHO)
    if st:
        st.packets += 1
        st.bytes += length


@bpf.inline
def count_too_big(length):
    st = lb_stats.lookup(STAT_TOO_BIG)
    if st:
        st.packets += 1
        st.bytes += length


def too_big(ctx, mtu, family):
    """Turn the frame into an ICMP "fragmentation needed" (``family`` 4: QUOTE4 bytes of
    the packet quoted) or an ICMPv6 "packet too big" (6: QUOTE6 bytes) to its sender,
    ``mtu`` the size that fits, and send it back."""
    length = ctx.data_end - ctx.data
    count_too_big(length)
    quote: u32 = QUOTE6
    grow: u32 = 48                       # the new IP header and ICMP's 8 bytes
    if family == 4:
        quote = QUOTE4
        grow = 28
    if xdp_adjust_tail(ctx, 14 + quote - length):
        return XDP_DROP
    if xdp_adjust_head(ctx, 0 - grow):
        return XDP_DROP
    data = ctx.data
    if data + 14 + grow + quote > ctx.data_end:
        return XDP_DROP
    reply_macs(cast(EthHdr, data), cast(EthHdr, data + grow))
    icmp = cast(IcmpHdr, data + 6 + grow)
    icmp.check = 0
    if family == 4:
        cast(EthHdr, data).proto = ETH_IPV4_RAW
        quoted = cast(IPv4Hdr, data + 42)
        ip = cast(IPv4Hdr, data + 14)
        ip.ver_ihl = 0x45
        ip.tos = 0
        ip.total_len = swap16(28 + QUOTE4)
        ip.ident = 0
        ip.frag = 0
        ip.ttl = 64
        ip.proto = 1
        ip.check = 0
        ip.saddr = quoted.daddr
        ip.daddr = quoted.saddr
        ip.check = ipv4_check(cast(Words, data + 14))
        icmp.type = 3
        icmp.code = 4
        icmp.w1 = 0
        icmp.w2 = swap16(mtu)
        icmp.check = fold(csum_diff(0, 0, data + 34, 8 + QUOTE4, 0))
        return XDP_TX
    cast(EthHdr, data).proto = ETH_IPV6_RAW
    quoted6 = cast(Ip6Hdr, data + 62)
    ip6 = cast(Ip6Hdr, data + 14)
    ip6.ver_flow = 0x60
    ip6.payload_len = swap16(8 + QUOTE6)
    ip6.next_header = 58
    ip6.hop_limit = 64
    ip6.s0 = quoted6.d0
    ip6.s1 = quoted6.d1
    ip6.s2 = quoted6.d2
    ip6.s3 = quoted6.d3
    ip6.d0 = quoted6.s0
    ip6.d1 = quoted6.s1
    ip6.d2 = quoted6.s2
    ip6.d3 = quoted6.s3
    icmp.type = 2
    icmp.code = 0
    icmp.w1 = swap16(mtu >> 16)
    icmp.w2 = swap16(mtu & 0xFFFF)
    # the addresses sit right before the message: one sum covers both, then the rest of
    # the pseudo-header (length and next header 58, as raw words)
    s: u64 = csum_diff(0, 0, data + 22, 32 + 8 + QUOTE6, 0)
    icmp.check = fold(s + swap16(8 + QUOTE6) + 0x3A00)
    return XDP_TX


def echo4(ctx) -> u32:
    """A ping to a VIP's address answered in place, as Katran does (XDP_TX); XDP_PASS for
    another address. (net_lb checked the headers up to the ICMP one.)"""
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 20 + 8 > end:
        return XDP_PASS
    ip = cast(IPv4Hdr, data + 14)
    target: u32 = ip.daddr
    if not vip_addrs.lookup(target):
        return XDP_PASS
    eth = cast(EthHdr, data)
    reply_macs(eth, eth)
    ip.daddr = ip.saddr
    ip.saddr = target
    ip.ttl = 64
    ip.check = 0
    ip.check = ipv4_check(cast(Words, data + 14))
    icmp = cast(IcmpHdr, data + 34)
    icmp.type = 0
    # the type's word fell by 0x0800: the checksum rises by as much (raw: 0x0008)
    c: u32 = icmp.check + 0x0008
    icmp.check = (c & 0xFFFF) + (c >> 16)
    count_echo(end - data)
    return XDP_TX


def echo6(ctx) -> u32:
    """The same for IPv6 (parse6 checked the headers)."""
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 40 + 8 > end:
        return XDP_PASS
    ip6 = cast(Ip6Hdr, data + 14)
    target = Addr6()
    target.a0 = ip6.d0
    target.a1 = ip6.d1
    target.a2 = ip6.d2
    target.a3 = ip6.d3
    if not vip_addrs6.lookup(target):
        return XDP_PASS
    eth = cast(EthHdr, data)
    reply_macs(eth, eth)
    ip6.d0 = ip6.s0
    ip6.d1 = ip6.s1
    ip6.d2 = ip6.s2
    ip6.d3 = ip6.s3
    ip6.s0 = target.a0
    ip6.s1 = target.a1
    ip6.s2 = target.a2
    ip6.s3 = target.a3
    ip6.hop_limit = 64
    icmp = cast(IcmpHdr, data + 54)
    icmp.type = 129
    # the type's word rose by 0x0100: the checksum falls by as much (raw: 1)
    c: u32 = icmp.check + 0xFFFE
    icmp.check = (c & 0xFFFF) + (c >> 16)
    count_echo(end - data)
    return XDP_TX


def icmp4(ctx, fk: FlowKey) -> u32:
    """For an ICMP "destination unreachable" to a VIP about a TCP or UDP packet the VIP
    sent: the flow is the quoted one, reversed; written to ``fk``, 1 returned (0: not one
    to forward); 2 for a ping (to be answered by echo4). A subprogram, as parse6 is."""
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 20 + 8 > end:
        return 0
    ip = cast(IPv4Hdr, data + 14)
    icmp = cast(IcmpHdr, data + 34)
    if icmp.type == 8 and icmp.code == 0:
        return 2                                # a ping: net_lb calls echo4
    if icmp.type != 3:
        return 0
    if data + 14 + 20 + 8 + 20 + 4 > end:
        return 0
    quoted = cast(IPv4Hdr, data + 42)
    if quoted.ver_ihl != 0x45 or quoted.saddr != ip.daddr:
        return 0
    if quoted.proto != 6 and quoted.proto != 17:
        return 0
    qports = cast(Ports, data + 62)
    fk.saddr = quoted.daddr
    fk.daddr = quoted.saddr
    fk.sport = qports.dport
    fk.dport = qports.sport
    fk.proto = quoted.proto
    return 1


def parse6(ctx, fk6: Flow6Key, vk6: Vip6Key) -> u32:
    """An IPv6 packet's flow and VIP key, as net_lb's IPv4 part reads them; 0: not one to
    balance, else its length (bits 0-19), traffic class (20-27) and whether it is an ICMP
    error (28), with bit 29 set; ECHO6 for a ping (to be answered by echo6).
    A subprogram: inlined, its many names would take net_lb's registers from the IPv4
    path."""
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 40 + 4 > end:
        return 0
    ip6 = cast(Ip6Hdr, data + 14)
    if ip6.ver_flow & 0xF0 != 0x60:
        return 0
    is_icmp: u32 = 0
    nh = ip6.next_header
    if nh == 6 or nh == 17:          # anything else first (extension headers): the stack's
        ports = cast(Ports, data + 54)
        fk6.s0 = ip6.s0
        fk6.s1 = ip6.s1
        fk6.s2 = ip6.s2
        fk6.s3 = ip6.s3
        fk6.d0 = ip6.d0
        fk6.d1 = ip6.d1
        fk6.d2 = ip6.d2
        fk6.d3 = ip6.d3
        fk6.sport = ports.sport
        fk6.dport = ports.dport
        fk6.proto = nh
    elif nh == 58:
        if data + 14 + 40 + 8 > end:
            return 0
        icmp = cast(IcmpHdr, data + 54)
        if icmp.type == 128 and icmp.code == 0:
            return ECHO6                        # a ping: net_lb calls echo6
        # an error about a packet the VIP sent: the flow is the quoted one, reversed
        if data + 14 + 40 + 8 + 40 + 4 > end:
            return 0
        if icmp.type != 1 and icmp.type != 2:    # unreachable, packet too big
            return 0
        quoted = cast(Ip6Hdr, data + 62)
        if quoted.next_header != 6 and quoted.next_header != 17:
            return 0
        if quoted.s0 != ip6.d0 or quoted.s1 != ip6.d1 or quoted.s2 != ip6.d2 \
                or quoted.s3 != ip6.d3:
            return 0
        qports = cast(Ports, data + 102)
        fk6.s0 = quoted.d0
        fk6.s1 = quoted.d1
        fk6.s2 = quoted.d2
        fk6.s3 = quoted.d3
        fk6.d0 = quoted.s0
        fk6.d1 = quoted.s1
        fk6.d2 = quoted.s2
        fk6.d3 = quoted.s3
        fk6.sport = qports.dport
        fk6.dport = qports.sport
        fk6.proto = quoted.next_header
        is_icmp = 1
    else:
        return 0
    vk6.a0 = fk6.d0
    vk6.a1 = fk6.d1
    vk6.a2 = fk6.d2
    vk6.a3 = fk6.d3
    vk6.port = fk6.dport
    vk6.proto = fk6.proto
    vf = ip6.ver_flow
    tos = (vf & 0x0F) << 4 | (vf >> 12) & 0x0F
    length: u32 = swap16(ip6.payload_len) + 40
    return 1 << 29 | is_icmp << 28 | tos << 20 | length


def hash6(fk6: Flow6Key, no_sport: u32) -> u32:
    # the addresses folded to a word each, then mixed as an IPv4 tuple is
    sport: u32 = fk6.sport
    if no_sport:
        sport = 0
    return flow_hash(fk6.s0 ^ fk6.s1 ^ fk6.s2 ^ fk6.s3, fk6.d0 ^ fk6.d1 ^ fk6.d2 ^ fk6.d3,
                     sport + (fk6.dport << 16), fk6.proto)


def outer6(ctx, be: Backend, cfg: Settings, h: u32, rest: u64) -> u32:
    """Write the outer IPv6 header (and UDP for GUE) in the room net_lb made for the flow
    of hash ``h``: ``rest`` is the payload length (bits 0-19), next header (20-27) and
    inner traffic class (28-35). Returns 1 when written. A subprogram for the same reason
    as parse6."""
    data = ctx.data
    if data + 14 + 48 > ctx.data_end:
        return 0
    o6 = cast(Ip6Hdr, data + 14)
    # traffic class copied from the inner packet, flow label from the flow's hash (for
    # ECMP on the way, RFC 6438)
    tos: u32 = rest >> 28 & 0xFF
    fl: u32 = h & 0xFFFFF
    o6.ver_flow = 0x60 | tos >> 4 | (tos & 0xF) << 12 | (fl >> 16) << 8 \
        | ((fl >> 8) & 0xFF) << 16 | (fl & 0xFF) << 24
    payload: u32 = rest & 0xFFFFF
    o6.payload_len = swap16(payload)
    o6.next_header = rest >> 20 & 0xFF
    o6.hop_limit = 64
    o6.s0 = cfg.s0
    o6.s1 = cfg.s1
    o6.s2 = cfg.s2
    o6.s3 = cfg.s3
    o6.d0 = be.a0
    o6.d1 = be.a1
    o6.d2 = be.a2
    o6.d3 = be.a3
    if cfg.gue_port:
        o6.next_header = IPPROTO_UDP
        udp = cast(UdpHdr, data + 54)
        sport: u32 = 0xC000 | (h & 0x3FFF)     # as net_lb's, for GUE over IPv4
        udp.sport = swap16(sport)
        udp.dport = cfg.gue_port
        udp.length = swap16(payload)
        udp.check = 0                           # none, as Katran sends it (RFC 6935)
    return 1


@bpf.xdp
def net_lb(ctx):
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 20 + 4 > end:
        return XDP_PASS
    eth = cast(EthHdr, data)
    family: u32 = 4
    is_icmp: u32 = 0
    inner_len: u32 = 0
    tos: u32 = 0
    h: u32 = 0
    fk = FlowKey()
    if eth.proto == ETH_IPV4_RAW:
        ip = cast(IPv4Hdr, data + 14)
        if ip.ver_ihl != 0x45 or ip.frag & 0xFF3F:    # options or a fragment: the stack's
            return XDP_PASS
        if ip.proto == 6 or ip.proto == 17:
            ports = cast(Ports, data + 34)
            fk.saddr = ip.saddr
            fk.daddr = ip.daddr
            fk.sport = ports.sport
            fk.dport = ports.dport
            fk.proto = ip.proto
        elif ip.proto == 1:
            is_icmp = icmp4(ctx, fk)
            if is_icmp == 2:
                return echo4(ctx)
            if not is_icmp:
                return XDP_PASS
        else:
            return XDP_PASS
        tos = ip.tos
        inner_len = (ip.total_len & 0xFF) << 8 | ip.total_len >> 8
        vk = VipKey()
        vk.addr = fk.daddr
        vk.port = fk.dport
        vk.proto = fk.proto
        vip = vips.lookup(vk)
        if not vip:
            return XDP_PASS
        sport: u32 = fk.sport
        if vip.flags & VIP_NO_SOURCE_PORT:
            sport = 0
        h = flow_hash(fk.saddr, fk.daddr, sport + (fk.dport << 16), fk.proto)
    elif eth.proto == ETH_IPV6_RAW:
        fk6 = Flow6Key()
        vk6 = Vip6Key()
        info = parse6(ctx, fk6, vk6)
        if not info:
            return XDP_PASS
        if info == ECHO6:
            return echo6(ctx)
        family = 6
        inner_len = info & 0xFFFFF
        tos = info >> 20 & 0xFF
        is_icmp = info >> 28 & 1
        vip = vips6.lookup(vk6)
        if not vip:
            return XDP_PASS
        h = hash6(fk6, vip.flags & VIP_NO_SOURCE_PORT)
    else:
        return XDP_PASS
    slot: u32 = 0xFFFFFFFF
    no_flows = vip.flags & VIP_NO_FLOWS
    if no_flows:
        pass
    elif family == 4:
        known = flows.lookup(fk)
        if known:
            slot = known[0]
    else:
        known = flows6.lookup(fk6)
        if known:
            slot = known[0]
    if slot < MAX_BACKENDS:
        held = backends.lookup(slot)
        if not held or held.kind == 0:
            slot = 0xFFFFFFFF                   # its backend is gone: choose again
    if slot >= MAX_BACKENDS:
        if not vip.flags & VIP_RING:
            return XDP_PASS
        picked = ring.lookup(vip.index * RING + h % RING)
        if not picked:
            return XDP_PASS
        slot = picked[0]
        if not is_icmp and not no_flows:        # an ICMP error makes no flow
            if family == 4:
                flows.update(fk, slot)
            else:
                flows6.update(fk6, slot)
    be = backends.lookup(slot)
    if not be or be.kind == 0:
        return XDP_PASS
    cfg = config.lookup(0)
    if not cfg:
        return XDP_PASS
    gue_port = cfg.gue_port
    extra: u32 = 20
    if be.kind == KIND_IPV6:
        extra = 40
    if gue_port:
        extra += 8
    mtu = cfg.mtu
    length = end - data
    if mtu and not is_icmp and inner_len + extra > mtu:
        return too_big(ctx, mtu - extra, family)
    # remember the MACs: the frame leaves from the MAC it was sent to
    our_lo = eth.dst_lo
    our_hi = eth.dst_hi
    if xdp_adjust_head(ctx, 0 - extra):
        return XDP_PASS
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 48 > end:
        return XDP_DROP
    neth = cast(EthHdr, data)
    neth.dst_lo = be.mac_lo
    neth.dst_hi = be.mac_hi
    neth.src_lo = our_lo & 0xFFFF
    neth.src_hi = (our_lo >> 16) | (our_hi << 16)
    inner_proto: u32 = IPPROTO_IPIP
    if family == 6:
        inner_proto = IPPROTO_IPV6
    # the source port carries the flow's hash, for the backends' receive-side scaling
    sport = 0xC000 | (h & 0x3FFF)
    if be.kind == KIND_IPV4:
        neth.proto = ETH_IPV4_RAW
        outer = cast(IPv4Hdr, data + 14)
        outer.ver_ihl = 0x45
        outer.tos = tos
        total: u32 = inner_len + extra
        outer.total_len = (total & 0xFF) << 8 | (total >> 8) & 0xFF
        outer.ident = 0
        outer.frag = 0x0040                     # DF, as the raw load sees 0x4000
        outer.ttl = 64
        outer.proto = inner_proto
        if gue_port:
            outer.proto = IPPROTO_UDP
            udp = cast(UdpHdr, data + 34)
            udp.sport = swap16(sport)
            udp.dport = gue_port
            udp.length = swap16(total - 20)
            udp.check = 0                       # none: allowed over IPv4
        outer.check = 0
        outer.saddr = cfg.source
        outer.daddr = be.addr
        outer.check = ipv4_check(cast(Words, data + 14))
    else:
        neth.proto = ETH_IPV6_RAW
        rest: u64 = tos
        if not outer6(ctx, be, cfg, h, rest << 28 | inner_proto << 20 | inner_len + extra - 40):
            return XDP_DROP
    if is_icmp:
        si = lb_stats.lookup(STAT_ICMP_ERRORS)
        if si:
            si.packets += 1
            si.bytes += length
    vs = vip_stats.lookup(vip.index)
    if vs:
        vs.packets += 1
        vs.bytes += length
    bs = backend_stats.lookup(slot)
    if bs:
        bs.packets += 1
        bs.bytes += length
    return XDP_TX


@bpf.inline
def move_eth(data, dst_lo, dst_hi, src_lo, src_hi, proto):
    moved = cast(EthHdr, data)
    moved.dst_lo = dst_lo
    moved.dst_hi = dst_hi
    moved.src_lo = src_lo
    moved.src_hi = src_hi
    moved.proto = proto


@bpf.xdp
def net_lb_decap(ctx):
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 28 + 20 > end:
        return XDP_PASS
    eth = cast(EthHdr, data)
    strip: u32 = 0
    inner = ETH_IPV4_RAW
    if eth.proto == ETH_IPV4_RAW:
        ip = cast(IPv4Hdr, data + 14)
        if ip.ver_ihl != 0x45 or ip.frag & 0xFF3F:
            return XDP_PASS
        if ip.proto == IPPROTO_IPIP:
            strip = 20
        elif ip.proto == IPPROTO_IPV6:
            strip = 20
            inner = ETH_IPV6_RAW
        elif ip.proto == IPPROTO_UDP:
            cfg = decap_config.lookup(0)
            if cfg and cfg.gue_port:
                udp = cast(UdpHdr, data + 34)
                if udp.dport == cfg.gue_port:
                    strip = 28
                    first = cast(IPv4Hdr, data + 42)
                    if first.ver_ihl & 0xF0 == 0x60:
                        inner = ETH_IPV6_RAW
    elif eth.proto == ETH_IPV6_RAW:
        if data + 14 + 48 + 20 > end:
            return XDP_PASS
        ip6 = cast(Ip6Hdr, data + 14)
        if ip6.ver_flow & 0xF0 != 0x60:
            return XDP_PASS
        if ip6.next_header == IPPROTO_IPIP:
            strip = 40
        elif ip6.next_header == IPPROTO_IPV6:
            strip = 40
            inner = ETH_IPV6_RAW
        elif ip6.next_header == IPPROTO_UDP:
            cfg6 = decap_config.lookup(0)
            if cfg6 and cfg6.gue_port:
                udp = cast(UdpHdr, data + 54)
                if udp.dport == cfg6.gue_port:
                    strip = 48
                    first6 = cast(IPv4Hdr, data + 62)
                    if first6.ver_ihl & 0xF0 == 0x60:
                        inner = ETH_IPV6_RAW
    if strip == 0:
        return XDP_PASS
    # the Ethernet header moves forward over the outer headers, then the head follows
    dst_lo = eth.dst_lo
    dst_hi = eth.dst_hi
    src_lo = eth.src_lo
    src_hi = eth.src_hi
    if strip == 20:
        move_eth(data + 20, dst_lo, dst_hi, src_lo, src_hi, inner)
    elif strip == 28:
        move_eth(data + 28, dst_lo, dst_hi, src_lo, src_hi, inner)
    elif strip == 40:
        move_eth(data + 40, dst_lo, dst_hi, src_lo, src_hi, inner)
    else:
        move_eth(data + 48, dst_lo, dst_hi, src_lo, src_hi, inner)
    if xdp_adjust_head(ctx, strip):
        return XDP_PASS
    return XDP_PASS
