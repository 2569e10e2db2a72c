"""TCP options as tcpdump 4.99.3 prints them (print-tcp.c and print-mptcp.c): names,
values, SACK edges relative to the connection's first sequence number, TCP Fast Open and
MPTCP, and where tcpdump's option loop stops at a cut or a malformed option (``[|tcp]``,
``[bad opt]``, ``[|mptcp]``)."""

from __future__ import annotations

import struct

__all__ = ["tcp_options_text"]

_TCP_OPTION_NAMES = {0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack",
                     6: "echo", 7: "echoreply", 8: "TS", 11: "cc", 12: "ccnew", 13: "",
                     19: "md5", 20: "scps", 28: "uto", 29: "tcp-ao", 30: "mptcp", 34: "tfo",
                     254: "exp"}
_TCP_OPTION_SIZES = {2: 2, 3: 1, 6: 4, 7: 4, 11: 4, 12: 4, 13: 4, 8: 8, 19: 16, 20: 2, 28: 2}


class _OptionsEnd(Exception):
    """tcpdump stops printing the segment inside its options: ``text`` ends the line."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _OptionCursor:
    """Where tcpdump's option loop is: ``need`` is its LENCHECK (read the value's first
    bytes, or end the line as a cut or a malformed option)."""

    def __init__(self, raw: bytes, size: int) -> None:
        self.raw, self.at, self.left = raw, 0, size
        self.separator = ""
        self.protocol = "tcp"   # after an MPTCP option tcpdump names cuts "mptcp"

    def byte(self) -> int:
        if self.at >= len(self.raw):
            raise _OptionsEnd(f" [|{self.protocol}]")
        self.at += 1
        return self.raw[self.at - 1]

    def bad(self, prefix: str = "") -> _OptionsEnd:
        return _OptionsEnd(prefix + "[bad opt]" + ("]" if self.separator else ""))

    def need(self, count: int, prefix: str = "") -> bytes:
        if count > self.left:
            raise self.bad(prefix)
        if self.at + count > len(self.raw):
            raise _OptionsEnd(prefix + f" [|{self.protocol}]"
                              + (">" if self.separator else ""))
        return self.raw[self.at:self.at + count]


def tcp_options_text(raw: bytes, size: int, seq_base: int, flags: int,
                 segment_captured: bool) -> tuple[str, bool]:
    """The options as tcpdump prints them (print-tcp.c), from ``size`` header bytes of
    which ``raw`` were captured: the text from ``options [``, and whether the line goes
    on (False when tcpdump stops at a cut or a malformed option)."""
    out = ["options ["]
    cursor = _OptionCursor(raw, size)
    try:
        while cursor.left > 0:
            out.append(cursor.separator)
            kind = cursor.byte()
            if kind in (0, 1):
                length = 1
            else:
                length = cursor.byte()
                if length < 2 or length > cursor.left:
                    raise cursor.bad()
                cursor.left -= 1
            cursor.left -= 1
            out.append(_TCP_OPTION_NAMES.get(kind, f"unknown-{kind}"))
            value_size = _TCP_OPTION_SIZES.get(kind, 0 if kind in (0, 1, 4) else length - 2)
            out.append(_tcp_option_value(kind, value_size, cursor, seq_base, flags,
                                         segment_captured))
            if kind == 30:
                cursor.protocol = "mptcp"
            cursor.at += value_size
            cursor.left -= value_size
            if value_size + (1 if kind in (0, 1) else 2) != length:
                out.append(f"[len {length}]")
            cursor.separator = ","
            if kind == 0:
                break
    except _OptionsEnd as end:
        return "".join(out) + end.text, False
    return "".join(out) + "]", True


def _tcp_option_value(kind: int, size: int, cursor: _OptionCursor, seq_base: int,
                      flags: int, segment_captured: bool) -> str:
    """The text after an option's name, its value read through ``cursor``."""
    need = cursor.need
    if kind in (0, 1, 4):
        return ""
    if kind == 2:
        return f" {struct.unpack('!H', need(2))[0]}"
    if kind == 3:
        return f" {need(1)[0]}"
    if kind in (6, 7, 11, 12, 13):
        return f" {struct.unpack('!I', need(4))[0]}"
    if kind == 8:
        tsval, tsecr = struct.unpack("!II", need(8))
        return f" val {tsval} ecr {tsecr}"
    if kind == 5:
        if size % 8:
            return " invalid sack"
        text = f" {size // 8} "
        for offset in range(0, size, 8):
            start = struct.unpack_from("!I", need(offset + 4, text), offset)[0]
            end = struct.unpack_from("!I", need(offset + 8, text), offset + 4)[0]
            text += f"{{{(start - seq_base) & 0xFFFFFFFF}:{(end - seq_base) & 0xFFFFFFFF}}}"
        return text
    if kind == 19:
        value = need(16)
        why = "shared secret not supplied with -M" if segment_captured else "snaplen too short"
        return f" {why}, can't check - " + value.hex()
    if kind == 20:
        value = need(2)
        return f" cap {value[0]:02x} id {value[1]}"
    if kind == 28:
        value = struct.unpack("!H", need(2))[0]
        # tcpdump reads the granularity from the lowest bit (not RFC 5482's highest)
        return f" 0x{value:x} {(value >> 1) * 60 if value & 1 else value >> 1}"
    if kind == 30:
        value = need(size)
        if size + 2 < 3:
            raise cursor.bad()
        mptcp = _mptcp(value, size + 2, flags)
        if mptcp is None:    # a malformed MP_CAPABLE: tcpdump has printed its name
            raise cursor.bad(f" {size + 2} capable")
        return mptcp
    if kind == 34:
        return " " + _fastopen(need(size))
    if kind == 254:
        value = need(size)
        if size < 2:
            raise cursor.bad()
        magic = struct.unpack_from("!H", value)[0]
        return "-" + ("tfo" + _fastopen(value[2:]) if magic == 0xF989 else f"{magic:04x}")
    text = " 0x" if size else ""
    for index in range(size):
        text += f"{need(index + 1, text)[index]:02x}"
    return text


def _fastopen(cookie: bytes) -> str:
    if not cookie:
        return " cookiereq"
    if len(cookie) % 2 or not 4 <= len(cookie) <= 16:
        return " (invalid)"
    return " cookie " + cookie.hex()


def _mptcp(body: bytes, size: int, flags: int) -> str | None:
    """An MPTCP option after its name, or None for an MP_CAPABLE tcpdump finds malformed."""
    subtype, version = body[0] >> 4, body[0] & 0xF
    names = {0: "capable", 1: "join", 2: "dss", 3: "add-addr", 4: "rem-addr", 5: "prio",
             6: "fail", 7: "fast-close", 8: "tcprst"}
    text = f" {size} {names.get(subtype, 'unknown')}"
    if subtype == 0:
        syn_ok = size in (12, 4) and flags & 0x02
        ack_ok = size in (20, 22) and flags & 0x12 == 0x10
        if not (syn_ok or ack_ok):
            return None
        text += f" v{version}"
        if len(body) >= 2 and body[1] & 0x80:
            text += " csum"
        if len(body) >= 10:
            text += f" {{0x{int.from_bytes(body[2:10], 'big'):x}}}"
    return text
