"""Cisco's EIGRP (RFC 7868) as ``tcpdump -n`` 4.99 prints it: the opcode and length, and
with -v the header's fields and each TLV (parameters, software version, IPv4 and
AppleTalk internal and external routes, AppleTalk's cable setup; the others as a dump,
which -vv adds after every TLV).

tcpdump checks the header and each TLV against the captured bytes before reading them:
a cut ends the line with `` [|eigrp]``."""

from __future__ import annotations

from .printer_words import LongJump, Words, ip4, unknown_data_lines

__all__ = ["eigrp_text"]

_OPCODES = {1: "Update", 3: "Query", 4: "Reply", 5: "Hello", 6: "IPX SAP", 7: "Probe"}
_FLAGS = ((0x01, "Init"), (0x02, "Conditionally Received"), (0x04, "Restart"),
          (0x08, "End-of-Table"))
_TLVS = {0x0001: "General Parameters", 0x0002: "Authentication", 0x0003: "Sequence",
         0x0004: "Software Version", 0x0005: "Next Multicast Sequence",
         0x0102: "IP Internal routes", 0x0103: "IP External routes",
         0x0202: "AppleTalk Internal routes", 0x0203: "AppleTalk External routes",
         0x0204: "AppleTalk Cable setup", 0x0302: "IPX Internal routes",
         0x0303: "IPX External routes"}
# each decoded TLV's fixed size (after its type and length)
_SIZES = {0x0001: 8, 0x0004: 4, 0x0102: 22, 0x0103: 42, 0x0202: 24, 0x0203: 40,
          0x0204: 8}
_ORIGINS = {1: "IGRP", 2: "EIGRP", 3: "Static", 4: "RIP", 5: "Hello", 6: "OSPF",
            7: "IS-IS", 8: "EGP", 9: "BGP", 10: "IDRP", 11: "Connected"}
_HEADER = 20
_CUT = " [|eigrp]"


def eigrp_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the addresses for an EIGRP packet of ``length`` bytes."""
    out = Words(data, "eigrp")
    if len(data) < _HEADER:
        return _CUT
    version, opcode = data[0], data[1]
    if version != 2:
        return f"EIGRP version {version} packet not supported"
    name = _OPCODES.get(opcode, f"unknown ({opcode})")
    if not verbose:
        return f"EIGRP {name}, length: {length}"
    if length < _HEADER:
        return f"EIGRP {name}, length: {length} (too short, < {_HEADER})"
    left = length - _HEADER
    flags = out.get(4, 4)
    out.add(f"\n\tEIGRP v{version}, opcode: {_OPCODES.get(opcode, f'unknown, type: {opcode}')} "
            f"({opcode}), chksum: 0x{out.get(2, 2):04x}, Flags: ["
            + (", ".join(w for bit, w in _FLAGS if flags & bit) or "none")
            + f"]\n\tseq: 0x{out.get(8, 4):08x}, ack: 0x{out.get(12, 4):08x}, "
            f"VRID: {out.get(16, 2)}, AS: {out.get(18, 2)}, length: {left}")
    try:
        _tlvs(out, _HEADER, left, verbose)
    except LongJump as jump:
        return jump.text + _CUT
    return out.text()


def _tlvs(out: Words, at: int, left: int, verbose: int) -> None:
    data = out.data
    while left > 0:
        if at + 4 > len(data):
            raise LongJump(out.text(), out.proto)
        kind, size = out.get(at, 2), out.get(at + 2, 2)
        if size < 4 or size > left:
            out.add(unknown_data_lines(data[at + 4:at + 4 + left], "\n\t    "))
            return
        out.add(f"\n\t  {_TLVS.get(kind, 'Unknown')} TLV (0x{kind:04x}), length: {size}")
        if at + size > len(data):
            raise LongJump(out.text(), out.proto)
        body = at + 4
        if kind in _SIZES and size - 4 < _SIZES[kind]:
            out.add(f" (too short, < {4 + _SIZES[kind]})")
        elif kind in _SIZES:
            _tlv(out, kind, body)
        elif verbose <= 1:
            out.add(unknown_data_lines(data[body:at + size], "\n\t    "))
        if verbose > 1:
            out.add(unknown_data_lines(data[body:at + size], "\n\t    "))
        at, left = at + size, left - size


def _tlv(out: Words, kind: int, at: int) -> None:
    get = out.get
    if kind == 0x0001:
        out.add(f"\n\t    holdtime: {get(at + 6, 2)}s, k1 {get(at)}, k2 {get(at + 1)}, "
                f"k3 {get(at + 2)}, k4 {get(at + 3)}, k5 {get(at + 4)}")
    elif kind == 0x0004:
        out.add(f"\n\t    IOS version: {get(at)}.{get(at + 1)}, EIGRP version "
                f"{get(at + 2)}.{get(at + 3)}")
    elif kind in (0x0102, 0x0103):
        external = kind == 0x0103
        metrics = at + (24 if external else 4)
        plen = get(metrics + 16)
        if plen > 32:
            out.add(f"\n\t    illegal prefix length {plen}")
            return
        size = (plen + 7) // 8
        get(metrics + 17, size)
        prefix = out.data[metrics + 17:metrics + 17 + size].ljust(4, b"\0")
        out.add(f"\n\t    IPv4 prefix: {ip4(prefix):>15}/{plen}, nexthop: "
                + (ip4(out.data[at:at + 4]) if get(at, 4) else "self"))
        if external:
            _origin(out, ip4(out.data[at + 4:at + 8]), at, at + 22, get(at + 16, 4))
        _metrics(out, metrics)
    elif kind in (0x0202, 0x0203):
        external = kind == 0x0203
        metrics = at + (20 if external else 4)
        cable = metrics + 16
        out.add(f"\n\t     Cable-Range: {get(cable, 2)}-{get(cable + 2, 2)}, nexthop: "
                + (f"{get(at, 2)}.{get(at + 2, 2)}" if get(at, 4) else "self"))
        if external:
            _origin(out, str(get(at + 4, 4)), at, at + 16, get(at + 18, 2))
        _metrics(out, metrics)
    else:
        out.add(f"\n\t    Cable-range: {get(at, 2)}-{get(at + 2, 2)}, Router-ID "
                f"{get(at + 4, 4)}")


def _origin(out: Words, router: str, at: int, protocol: int, metric: int) -> None:
    """An external route's origin (IPv4's and AppleTalk's differ in where the protocol
    and flags bytes are, and in the router's and metric's forms)."""
    origin = out.get(protocol)
    out.add(f"\n\t      origin-router {router}, origin-as {out.get(at + 8, 4)}, origin-proto "
            f"{_ORIGINS.get(origin, 'unknown')}, flags [0x{out.get(protocol + 1):02x}], tag "
            f"0x{out.get(at + 12, 4):08x}, metric {metric}")


def _metrics(out: Words, at: int) -> None:
    get = out.get
    out.add(f"\n\t      delay {get(at, 4) // 100} ms, bandwidth {get(at + 4, 4)} Kbps, "
            f"mtu {get(at + 8, 3)}, hop {get(at + 11)}, reliability {get(at + 12)}, "
            f"load {get(at + 13)}")
