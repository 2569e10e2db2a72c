"""The tc program of ``pybpf flowcount``, written in pybpf.lang: packets and bytes per IPv4
5-tuple in a per-CPU hash (no atomics needed; userspace sums the CPUs).

Keys hold addresses and ports as they sit in the packet (network byte order); a packet
that is not IPv4, and later fragments (no ports), count under ports 0. Bytes are
``skb->len`` (the whole frame as tc sees it). The program never changes a verdict.
"""

from pybpf.lang import TC_ACT_OK, PerCPUHash, bpf, cast, struct, u16, u32, u64
from pybpf.net.headers import ETH_IPV4_RAW, EthHdr, IPv4Hdr, Ports

MAX_FLOWS = 16384


class FlowKey(struct):
    saddr: u32
    daddr: u32
    sport: u16
    dport: u16
    proto: u32


class FlowStats(struct):
    packets: u64
    bytes: u64





flows = PerCPUHash(FlowKey, FlowStats, max_entries=MAX_FLOWS)


@bpf.tc
def net_flowcount(ctx):
    data = ctx.data
    end = ctx.data_end
    if data + 34 > end:
        return TC_ACT_OK
    eth = cast(EthHdr, data)
    if eth.proto != ETH_IPV4_RAW:
        return TC_ACT_OK
    ip = cast(IPv4Hdr, data + 14)
    key = FlowKey()
    key.saddr = ip.saddr
    key.daddr = ip.daddr
    key.proto = ip.proto
    key.sport = 0
    key.dport = 0
    l4 = data + 14 + (ip.ver_ihl & 15) * 4
    if (ip.proto == 6 or ip.proto == 17) and not ip.frag & 0xFF1F:
        if l4 + 4 <= end:
            ports = cast(Ports, l4)
            key.sport = ports.sport
            key.dport = ports.dport
    stats = flows.lookup(key)
    if stats:
        stats.packets += 1
        stats.bytes += ctx.len
    else:
        fresh = FlowStats()
        fresh.packets = 1
        fresh.bytes = ctx.len
        flows.update(key, fresh)
    return TC_ACT_OK
