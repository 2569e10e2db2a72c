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


def tftp_text(data: bytes, length: int) -> str:
    """The text after the ports for a TFTP message of ``length`` bytes (``data`` is what
    was captured of them)."""
    raw = data[:length]
    out = f"TFTP, length {length}"
    if length < 2 or len(raw) < 2:
        return out + _CUT
    opcode = int.from_bytes(raw[:2], "big")
    if opcode not in _OPCODES:
        return out + f", tftp-#{opcode}"
    out += ", " + _OPCODES[opcode]
    at = 2
    if opcode in (1, 2):
        if at == length:
            return out + _CUT
        text, at = _string(raw, at)
        out += f' "{text}"'
        if at < 0:
            return out + _CUT
        if at == length:     # no mode
            return out + _CUT
        text, at = _string(raw, at)
        out += " " + text
        if at < 0:
            return out + _CUT
    if opcode in (1, 2, 6):
        while at != length:   # the options: names and values, one string each
            if at >= len(raw):
                return out + _CUT
            if raw[at]:
                out += " "
            text, at = _string(raw, at)
            out += text
            if at < 0:
                return out + _CUT
    elif opcode in (3, 4):
        if length - at < 2 or len(raw) < at + 2:
            return out + _CUT
        out += f" block {int.from_bytes(raw[at:at + 2], 'big')}"
    elif opcode == 5:
        if length - at < 2 or len(raw) < at + 2:
            return out + _CUT
        code = int.from_bytes(raw[at:at + 2], "big")
        out += " " + (_ERRORS[code] if code < len(_ERRORS) else f'tftp-err-#{code} "')
        at += 2
        if at == length:
            return out + _CUT
        text, at = _string(raw, at)
        out += f' "{text}"'
        if at < 0:
            return out + _CUT
    return out


def _string(raw: bytes, at: int) -> tuple[str, int]:
    """A NUL-ended string from ``at``: its text and where the next field starts (-1 when
    the message or the capture ends before the NUL)."""
    end = raw.find(b"\0", at)
    if end < 0:
        return safe_text(raw[at:]), -1
    return safe_text(raw[at:end]), end + 1
