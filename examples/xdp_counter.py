#!/usr/bin/env python3
"""xdp_counter: count the IPv4 packets an interface receives by IP protocol, and drop the
UDP datagrams sent to one port, in XDP (before the kernel's network stack sees them).

    sudo python examples/xdp_counter.py [--iface lo] [--drop-udp-port PORT]
                                        [--duration SECONDS] [--mode skb|native|auto]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Annotated

from _common import run_until

from pybpf.lang import XDP_DROP, XDP_PASS, Array, Const, bpf, cast, struct, u8, u16, u64

ETH_P_IP_BE = 0x0008        # htons(0x0800) as the little-endian u16 load sees it
IPPROTO_UDP = 17


class Head(struct):
    """Ethernet + IPv4 (no options) + the ports of UDP/TCP: 38 bytes."""
    eth_dst: Annotated[list[int], u8[6]]
    eth_src: Annotated[list[int], u8[6]]
    eth_proto: u16
    ver_ihl: u8
    tos: u8
    tot_len: u16
    ip_id: u16
    frag: u16
    ttl: u8
    protocol: u8
    check: u16
    saddr: Annotated[list[int], u16[2]]
    daddr: Annotated[list[int], u16[2]]
    sport: u16
    dport: u16


packets = Array(u64, max_entries=256)      # by IP protocol number
dropped = Array(u64, max_entries=1)
drop_port_be = Const(u16, 0)               # network byte order; 0 drops nothing


@bpf.xdp
def count_and_drop(ctx):
    data = ctx.data
    if data + 38 > ctx.data_end:
        return XDP_PASS
    head = cast(Head, data)
    if head.eth_proto != ETH_P_IP_BE:
        return XDP_PASS
    packets.increment(head.protocol)
    if head.protocol == IPPROTO_UDP and drop_port_be != 0 and head.ver_ihl == 0x45 \
            and head.dport == drop_port_be:
        dropped.increment(0)
        return XDP_DROP
    return XDP_PASS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--iface", default="lo")
    parser.add_argument("--drop-udp-port", type=int, default=0)
    parser.add_argument("-d", "--duration", type=float, default=None)
    parser.add_argument("--mode", default="skb", help="XDP mode (skb works everywhere)")
    args = parser.parse_args(argv)
    compiled = bpf.compile(count_and_drop)
    with compiled.load(constants={drop_port_be: socket.htons(args.drop_udp_port)}) as coll:
        coll.attach(target=args.iface, mode=args.mode)
        print(f"Counting packets on {args.iface}... Ctrl-C to end.", flush=True)
        run_until(lambda: time.sleep(0.1), args.duration)
        counts = {proto: coll.maps[packets][proto] for proto in range(256)}
        drops = coll.maps[dropped][0]
    names = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}
    print(f"{'PROTO':<10} {'PACKETS':>10}")
    for proto, n in sorted(counts.items()):
        if n:
            print(f"{names.get(proto, str(proto)):<10} {n:>10}")
    print(f"dropped {drops}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
