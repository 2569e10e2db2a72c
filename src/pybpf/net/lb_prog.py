"""The XDP programs of ``pybpf lb``, written in pybpf.lang.

``net_lb`` runs on the balancer's interface. For an IPv4 TCP or UDP packet to a virtual
service (VIP address, port, protocol in ``vips``) it finds the flow's backend, first in the
connection table (so a flow keeps its backend while the rings change), else in the VIP's
Maglev ring at ``vip_index * RING + hash(5-tuple) % RING``; it then puts an outer IPv4
header in front of the packet's IP header (IPIP: protocol 4, source the balancer, target
the backend), sends the frame to the backend's MAC address from the MAC it arrived on, and
returns XDP_TX. Everything else passes to the stack untouched.

With ``gue_port`` set in ``config``, the outer headers are IPv4 and UDP to that port
instead (GUE "variant 1" as Katran sends it: the inner IP packet straight after the UDP
header, 28 bytes in all), the UDP source port taken from the flow's hash.

``net_lb_decap`` runs on each backend: an IPIP packet (or a UDP one to ``gue_port`` of
``decap_config``) loses its outer headers (the Ethernet header moves forward over them,
then the head does) and passes on as the inner packet, which the backend's stack
delivers to the VIP on its loopback.

Multi-byte fields are raw little-endian loads of network-order bytes (see
:mod:`pybpf.net.headers`); addresses and ports stay in that form in every map.
"""

from pybpf.lang import (
    XDP_PASS,
    XDP_TX,
    Array,
    Hash,
    LRUHash,
    PerCPUArray,
    bpf,
    cast,
    struct,
    u16,
    u32,
    u64,
    xdp_adjust_head,
)
from pybpf.net.headers import ETH_IPV4_RAW, IPPROTO_UDP, EthHdr, IPv4Hdr, Ports

__all__ = ["RING", "MAX_VIPS", "MAX_BACKENDS", "MAX_FLOWS", "net_lb", "net_lb_decap"]

RING = 4099              # Maglev ring size per VIP: a prime well above the backend count
MAX_VIPS = 64
MAX_BACKENDS = 256
MAX_FLOWS = 65536
IPPROTO_IPIP = 4


class VipKey(struct):
    addr: u32
    port: u16
    proto: u16


class VipInfo(struct):
    index: u32           # row of the VIP in the ring and counter arrays
    flags: u32           # bit 0: the ring is filled (a VIP without backends passes)


class FlowKey(struct):
    saddr: u32
    daddr: u32
    sport: u16
    dport: u16
    proto: u32


class Backend(struct):
    addr: u32            # 0: the slot is empty
    mac_lo: u32
    mac_hi: u16
    pad: u16


class Counter(struct):
    packets: u64
    bytes: u64


class Config(struct):
    source: u32          # outer source address: the balancer's
    gue_port: u16        # raw; 0: IPIP, else GUE (UDP to this port) as Katran's variant 1
    pad: u16


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
ring = Array(u32, max_entries=MAX_VIPS * RING)
backends = Array(Backend, max_entries=MAX_BACKENDS)
flows = LRUHash(FlowKey, u32, max_entries=MAX_FLOWS)
vip_stats = PerCPUArray(Counter, max_entries=MAX_VIPS)
backend_stats = PerCPUArray(Counter, max_entries=MAX_BACKENDS)
config = Array(Config, max_entries=1)
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


@bpf.xdp
def net_lb(ctx):
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 20 + 4 > end:
        return XDP_PASS
    eth = cast(EthHdr, data)
    if eth.proto != ETH_IPV4_RAW:
        return XDP_PASS
    ip = cast(IPv4Hdr, data + 14)
    if ip.ver_ihl != 0x45 or ip.frag & 0xFF3F:    # options or a fragment: the stack's
        return XDP_PASS
    if ip.proto != 6 and ip.proto != 17:
        return XDP_PASS
    ports = cast(Ports, data + 34)
    vk = VipKey()
    vk.addr = ip.daddr
    vk.port = ports.dport
    vk.proto = ip.proto
    vip = vips.lookup(vk)
    if not vip:
        return XDP_PASS
    fk = FlowKey()
    fk.saddr = ip.saddr
    fk.daddr = ip.daddr
    fk.sport = ports.sport
    fk.dport = ports.dport
    fk.proto = ip.proto
    vindex = vip.index
    h = flow_hash(ip.saddr, ip.daddr, ports.sport + (ports.dport << 16), ip.proto)
    slot: u32 = 0xFFFFFFFF
    known = flows.lookup(fk)
    if known:
        slot = known[0]
    if slot < MAX_BACKENDS:
        held = backends.lookup(slot)
        if not held or held.addr == 0:
            slot = 0xFFFFFFFF                   # its backend is gone: choose again
    if slot >= MAX_BACKENDS:
        if not vip.flags & 1:
            return XDP_PASS
        picked = ring.lookup(vindex * RING + h % RING)
        if not picked:
            return XDP_PASS
        slot = picked[0]
        flows.update(fk, slot)
    be = backends.lookup(slot)
    if not be or be.addr == 0:
        return XDP_PASS
    cfg = config.lookup(0)
    if not cfg:
        return XDP_PASS
    length = end - data
    tos = ip.tos
    inner_len = ip.total_len
    # remember the MACs: the frame leaves from the MAC it was sent to
    our_lo = eth.dst_lo
    our_hi = eth.dst_hi
    be_addr = be.addr
    be_lo = be.mac_lo
    be_hi = be.mac_hi
    source = cfg.source
    gue_port = cfg.gue_port
    extra: u32 = 20
    if gue_port:
        extra = 28
        if xdp_adjust_head(ctx, -28):
            return XDP_PASS
    elif xdp_adjust_head(ctx, -20):
        return XDP_PASS
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 28 + 20 > end:
        return XDP_PASS
    neth = cast(EthHdr, data)
    neth.dst_lo = be_lo
    neth.dst_hi = be_hi
    neth.src_lo = our_lo & 0xFFFF
    neth.src_hi = (our_lo >> 16) | (our_hi << 16)
    neth.proto = ETH_IPV4_RAW
    outer = cast(IPv4Hdr, data + 14)
    outer.ver_ihl = 0x45
    outer.tos = tos
    total: u32 = ((inner_len & 0xFF) << 8 | inner_len >> 8) + extra
    outer.total_len = (total & 0xFF) << 8 | (total >> 8) & 0xFF
    outer.ident = 0
    outer.frag = 0x0040                         # DF, as the raw load sees 0x4000
    outer.ttl = 64
    outer.proto = IPPROTO_IPIP
    if gue_port:
        outer.proto = IPPROTO_UDP
        udp = cast(UdpHdr, data + 34)
        # the source port carries the flow's hash, for the backends' receive-side scaling
        sport: u32 = 0xC000 | (h & 0x3FFF)
        udp.sport = (sport & 0xFF) << 8 | sport >> 8
        udp.dport = gue_port
        ulen: u32 = total - 20
        udp.length = (ulen & 0xFF) << 8 | (ulen >> 8) & 0xFF
        udp.check = 0                           # none: allowed over IPv4
    outer.check = 0
    outer.saddr = source
    outer.daddr = be_addr
    w = cast(Words, data + 14)
    s: u32 = w.w0 + w.w1 + w.w2 + w.w3 + w.w4 + w.w5 + w.w6 + w.w7 + w.w8 + w.w9
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    outer.check = ~s & 0xFFFF
    vs = vip_stats.lookup(vindex)
    if vs:
        vs.packets += 1
        vs.bytes += length
    bs = backend_stats.lookup(slot)
    if bs:
        bs.packets += 1
        bs.bytes += length
    return XDP_TX


@bpf.xdp
def net_lb_decap(ctx):
    data = ctx.data
    end = ctx.data_end
    if data + 14 + 28 + 20 > end:
        return XDP_PASS
    eth = cast(EthHdr, data)
    if eth.proto != ETH_IPV4_RAW:
        return XDP_PASS
    ip = cast(IPv4Hdr, data + 14)
    if ip.ver_ihl != 0x45 or ip.frag & 0xFF3F:
        return XDP_PASS
    strip = 0
    if ip.proto == IPPROTO_IPIP:
        strip = 20
    elif ip.proto == IPPROTO_UDP:
        cfg = decap_config.lookup(0)
        if cfg and cfg.gue_port:
            udp = cast(UdpHdr, data + 34)
            if udp.dport == cfg.gue_port:
                strip = 28
    if strip == 0:
        return XDP_PASS
    # the Ethernet header moves forward over the outer headers, then the head follows
    dst_lo = eth.dst_lo
    dst_hi = eth.dst_hi
    src_lo = eth.src_lo
    src_hi = eth.src_hi
    if strip == 20:
        moved = cast(EthHdr, data + 20)
    else:
        moved = cast(EthHdr, data + 28)
    moved.dst_lo = dst_lo
    moved.dst_hi = dst_hi
    moved.src_lo = src_lo
    moved.src_hi = src_hi
    moved.proto = ETH_IPV4_RAW
    if xdp_adjust_head(ctx, strip):
        return XDP_PASS
    return XDP_PASS
