"""DHCPv6 (RFC 8415, UDP ports 546 and 547) as ``tcpdump -n`` 4.99 prints it without -v:
the message type. (-v's transaction id and options are not decoded yet: the line stops
after the type.)"""

from __future__ import annotations

__all__ = ["dhcp6_text"]

_TYPES = {1: "solicit", 2: "advertise", 3: "request", 4: "confirm", 5: "renew", 6: "rebind",
          7: "reply", 8: "release", 9: "decline", 10: "reconfigure", 11: "inf-req",
          12: "relay-fwd", 13: "relay-reply", 14: "leasequery", 15: "leasequery-reply"}


def dhcp6_text(data: bytes) -> str:
    """``dhcp6 <type>``; tcpdump wants the transaction id captured before it names it."""
    if len(data) < 4:
        return "dhcp6 [|dhcp6]"
    return f"dhcp6 {_TYPES.get(data[0], f'msgtype-{data[0]}')}"
