"""Which application protocol ``tcpdump -n`` 4.99.3 decodes a UDP datagram as. tcpdump
walks one fixed list of port tests and takes the first that passes, so when the two ports
name different protocols the one earlier in that list wins; most tests accept either port,
a few only the destination (or only the source). The list below keeps tcpdump's order,
protocols this package does not decode included: for those tcpdump's decoder wins too, and
the caller prints the plain ``UDP, length N`` rather than another protocol's decoding."""

from __future__ import annotations

from .printer_bfd import BFD_PORTS

__all__ = ["udp_protocol"]

_EITHER, _DST, _SRC = "either", "dst", "src"
_LAP_DDP = 2   # an AppleTalk LAP header's type of a DDP packet inside

# (name, which port(s) the test looks at, the ports). NetBIOS (137, 138) is missing: the
# installed tcpdump is built without SMB support, and then does not test for it at all
_CHAIN: tuple[tuple[str, str, frozenset[int]], ...] = tuple(
    (name, side, frozenset(ports)) for name, side, ports in (
        ("domain", _EITHER, (53,)),
        ("mdns", _EITHER, (5353,)),
        ("timed", _EITHER, (525,)),
        ("tftp", _EITHER, (69,)),
        ("bootp", _EITHER, (67, 68)),
        ("rip", _EITHER, (520,)),
        ("aodv", _EITHER, (654,)),
        ("isakmp", _EITHER, (500,)),
        ("udp-encap", _EITHER, (4500,)),
        ("isakmp", _EITHER, (7500, 8500)),
        ("snmp", _EITHER, (161, 162)),
        ("ntp", _EITHER, (123,)),
        ("krb", _EITHER, (88, 750)),
        ("l2tp", _EITHER, (1701,)),
        ("vat", _DST, (3456,)),
        ("zephyr", _EITHER, (2103, 2104)),
        ("rx", _EITHER, range(7000, 7010)),
        ("ripng", _EITHER, (521,)),
        ("dhcp6", _EITHER, (546, 547)),
        ("ahcp", _EITHER, (5359,)),
        ("babel", _EITHER, (6696, 6697)),
        ("hncp", _EITHER, (8231,)),
        ("wb", _DST, (4567,)),
        ("autorp", _EITHER, (496,)),
        ("radius", _EITHER, (1645, 1812, 1646, 1813, 1700, 3799)),
        ("hsrp", _DST, (1985,)),
        ("lwres", _EITHER, (921,)),
        ("ldp", _EITHER, (646,)),
        ("olsr", _EITHER, (698,)),
        ("lspping", _EITHER, (3503,)),
        ("bcm-li", _SRC, (49152,)),
        ("bfd", _DST, BFD_PORTS),
        ("lmp", _EITHER, (701,)),
        ("vqp", _EITHER, (1589,)),
        ("sflow", _EITHER, (6343,)),
        ("lwapp", _EITHER, (12222, 12223)),
        ("sip", _EITHER, (5060,)),
        ("syslog", _EITHER, (514,)),
        ("otv", _EITHER, (8472,)),
        ("vxlan", _EITHER, (4789,)),
        ("geneve", _EITHER, (6081,)),
        ("lisp", _EITHER, (4342,)),
        ("vxlan-gpe", _EITHER, (4790,)),
        ("zep", _EITHER, (17754,)),
        ("mpls", _EITHER, (6635,)),
        ("kip", _EITHER, (*range(200, 328), *range(768, 896), *range(16512, 16640))),
        ("ptp", _EITHER, (319, 320)),
        ("someip", _EITHER, (30490,)),
    ))


def udp_protocol(sport: int, dport: int, data: bytes) -> str | None:
    """The name of the protocol tcpdump decodes this datagram (its payload ``data``, as
    captured) as, or None for none (the plain line)."""
    for name, side, ports in _CHAIN:
        if side == _DST:
            hit = dport in ports
        elif side == _SRC:
            hit = sport in ports
        else:
            hit = sport in ports or dport in ports
        # AppleTalk in UDP also needs a captured LAP header that says DDP
        if hit and (name != "kip" or (len(data) > 2 and data[2] == _LAP_DDP)):
            return name
    return None
