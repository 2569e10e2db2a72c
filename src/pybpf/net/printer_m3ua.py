"""M3UA messages (RFC 4666: SS7's MTP3 user adaptation over SCTP, payload protocol 3) as
``tcpdump -n -vv`` 4.99 prints them inside SCTP's DATA chunks: the message class and type,
then each parameter's name and length (a few with their value).

tcpdump reads a routing context, network appearance or correlation id from the start of
the parameter (its tag and length), not from its value; the output keeps that."""

from __future__ import annotations

from .printer_words import LongJump

__all__ = ["m3ua_text"]

_CLASSES = {0: "Management", 1: "Transfer", 2: "SS7", 3: "ASP", 4: "ASP",
            9: "Routing Key Management"}
_MESSAGES = {
    0: {0: "Error", 1: "Notify"},
    1: {1: "Data"},
    2: {1: "Destination Unavailable", 2: "Destination Available",
        3: "Destination State Audit", 4: "Signalling Congestion",
        5: "Destination User Part Unavailable", 6: "Destination Restricted"},
    3: {1: "Up", 2: "Down", 3: "Heartbeat", 4: "Up Acknowledgement",
        5: "Down Acknowledgement", 6: "Heartbeat Acknowledgement"},
    4: {1: "Active", 2: "Inactive", 3: "Active Acknowledgement",
        4: "Inactive Acknowledgement"},
    9: {1: "Registration Request", 2: "Registration Response", 3: "Deregistration Request",
        4: "Deregistration Response"},
}
_PARAMETERS = {0x0004: "INFO String", 0x0006: "Routing Context", 0x0007: "Diagnostic Info",
               0x0009: "Heartbeat Data", 0x000B: "Traffic Mode Type", 0x000C: "Error Code",
               0x000D: "Status", 0x0011: "ASP Identifier", 0x0012: "Affected Point Code",
               0x0013: "Correlation ID", 0x0200: "Network Appearance", 0x0204: "User/Cause",
               0x0205: "Congestion Indications", 0x0206: "Concerned Destination",
               0x0207: "Routing Key", 0x0208: "Registration Result",
               0x0209: "Deregistration Result", 0x020A: "Local Routing Key Identifier",
               0x020B: "Destination Point Code", 0x020C: "Service Indicators",
               0x020E: "Originating Point Code List", 0x0210: "Protocol Data",
               0x0212: "Registration Status", 0x0213: "Deregistration Status"}
_WORD_VALUED = (0x0200, 0x0006, 0x0013)


def m3ua_text(data: bytes, size: int) -> str:
    """A message of ``size`` bytes; ``data`` runs from its start to the capture's end.
    A parameter beyond the capture raises LongJump (tcpdump leaves the packet)."""
    if size < 8:
        return " (invalid)"
    if data[0] != 1:
        return ""
    kind_class, kind = data[2], data[3]
    out = ["\n\t\t" + _CLASSES.get(kind_class, f"Unknown message class {kind_class}")]
    if kind_class in _MESSAGES:
        out.append(f" {_MESSAGES[kind_class].get(kind, f'Unknown (0x{kind:02x})')} Message")
    declared = int.from_bytes(data[4:8], "big")
    if declared != size:
        out.append(f"\n\t\t\t@@@@@@ Corrupted length {declared} of message @@@@@@")
        return "".join(out)
    _parameters(out, data, 8, size - 8)
    return "".join(out)


def _parameters(out: list[str], data: bytes, start: int, size: int) -> None:
    at, end = start, start + size
    while at < end:
        if at + 4 > end:
            out.append(" (invalid)")
            return
        tag, length = int.from_bytes(data[at:at + 2], "big"), int.from_bytes(
            data[at + 2:at + 4], "big")
        out.append("\n\t\t\t" + _PARAMETERS.get(tag, f"Unknown Parameter (0x{tag:04x})") + ": ")
        if length < 4:
            out.append(" (invalid)")
            return
        align = -(at + length - start) % 4
        if at + length + align > len(data):
            raise LongJump("".join(out), "m3ua")
        if tag in _WORD_VALUED:
            out.append(f"0x{data[at:at + 4].hex()}" if length >= 8 else " (invalid)")
        else:
            out.append(f"(length {length})")
        at += length + align
