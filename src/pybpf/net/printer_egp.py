"""EGP messages (RFC 904, IP protocol 8) as ``tcpdump -n`` 4.99 prints them: AS and
sequence number, and under -v the message's type, code and status, an update's gateways
with their distances and networks.

The network numbers of an update are printed as tcpdump prints them on a little-endian
machine (the only kind it runs on here): it builds each address as a host-order integer
and prints that integer's bytes, so 10.0.0.0 comes out as ``0.0.0.10``, and it judges an
address's class by its last byte. The output is kept equal, quirk included."""

from __future__ import annotations

from .printer_words import ip4

__all__ = ["egp_text"]

_ACQUIRE_CODES = ("request", "confirm", "refuse", "cease", "cease_ack")
_ACQUIRE_STATUS = ("unspecified", "active_mode", "passive_mode", "insufficient_resources",
                   "administratively_prohibited", "going_down", "parameter_violation",
                   "protocol_violation")
_UPDOWN = ("indeterminate", "up", "down")
_REASONS = ("unspecified", "bad_EGP_header_format", "bad_EGP_data_field_format",
            "reachability_info_unavailable", "excessive_polling_rate", "no_response",
            "unsupported_version")
_CUT = " [|egp]"


class _Cut(Exception):
    pass


def _class_a(value: int) -> bool:
    return not value & 0x80000000


def _class_b(value: int) -> bool:
    return value & 0xC0000000 == 0x80000000


def _class_c(value: int) -> bool:
    return value & 0xE0000000 == 0xC0000000


def _host_order(value: int) -> str:
    """An address held in a host-order integer, printed from its (little-endian) bytes."""
    return ip4((value & 0xFFFFFFFF).to_bytes(4, "little"))


def _state(status: int) -> str:
    return f" state:{_UPDOWN[status]}" if status < len(_UPDOWN) else f" [status {status}]"


def egp_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the addresses for an EGP message of ``length`` bytes."""
    if length < 16 or len(data) < 16:
        return _CUT
    version, kind, code, status = data[0], data[1], data[2], data[3]
    asn, sequence = int.from_bytes(data[6:8], "big"), int.from_bytes(data[8:10], "big")
    if not verbose:
        return f"EGPv{version}, AS {asn}, seq {sequence}, length {length}"
    out = f"EGPv{version}, length {length}"
    if version != 2:
        return out + f"[version {version}]"
    hello, poll = int.from_bytes(data[10:12], "big"), int.from_bytes(data[12:14], "big")
    source = ip4(data[12:16])
    if kind == 3:
        out += " acquire"
        if code in (0, 1):
            out += " " + _ACQUIRE_CODES[code] + (f" {_ACQUIRE_STATUS[status]}" if status < 3
                                                 else f" [status {status}]")
            out += f" hello:{hello} poll:{poll}"
        elif code in (2, 3, 4):
            out += " " + _ACQUIRE_CODES[code] + (
                f" {_ACQUIRE_STATUS[status]}" if status in (0, 3, 4, 5, 6, 7)
                else f"[status {status}]")
        else:
            out += f"[code {code}]"
    elif kind == 5:
        out += (f" {('hello', 'i-h-u')[code]}" + _state(status) if code in (0, 1)
                else f"[reach code {code}]")
    elif kind == 2:
        out += " poll" + _state(status) + f" net:{source}"
    elif kind == 1:
        out += " update"
        if status & 0x80:
            status &= 0x7F
            out += " unsolicited"
        out += _state(status) + f" {source} int {data[10]} ext {data[11]}"
        parts: list[str] = []
        try:
            _reachability(parts, data, length)
        except _Cut:
            parts.append(_CUT)
        out += "".join(parts)
    elif kind == 8:
        out += " error" + _state(status)
        out += f" {_REASONS[hello]}" if hello < len(_REASONS) else f" [reason {hello}]"
    else:
        out += f"[type {kind}]"
    return out


def _reachability(out: list[str], data: bytes, length: int) -> None:
    """An update's gateways: each one's host part, then its distances and networks."""
    source = int.from_bytes(data[12:16], "little")
    if _class_a(source):
        net, net_len = source & 0xFF000000, 1
    elif _class_b(source):
        net, net_len = source & 0xFFFF0000, 2
    elif _class_c(source):
        net, net_len = source & 0xFFFFFF00, 3
    else:
        net, net_len = 0, 0
    at, left = 16, length - 16
    internal = data[10]

    def byte() -> int:
        nonlocal at
        if at >= len(data):
            raise _Cut
        at += 1
        return data[at - 1]

    for gateway in range(data[10] + data[11]):
        host_len = 4 - net_len
        if left < host_len or len(data) < at + host_len:
            raise _Cut
        address = 0
        if net_len:
            for _ in range(host_len):
                address = (address << 8) | byte()
        address |= net
        left -= host_len
        if left < 1:
            raise _Cut
        distances = byte()
        left -= 1
        out.append(f" {'int' if gateway < internal else 'ext'} {_host_order(address)} (")
        comma = ""
        for _ in range(distances):
            if left < 2:
                raise _Cut
            out.append(f"{comma}d{byte()}:")
            comma = ", "
            networks = byte()
            left -= 2
            for _ in range(networks):
                if left < 1:
                    raise _Cut
                network = byte() << 24
                left -= 1
                if _class_b(network):
                    if left < 1:
                        raise _Cut
                    network |= byte() << 16
                    left -= 1
                elif not _class_a(network):
                    if left < 2:
                        raise _Cut
                    network |= byte() << 16
                    network |= byte() << 8
                    left -= 2
                out.append(f" {_host_order(network)}")
        out.append(")")
