"""The pcap-filter expressions the equivalence tests compile with us and with libpcap."""

from __future__ import annotations

import random

ATOMS = [
    # protocols
    "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp", "icmp6", "igmp",
    # hosts and nets
    "host 198.18.0.1", "host 198.18.0.2", "src host 198.18.0.1", "dst host 198.18.0.2",
    "ip host 198.19.255.7", "arp host 198.18.0.2", "rarp host 198.19.255.7",
    "ip src host 10.1.2.3", "arp src host 198.18.0.1", "arp dst host 198.18.0.2",
    "src and dst host 198.18.0.1", "src or dst host 198.18.0.2", "dst or src host 10.1.2.3",
    "net 198.18.0.0/15", "src net 198.18.0.0/16", "dst net 198.19.0.0/16",
    "net 198.18", "net 10", "net 10.1.2", "ip net 198.18.0.0 mask 255.254.0.0",
    "ip dst net 224.0.0.0/4", "net 192.0.2.0/24", "arp net 198.18.0.0/15",
    "host 2001:db8::1", "ip6 host 2001:db8::2", "ip6 src host 2001:db8:1::5",
    "dst host fe80::1", "ip6 net 2001:db8::/32", "ip6 dst net 2001:db8:1::/48",
    "ip6 src net 2001:db8::/64", "ip6 net ff00::/8", "src and dst host 2001:db8::1",
    # ethernet
    "ether host 02:00:00:00:00:01", "ether src 02:00:00:00:00:01",
    "ether dst 02:00:00:00:00:02", "ether dst ff:ff:ff:ff:ff:ff", "ether broadcast",
    "ether multicast", "broadcast", "multicast", "ether proto 0x88cc", "ether proto 0x0800",
    "ether proto 100", "ether proto 6", "ether host 02-00-00-00-00-02",
    "ether src and dst 02:00:00:00:00:01", "link proto 0x806",
    "ip multicast", "ip6 multicast", "ip broadcast", "host 198.18", "host 3323068417",
    "net 3323068416", "net 256", "dst host 198.19.255",
    # ports
    "port 80", "port 22", "port 53", "src port 80", "dst port 80", "tcp port 80",
    "udp port 53", "sctp port 80", "tcp src port 1025", "tcp dst port 22", "udp dst port 80",
    "src and dst port 443", "tcp src or dst port 1500", "portrange 1-1024",
    "tcp portrange 1000-2000", "udp dst portrange 50-60", "src portrange 2000-1000",
    "portrange 80", "port 0x50", "port 0120", "sctp dst port 443",
    # proto
    "proto 6", "proto 17", "ip proto 1", "ip proto 47", "ip6 proto 58", "ip6 proto 17",
    "proto 44", "ip6 proto 44", "proto 2",
    # vlan
    "vlan", "vlan 5", "vlan 7", "vlan 100", "vlan 4095",
    # lengths
    "len > 60", "len <= 64", "greater 100", "less 70", "len = 54", "len - 14 >= 40",
    # byte offsets
    "tcp[13] & 2 != 0", "tcp[tcpflags] & tcp-syn != 0", "tcp[13] = 0x12",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[0:2] = 80", "tcp[2:2] > 1000",
    "udp[2:2] = 53", "udp[8:4] = 0x00010203", "icmp[0] = 8", "icmp[icmptype] = icmp-echo",
    "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply", "icmp[1] = 1",
    "icmp6[0] = 128", "icmp6[icmp6type] = icmp6-neighborsolicit", "ip[2:2] > 40",
    "ip[0] & 0xf > 5", "ip[0] & 0xf != 5", "ip[6:2] & 0x1fff = 0", "ip[6] & 0x20 != 0",
    "ip[9] = 6", "ip[16] >= 224", "ip[8] = 64", "ip6[6] = 6", "ip6[7] = 64",
    "ip6[40] = 0x2c", "arp[6:2] = 1", "arp[7] = 2", "rarp[7] = 3", "ether[0] & 1 = 1",
    "ether[0] & 1 != 0", "ether[12:2] = 0x800", "ether[6:4] = 0x02000000", "link[0] = 2",
    "ether[len - 1] = 0", "ether[len - 2 : 2] = 0x0203", "ip[ip[0] & 0xf] = 4",
    "tcp[(tcp[12] >> 4) * 4] = 0x64", "tcp[tcp[12] / 16 * 4 : 1] = 0x64",
    "ip[0] + ip[1] * 3 - 1 = len", "ip[2:2] - ((ip[0] & 0xf) << 2) > 20",
    "ip[2:2] % 7 = 3", "ip[2:2] / ip[8] > 0", "ip[2:2] / ip[1] = 0", "ip[0] ^ 0x45 = 0",
    "ip[0] ^ ip[1] + ip[2] = 0x45", "ip[0] | ip[1] & ip[2] << 1 = 0x45",
    "ip[2:2] >> 2 = 12", "tcp[13] << 1 = 4", "- ip[0] = 0xffffffbb", "ip[0] - 1 < 0x44",
    "2 + 2 = 4", "len & 1 = 0", "ip[1:2] = ip[1:2]", "ip[2:4] != 0", "udp[8:2] = udp[10:2]",
    "tcp[13] & ip[0] = 0", "ip[ip[0] - 0x40] = 6", "ip6[6] = 58 and icmp6[0] = 128",
    "ether[ether[0]] = 0", "ip[100] = 0", "tcp[100:4] = 0", "ether[1000] = 0",
    "ip[0] << ip[1] = 0", "ip[0] >> ip[10] = 1",
]

COMPOUNDS = [
    "tcp port 80 and host 198.18.0.2", "host 198.18.0.1 or 198.18.0.2", "port 80 or 443",
    "tcp dst port 80 or 22 or 1500", "host 198.18.0.1 and not 198.18.0.2",
    "host 198.18.0.1 and (198.18.0.2 or 10.1.2.3)", "not tcp", "! udp", "not (tcp or udp)",
    "tcp and not port 22", "ip and (tcp or udp) and not port 53", "tcp && port 80 || icmp",
    "tcp or udp and port 80", "not tcp and udp", "not not tcp", "vlan and ip",
    "vlan and tcp port 80", "vlan 5 and ip host 198.18.0.1", "vlan 100 and vlan 5 and tcp",
    "vlan and vlan and tcp port 22", "ip or vlan and ip", "tcp or (vlan and tcp)",
    "(vlan 5 or vlan 7) and ip", "vlan and arp", "vlan 5 and ip6 and tcp",
    "vlan and icmp and icmp[0] = 8", "not vlan and ip", "vlan and (udp or tcp) and port 53",
    "vlan and ether proto 0x800", "vlan and ether host 02:00:00:00:00:01",
    "vlan and len > 60", "vlan 5 and tcp[13] & 2 != 0",
    "ip[100] = 0 or tcp", "tcp or ip[100] = 0", "ether[60] = 0 or arp",
    "tcp[30:4] = 0 or udp", "ip6 host 2001:db8::1 or tcp",
    "ether src 02:00:00:00:00:01 or udp", "ip[2:2] / (ip[9] - 6) = 0 or udp",
    "ip[0] / ip[12] = 0 or tcp", "udp and udp[8:4] = 0x00010203 or icmp",
    "arp and arp[6:2] = 1 or rarp", "src net 198.18.0.0/15 and dst net 198.18.0.0/15",
    "ip6 and not ip6 net 2001:db8::/32", "(tcp[13] & 2 != 0) and (tcp[13] & 16 != 0)",
    "greater 60 and less 100", "ip and len > 100 or ip6 and len > 80",
    "port 80 and (src host 198.18.0.1 or dst host 198.18.0.1)",
    "not ip and not ip6 and not arp", "icmp or icmp6 or arp", "tcp and ip6 proto 6",
    "udp port 53 or tcp port 53 or sctp port 80", "(ip[8] = 64)", "((tcp))",
    "(ip[0] + 1) * 2 = 0x8c", "(port 80) and (tcp)", "ether[0] & 1 = 0 and not broadcast",
    "tcp src port 80 and tcp[13] = 0x12", "proto 6 or proto 17 or proto 58",
    "ip6 multicast or ip multicast", "net 198.18.0.0/15 and port 80 or ip6",
]


def random_expressions(count: int, seed: int = 8) -> list[str]:
    """``count`` compound expressions of two to four atoms, deterministic per ``seed``."""
    rng = random.Random(seed)
    simple = [a for a in ATOMS if "vlan" not in a]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(2, 4)):
            atom = rng.choice(simple if rng.random() < 0.9 else ATOMS)
            if rng.random() < 0.2:
                atom = f"not {atom}" if rng.random() < 0.5 else f"({atom})"
            parts.append(atom)
        text = parts[0]
        for part in parts[1:]:
            text += f" {rng.choice(['and', 'or', '&&', '||'])} {part}"
        if rng.random() < 0.2:
            text = f"not ({text})"
        out.append(text)
    return out


EXPRESSIONS = ATOMS + COMPOUNDS + random_expressions(120)

BAD_EXPRESSIONS = [
    "tcp[", "host", "ip[2:2] / ip[0] > 0", "ip[0] << ip[40] = 1", "port 70000", "ip[0] / 0 = 1",
    "ip[0] << 40 = 1", "vlan 5000",
    "net 198.18.0.1/15", "ether host 1.2.3.4", "tcp port 80 and", "(tcp", "tcp)", "ip[0:3] = 1",
    "ip6 host 198.18.0.1", "ip host 2001:db8::1", "tcp host 198.18.0.1",
    "port 1-2", "ip port 80", "80", "and", "not", "tcp tcp", "ip[0] =", "len", "= 1",
    "portrange 1-70000", "ip6 net 2001:db8::1/32", "net 10.0.0.0/33",
    "ip proto", "1 + = 2",
]
