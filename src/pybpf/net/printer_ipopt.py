"""tcpdump -v's IPv4 options (``options (RR 198.18.0.1, 0.0.0.0,RA)``): record route and
source routes with their pointer, timestamps, router alert; a wrong length ends the list,
a capture that ends inside an option ends the packet (``[truncated-option]`` when the
option's length was read, the bare ``[|ip]`` when not)."""

from __future__ import annotations

from .printer_words import ip4

__all__ = ["ip_options_text", "OptionsCut"]

_NAMES = {0: "EOL", 1: "NOP", 0x44: "timestamp", 0x82: "security", 7: "RR", 0x89: "SSRR",
          0x83: "LSRR", 0x94: "RA", 0x52: "traceroute"}


class OptionsCut(Exception):  # noqa: N818 - tcpdump leaving the packet, not an error
    """The capture ends in the options: ``text`` was printed; ``checked`` tells whether
    tcpdump noticed it itself (' [truncated-option]', the line then goes on to the
    addresses) or hit the end reading a byte (the line ends there)."""

    def __init__(self, text: str, checked: bool) -> None:
        super().__init__(text)
        self.text, self.checked = text, checked


class _Jump(Exception):
    pass


class _Trunc(Exception):
    pass


def ip_options_text(raw: bytes, length: int) -> str:
    """The options of ``length`` bytes of which ``raw`` were captured."""
    out: list[str] = []
    try:
        _options(out, raw, length)
    except _Jump:
        raise OptionsCut("".join(out), False) from None
    except _Trunc:
        raise OptionsCut("".join(out) + " [truncated-option]", True) from None
    return "".join(out)


def _byte(raw: bytes, at: int) -> int:
    if at >= len(raw):
        raise _Jump
    return raw[at]


def _options(out: list[str], raw: bytes, length: int) -> None:
    at, separator = 0, ""
    while length > 0:
        out.append(separator)
        separator = ","
        code = _byte(raw, at)
        out.append(_NAMES.get(code, f"unknown {code}"))
        if code in (0, 1):
            size = 1
        else:
            size = _byte(raw, at + 1)
            if size < 2:
                out.append(f" [bad length {size}]")
                return
        if size > length:
            out.append(f" [bad length {size}]")
            return
        if at + size > len(raw):
            raise _Trunc
        if code == 0:
            return
        if code == 0x44:
            _timestamp(out, raw, at, size)
        elif code in (7, 0x83, 0x89):
            _route(out, raw, at, size)
        elif code == 0x94:
            if size < 4:
                out.append(f" [bad length {size}]")
            elif raw[at + 2:at + 4] != b"\0\0":
                out.append(f" value {int.from_bytes(raw[at + 2:at + 4], 'big')}")
        at += size
        length -= size


def _route(out: list[str], raw: bytes, at: int, size: int) -> None:
    if size < 3:
        out.append(f" [bad length {size}]")
        return
    if (size + 1) & 3:
        out.append(f" [bad length {size}]")
    pointer = raw[at + 2] - 1
    if pointer < 3 or (pointer + 1) & 3 or pointer > size + 1:
        out.append(f" [bad ptr {raw[at + 2]}]")
    # the addresses are read in fours up to the length, past it when it is not a multiple
    for offset in range(3, size, 4):
        if at + offset + 4 > len(raw):
            raise _Trunc
        out.append(" " + ip4(raw[at + offset:at + offset + 4]))
        if pointer > offset:
            out.append(",")


def _timestamp(out: list[str], raw: bytes, at: int, size: int) -> None:
    if size < 4:
        out.append(f"[bad length {size}]")
        return
    out.append(" TS{")
    flags = raw[at + 3] & 0xF
    hop = 4 if flags == 0 else 8
    if (size - 4) & (hop - 1):
        out.append(f"[bad length {size}]")
    pointer = raw[at + 2] - 1
    if pointer < 4 or (pointer - 4) & (hop - 1) or pointer > size + 1:
        out.append(f"[bad ptr {raw[at + 2]}]")
    names = {0: "TSONLY", 1: "TS+ADDR", 3: "PRESPEC"}
    offset = 0
    if flags in names:
        out.append(names[flags])
        kind = " "
        offset = 4
        while offset < size:
            if pointer == offset:
                kind = " ^ "
            if at + offset + hop > len(raw):
                raise _Trunc
            stamp = int.from_bytes(raw[at + offset + hop - 4:at + offset + hop], "big")
            address = ip4(raw[at + offset:at + offset + 4]) if hop == 8 else ""
            out.append(f"{kind}{stamp}@{address}")
            kind = " "
            offset += hop
    else:
        out.append(f"[bad ts type {flags}]")
    out.append(" ^ " if pointer == offset else "")
    hops = raw[at + 3] >> 4
    out.append(f" [{hops} hops not recorded]}} " if hops else "}")
