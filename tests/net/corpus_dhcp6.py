"""DHCPv6 messages of every type (and an unknown one) between ports 546 and 547, relay
messages, and messages too short for their transaction id."""

from __future__ import annotations

import struct

from tests.net.corpus import LL6, ether, ipv6, udp

__all__ = ["dhcp6_frames"]


def _dhcp6(body: bytes, *, sport: int = 546, dport: int = 547) -> bytes:
    return ether(ipv6(LL6, "ff02::1:2", 17, udp(LL6, "ff02::1:2", sport, dport, body)), 0x86DD)


def dhcp6_frames() -> list[bytes]:
    client_id = struct.pack("!HH", 1, 10) + bytes(10)
    return [
        *[_dhcp6(struct.pack("!I", kind << 24 | 0xABCDEF) + client_id) for kind in range(17)],
        _dhcp6(struct.pack("!I", 7 << 24 | 1), sport=547, dport=546),
        _dhcp6(b"\x01\x02\x03"), _dhcp6(b""),
    ]
