"""NTP control messages (mode 6, RFC 9327) as ``tcpdump -n -v`` 4.99 prints them: the
response, error and more bits, the opcode, and the header's counters. tcpdump does not
interpret the data (it says so), but checks that the count fits the message."""

from __future__ import annotations

from .printer_words import take, u16

__all__ = ["ntp_control_fields"]

_HEADER = 12


def ntp_control_fields(out: list[str], data: bytes, length: int) -> None:
    """Appends the fields after the leap indicator; a field beyond the capture raises
    CutShort (the caller ends the line with ``[|ntp]``)."""
    if length < _HEADER:
        out.append(" (invalid)")
        take(data, 0, length)
        return
    control = take(data, 1, 1)[0]
    out.append(", " + ("Response" if control & 0x80 else "Request")
               + (", Error" if control & 0x40 else ", OK")
               + (", More" if control & 0x20 else ", Last")
               + f", OpCode={control & 0x1F}\n")
    # read one by one: a capture ending inside the header keeps the fields before it
    sequence = u16(data, 2)
    out.append(f"\tSequence={sequence}")
    status = u16(data, 4)
    out.append(f", Status={f'0x{status:x}' if status else '0'}")   # C's %#hx
    out.append(f", Assoc.={u16(data, 6)}")
    out.append(f", Offset={u16(data, 8)}")
    count = u16(data, 10)
    out.append(f", Count={count}")
    if _HEADER + count > length:
        out.append(" (invalid)")
        take(data, 0, length)
        return
    if count:
        take(data, _HEADER, count)
        out.append("\n\tTO-BE-DONE: data not interpreted")
