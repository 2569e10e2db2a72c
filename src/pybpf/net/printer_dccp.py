"""DCCP packets (RFC 4340) as ``tcpdump -n`` 4.99 prints them: the packet type and its
service, reset code and acknowledgement number; -v's CCVal, checksum coverage and checksum,
-vv's sequence number and options.

As tcpdump does, the fixed part of an acknowledging packet counts 8 bytes for the
acknowledgement whatever the X bit says, so options are looked for after those."""

from __future__ import annotations

import struct

from .inet_checksum import ones_sum

__all__ = ["dccp_text"]

_TYPES = ("DCCP-Request", "DCCP-Response", "DCCP-Data", "DCCP-Ack", "DCCP-DataAck",
          "DCCP-CloseReq", "DCCP-Close", "DCCP-Reset", "DCCP-Sync", "DCCP-SyncAck")
# bytes after the generic header each type's fixed part has (tcpdump's reckoning)
_FIXED_MORE = {0: 4, 1: 12, 2: 0, 3: 8, 4: 8, 5: 8, 6: 8, 7: 12, 8: 8, 9: 8}
_RESET_CODES = ("unspecified", "closed", "aborted", "no_connection", "packet_error",
                "option_error", "mandatory_error", "connection_refused", "bad_service_code",
                "too_busy", "bad_init_cookie", "aggression_penalty")
_FEATURES = ("reserved", "ccid", "allow_short_seqno", "sequence_window", "ecn_incapable",
             "ack_ratio", "send_ack_vector", "send_ndp_count", "minimum checksum coverage",
             "check data checksum")
_OPTIONS = {0: "nop", 1: "mandatory", 2: "slowreceiver", 32: "change_l", 33: "confirm_l",
            34: "change_r", 35: "confirm_r", 36: "initcookie", 37: "ndp_count",
            38: "ack_vector0", 39: "ack_vector1", 40: "data_dropped", 41: "timestamp",
            42: "timestamp_echo", 43: "elapsed_time", 44: "data_checksum"}


class _Cut(Exception):
    """The capture ends before a field tcpdump reads: the line ends with `` [|dccp]``."""


def _get(raw: bytes, at: int, size: int) -> int:
    if at + size > len(raw):
        raise _Cut
    return int.from_bytes(raw[at:at + size], "big")


def dccp_text(segment: bytes, length: int, verbose: int, quiet: bool, src: str, dst: str,
              pseudo: bytes) -> str:
    """The text for a DCCP packet of ``length`` bytes (``segment`` is what was captured of
    it); ``pseudo`` is the source and destination addresses its checksum covers."""
    out: list[str] = []
    try:
        _dccp(out, segment, length, verbose, quiet, src, dst, pseudo)
    except _Cut:
        out.append(" [|dccp]")
    return "".join(out)


def _dccp(out: list[str], raw: bytes, length: int, verbose: int, quiet: bool, src: str,
          dst: str, pseudo: bytes) -> None:
    if len(raw) < 12:
        raise _Cut
    if length < 12:
        out.append(f"truncated-dccp - {12 - length} bytes missing!")
        return
    extended = raw[8] & 1
    fixed = 16 if extended else 12
    if length < fixed:
        out.append(f"truncated-dccp - {fixed - length} bytes missing!")
        return
    if len(raw) < fixed:
        raise _Cut
    sport, dport, doff, ccval_cscov = struct.unpack_from("!HHBB", raw)
    header_len = doff * 4
    out.append(f"{src}.{sport} > {dst}.{dport}: DCCP")
    if quiet:
        out.append(f" {(length - header_len) & 0xFFFFFFFF}")
        if header_len > length:
            out.append(f" [bad hdr length {header_len} - too long, > {length}]")
        return
    if verbose:
        cscov = ccval_cscov & 0xF
        out.append(f" (CCVal {ccval_cscov >> 4}, CsCov {cscov}")
        if len(raw) >= length:
            out.append(_checksum_words(raw[:length], doff, cscov, pseudo))
        out.append(")")
    out.append(" ")
    kind = (raw[8] >> 1) & 0xF
    name = _TYPES[kind] if kind < len(_TYPES) else f"unknown-type-{kind}"
    fixed += _FIXED_MORE.get(kind, 0)
    if kind < len(_TYPES) and kind != 2 and length < fixed:
        out.append(f"truncated-{name} - {fixed - length} bytes missing!")
        return
    basic = 16 if extended else 12
    if kind in (0, 1):
        if len(raw) < fixed:
            raise _Cut
        out.append(f"{name} (service={_get(raw, fixed - 4, 4)}) ")
    elif kind == 7:
        if len(raw) < fixed:
            raise _Cut
        code = raw[basic + 8]
        out.append(f"{name} (code="
                   f"{_RESET_CODES[code] if code < len(_RESET_CODES) else 'invalid'}) ")
    else:
        out.append(f"{name} ")
    if kind not in (0, 2):
        ack = _get(raw, basic + 2, 6) if extended else _get(raw, basic + 1, 3)
        out.append(f"(ack={ack}) ")
    if verbose < 2:
        return
    out.append(f"seq {_get(raw, 10, 6) if extended else _get(raw, 9, 3)}")
    if header_len > fixed:
        out.append(" <")
        _options(out, raw, fixed, header_len - fixed)
        out.append(">")


def _checksum_words(packet: bytes, doff: int, cscov: int, pseudo: bytes) -> str:
    """``, cksum 0x1234 (correct)``: over the bytes the coverage field names (RFC 4340 9.2)."""
    covered = len(packet) if cscov == 0 else min((doff + cscov - 1) * 4, len(packet))
    head = _pseudo(pseudo, len(packet))
    stored = struct.unpack_from("!H", packet, 6)[0]
    if ones_sum(head + packet[:covered]) == 0xFFFF:
        return f", cksum 0x{stored:04x} (correct)"
    zeroed = packet[:6] + b"\0\0" + packet[8:covered]
    right = ~ones_sum(head + zeroed) & 0xFFFF
    return f", cksum 0x{stored:04x} (incorrect -> 0x{right:04x})"


def _pseudo(addresses: bytes, length: int) -> bytes:
    """IPv4's or IPv6's pseudo-header for DCCP (protocol 33)."""
    if len(addresses) == 32:
        return addresses + struct.pack("!IxxxB", length, 33)
    return addresses + struct.pack("!xBH", 33, length)


def _options(out: list[str], raw: bytes, at: int, left: int) -> None:
    """The options, as tcpdump walks them: one it cannot take ends the list."""
    while True:
        size = _option(out, raw, at, left)
        if not size or left <= size:
            return
        left -= size
        at += size
        out.append(", ")


def _option(out: list[str], raw: bytes, at: int, left: int) -> int:
    kind = _get(raw, at, 1)
    name = f"CCID option {kind}" if kind >= 128 else _OPTIONS.get(kind, f"Option {kind}")
    size = 1
    if kind >= 32:
        size = _get(raw, at + 1, 1)
        if size < 2:
            out.append(f"{name} optlen too short")
            return 0
    if left < size:
        out.append(f"{name} optlen goes past header length")
        return 0
    if at + size > len(raw):
        out.append(" [|dccp]")
        return 0
    value = raw[at + 2:at + size]
    out.append(name)
    if kind >= 128:
        if size in (4, 6):
            out.append(f" {int.from_bytes(value, 'big')}")
    elif 32 <= kind <= 35:
        if size < 3:
            out.append(" optlen too short")
        elif value[0] < len(_FEATURES):
            out.append(" " + _FEATURES[value[0]] + "".join(f" {b}" for b in value[1:]))
    elif kind in (36, 38, 39, 40) and value:
        out.append(" 0x" + value.hex())
    elif kind == 37:
        out.append("".join(f" {b}" for b in value))
    elif kind == 41:
        out.append(f" {int.from_bytes(value, 'big')}" if size == 6 else " [optlen != 6]")
    elif kind == 42:
        if size in (6, 8, 10):
            out.append(f" {int.from_bytes(value[:4], 'big')}")
            if size > 6:
                out.append(f" (elapsed time {int.from_bytes(value[4:], 'big')})")
        else:
            out.append(" [optlen != 6 or 8 or 10]")
    elif kind == 43:
        out.append(f" {int.from_bytes(value, 'big')}" if size in (4, 6)
                   else " [optlen != 4 or 6]")
    elif kind == 44 and value:
        out.append(" " + value.hex())
    return size
