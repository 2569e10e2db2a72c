"""The names pcap-filter expressions may use instead of numbers, looked up as libpcap does:
services in /etc/services, IP protocols in /etc/protocols, host names through the system
resolver (an unknown name, or no resolver at all, is an OSError the parser reports)."""

from __future__ import annotations

import socket

__all__ = ["ip_protocol_number", "network_number", "resolve_host", "service_port"]


def service_port(name: str) -> tuple[int, str] | None:
    """The port of service ``name`` and the protocol it is limited to ("tcp", "udp") or
    "default" when both have it at the same port; None when unknown. Like libpcap, TCP's
    entry wins when the two differ."""
    ports = {}
    for proto in ("tcp", "udp"):
        try:
            ports[proto] = socket.getservbyname(name, proto)
        except OSError:
            continue
    if "tcp" in ports:
        return ports["tcp"], "default" if ports.get("udp") == ports["tcp"] else "tcp"
    if "udp" in ports:
        return ports["udp"], "udp"
    return None


def ip_protocol_number(name: str) -> int | None:
    """The IP protocol number named ``name`` in /etc/protocols, or None."""
    try:
        return socket.getprotobyname(name)
    except OSError:
        return None


def resolve_host(name: str) -> list[str]:
    """Every IPv4 and IPv6 address of host ``name``, in the resolver's order, once each.

    Raises OSError (socket.gaierror) with the resolver's reason when it has none.
    """
    found: list[str] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP):
        if family in (socket.AF_INET, socket.AF_INET6):
            address = str(sockaddr[0]).split("%")[0]
            if address not in found:
                found.append(address)
    return found


def network_number(name: str, path: str = "/etc/networks") -> int | None:
    """The number of network ``name`` in /etc/networks as getnetbyname gives it
    (``127.0.0.0`` -> 0x7f000000, ``10`` -> 10), or None when unknown."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and name in (words[0], *words[2:]):
            try:
                parts = [int(p, 0) for p in words[1].split(".")]
            except ValueError:
                return None
            value = 0
            for part in parts:
                value = value << 8 | (part & 0xFF)
            return value
    return None
