"""The XDP program of ``pybpf xdp-filter``, written in pybpf.lang (compiled on import of
:mod:`pybpf.net.xdp_filter`; this module only declares it).

Rules live in maps, so they change without a reload:

* ``rules``: an array of two sets of ``MAX_RULES`` :class:`Rule` slots; ``config[0]`` names
  the active set and ``config[1]`` how many of its rules are in use. Userspace writes the
  other set, then flips ``config[0]``: a packet sees either the old rules or the new ones
  (the count is written with the flip; see :mod:`pybpf.net.xdp_filter`).
* ``counters``: per-CPU ``Counter`` per rule slot, plus slot ``MAX_RULES`` for packets no
  rule matched (they pass).

Packet values are compared as the bytes sit in the packet: userspace stores addresses and
ports in network byte order, so no swap happens here. IPv4 and IPv6 (no extension headers)
are parsed; address rules are IPv4 only and never match an IPv6 packet. Frames that are
neither, or too short, pass uncounted. Bytes are counted from the IP length fields plus the
Ethernet header (the verifier forbids ``data_end - data``, and Ethernet padding is not
traffic).
"""

from pybpf.lang import XDP_PASS, Array, PerCPUArray, bpf, cast, struct, u16, u32, u64
from pybpf.net.headers import (
    ETH_IPV4_RAW,
    ETH_IPV6_RAW,
    IPPROTO_TCP,
    IPPROTO_UDP,
    EthHdr,
    IPv4Hdr,
    IPv6Hdr,
    Ports,
)

MAX_RULES = 64
NO_MATCH_SLOT = MAX_RULES

# Rule.fields bits: which fields a rule tests (the others are wildcards)
MATCH_PROTO = 1
MATCH_SRC = 2
MATCH_DST = 4
MATCH_SPORT = 8
MATCH_DPORT = 16
MATCH_PORT = 32     # either port
MATCH_IPV4 = 64     # address rules: only IPv4 packets


class Rule(struct):
    fields: u32
    action: u32
    saddr: u32
    smask: u32
    daddr: u32
    dmask: u32
    sport: u16
    dport: u16
    proto: u32


class Counter(struct):
    packets: u64
    bytes: u64






rules = Array(Rule, max_entries=2 * MAX_RULES)
config = Array(u32, max_entries=2)
counters = PerCPUArray(Counter, max_entries=MAX_RULES + 1)


def swap16(x):
    return ((x & 0xFF) << 8) | (x >> 8)


def count(slot, length):
    c = counters.lookup(slot)
    if c:
        c.packets += 1
        c.bytes += length


@bpf.xdp
def net_xdp_filter(ctx):
    data = ctx.data
    end = ctx.data_end
    if data + 14 > end:
        return XDP_PASS
    eth = cast(EthHdr, data)
    proto: u32 = 0
    saddr: u32 = 0
    daddr: u32 = 0
    l4 = data
    is_v4: u32 = 0
    length: u32 = 0
    if eth.proto == ETH_IPV4_RAW:
        if data + 34 > end:
            return XDP_PASS
        ip = cast(IPv4Hdr, data + 14)
        proto = ip.proto
        saddr = ip.saddr
        daddr = ip.daddr
        is_v4 = 1
        length = 14 + swap16(ip.total_len)
        ihl = (ip.ver_ihl & 15) * 4
        l4 = data + 14 + ihl
        if ip.frag & 0xFF1F:  # a later fragment (offset bits, network order): no ports
            proto = 0
    elif eth.proto == ETH_IPV6_RAW:
        if data + 54 > end:
            return XDP_PASS
        ip6 = cast(IPv6Hdr, data + 14)
        proto = ip6.next_header
        length = 54 + swap16(ip6.payload_len)
        l4 = data + 54
    else:
        return XDP_PASS
    sport: u32 = 0
    dport: u32 = 0
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        if l4 + 4 <= end:
            ports = cast(Ports, l4)
            sport = ports.sport
            dport = ports.dport
    active = config.lookup(0)
    used = config.lookup(1)
    if not active or not used:
        return XDP_PASS
    base = (active[0] & 1) * MAX_RULES
    n = used[0]
    for i in range(MAX_RULES):
        if i >= n:
            break
        r = rules.lookup(base + i)
        if not r:
            break
        f = r.fields
        if f & MATCH_IPV4 and not is_v4:
            continue
        if f & MATCH_PROTO and r.proto != proto:
            continue
        if f & MATCH_SRC and (saddr & r.smask) != r.saddr:
            continue
        if f & MATCH_DST and (daddr & r.dmask) != r.daddr:
            continue
        if f & MATCH_SPORT and r.sport != sport:
            continue
        if f & MATCH_DPORT and r.dport != dport:
            continue
        if f & MATCH_PORT and r.sport != sport and r.sport != dport:
            continue
        count(i, length)
        return r.action
    count(NO_MATCH_SLOT, length)
    return XDP_PASS
