"""What the tcp* tools share: TCP state names, address formatting, port lists, the -4/-6
options, and the in-kernel copy of the addresses the ``sock:inet_sock_set_state``
tracepoint carries.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["AF_INET", "AF_INET6", "IPPROTO_TCP", "TCP_STATES", "format_address",
           "ip_version", "port_list", "add_family_args", "wanted_family",
           "copy_set_state_addresses"]

AF_INET, AF_INET6 = 2, 10
IPPROTO_TCP = 6
# enum of include/net/tcp_states.h (the tracepoint's own print format names them so)
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
              5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK",
              10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV"}
TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1 = 1, 2, 3, 4
TCP_CLOSE, TCP_LAST_ACK = 7, 9


def format_address(family: int, raw: Any) -> str:
    """The address text of a 4- or 16-byte address (as bytes or a list of ints)."""
    data = bytes(raw)
    if family == AF_INET:   # as inet_ntop writes it, without importing socket (~1 ms)
        return "%d.%d.%d.%d" % tuple(data[:4])
    import ipaddress  # noqa: PLC0415 - IPv6 only: ~1 ms of a tcp tool's start

    return str(ipaddress.IPv6Address(data[:16]))


def ip_version(family: int) -> int:
    """BCC's IP column: 4 for AF_INET, else 6."""
    return 4 if family == AF_INET else 6


def port_list(text: str) -> list[int]:
    """``"80,443"`` -> [80, 443]; raises argparse.ArgumentTypeError for bad ports."""
    try:
        ports = [int(p) for p in text.split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port list {text!r}: expected 80,443") from None
    if not ports or any(not 0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError(f"bad port list {text!r}: ports are 1..65535")
    return ports


def add_family_args(parser: argparse.ArgumentParser) -> None:
    """BCC's ``-4``/``-6`` (one of them); :func:`wanted_family` reads them back."""
    family = parser.add_mutually_exclusive_group()
    family.add_argument("-4", "--ipv4", action="store_true", help="trace IPv4 family only")
    family.add_argument("-6", "--ipv6", action="store_true", help="trace IPv6 family only")


def wanted_family(opts: argparse.Namespace) -> int:
    """The address family the options ask for: AF_INET, AF_INET6, or 0 for both."""
    return AF_INET if opts.ipv4 else AF_INET6 if opts.ipv6 else 0


def copy_set_state_addresses(ev, ctx):  # noqa: ANN001, ANN201 - inlined into BPF programs
    """Copy the tracepoint's source and destination addresses into ``ev.saddr``/
    ``ev.daddr`` (``u8[16]`` each): the four IPv4 bytes, or the IPv6 address."""
    if ctx.family == AF_INET:
        ev.saddr[0] = ctx.saddr[0]
        ev.saddr[1] = ctx.saddr[1]
        ev.saddr[2] = ctx.saddr[2]
        ev.saddr[3] = ctx.saddr[3]
        ev.daddr[0] = ctx.daddr[0]
        ev.daddr[1] = ctx.daddr[1]
        ev.daddr[2] = ctx.daddr[2]
        ev.daddr[3] = ctx.daddr[3]
    else:
        ev.saddr = ctx.saddr_v6
        ev.daddr = ctx.daddr_v6
    return 0
