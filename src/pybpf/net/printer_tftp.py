"""TFTP messages (RFC 1350, options RFC 2347) as ``tcpdump -n`` 4.99 prints them: the
opcode, then a request's file name, mode and options, a block number, or an error's code
and text. A string must end with its NUL inside the message, else the line ends with
`` [|tftp]`` after what was printed of it."""

from __future__ import annotations

from .printer_words import safe_text

__all__ = ["tftp_text"]

_OPCODES = {1: "RRQ", 2: "WRQ", 3: "DATA", 4: "ACK", 5: "ERROR", 6: "OACK"}
_ERRORS = ("EUNDEF", "ENOTFOUND", "EACCESS", "ENOSPACE", "EBADOP", "EBADID", "EEXISTS",
           "ENOUSER")
_CUT = " [|tftp]"


class _Cut(Exception):
    """The message or the capture ends before a field: `` [|tftp]`` after the text."""


def tftp_text(data: bytes, length: int) -> str:
    """The text after the ports for a TFTP message of ``length`` bytes (``data`` is what
    was captured of them)."""
    out = [f"TFTP, length {length}"]
    try:
        _fields(out, data[:length], length)
    except _Cut:
        out.append(_CUT)
    return "".join(out)


def _fields(out: list[str], raw: bytes, length: int) -> None:
    if length < 2 or len(raw) < 2:
        raise _Cut
    opcode = int.from_bytes(raw[:2], "big")
    if opcode not in _OPCODES:
        out.append(f", tftp-#{opcode}")
        return
    out.append(", " + _OPCODES[opcode])
    at = 2
    if opcode in (1, 2):   # the file name, then the mode
        at = _string(out, raw, at, length, ' "{}"')
        at = _string(out, raw, at, length, " {}")
    if opcode in (1, 2, 6):
        while at != length:   # the options: names and values, one string each
            if at >= len(raw):
                raise _Cut
            at = _string(out, raw, at, length, " {}" if raw[at] else "{}")
    elif opcode in (3, 4):
        out.append(f" block {_number(raw, at, length)}")
    elif opcode == 5:
        code = _number(raw, at, length)
        out.append(" " + (_ERRORS[code] if code < len(_ERRORS) else f'tftp-err-#{code} "'))
        _string(out, raw, at + 2, length, ' "{}"')


def _number(raw: bytes, at: int, length: int) -> int:
    if length - at < 2 or len(raw) < at + 2:
        raise _Cut
    return int.from_bytes(raw[at:at + 2], "big")


def _string(out: list[str], raw: bytes, at: int, length: int, shape: str) -> int:
    """Prints the NUL-ended string at ``at`` in ``shape``; where the next field starts
    (_Cut after printing it when the message or the capture ends before the NUL)."""
    if at == length:
        raise _Cut
    end = raw.find(b"\0", at)
    out.append(shape.format(safe_text(raw[at:end] if end >= 0 else raw[at:])))
    if end < 0:
        raise _Cut
    return end + 1
