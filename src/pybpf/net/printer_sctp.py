"""SCTP packets (RFC 9260) as ``tcpdump -n`` 4.99 prints them: the ports, then each chunk
numbered, with the fields of DATA, INIT, INIT ACK and SACK (and -vv's payload dump).

tcpdump's own arithmetic is kept: the bytes left in the packet are an unsigned 32-bit count
(a chunk longer than the packet wraps it, and the walk goes on until the capture ends), a
chunk is only read once all of it was captured, and a chunk too short for its fixed fields
ends the line with ``bogus chunk length N]``."""

from __future__ import annotations

import struct

from .printer_m3ua import m3ua_text
from .printer_words import LongJump, hex_dump

__all__ = ["sctp_text"]

_CHUNKS = {0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HB REQ", 5: "HB ACK",
           6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN ACK", 9: "OP ERR", 10: "COOKIE ECHO",
           11: "COOKIE ACK", 12: "ECN ECHO", 13: "ECN CWR", 14: "SHUTDOWN COMPLETE",
           0xC0: "FOR CUM TSN", 0xC1: "REL CTRL", 0xC2: "REL CTRL ACK"}
# payload protocol identifiers (IANA's registry, the names tcpdump gives them)
_PPIDS = {1: "ISDN Q.921", 2: "M2UA", 3: "M3UA", 4: "SUA", 5: "M2PA", 6: "V5.2", 7: "H.248",
          8: "BICC", 9: "TALI", 10: "DUA", 11: "ASAP", 12: "ENRP", 13: "H.323", 14: "Q.IPC",
          15: "SIMCO", 16: "DDPSC", 17: "DDPSSC", 18: "S1AP", 19: "RUA", 20: "HNBAP",
          21: "ForCES HP", 22: "ForCES MP", 23: "ForCES LP", 24: "SBc-AP", 25: "NBAP",
          27: "X2AP"}
_FORCES_PORTS = {6704: "ForCES HP", 6705: "ForCES MP", 6706: "ForCES LP"}
_MASK = 0xFFFFFFFF


class _Cut(Exception):
    """The capture ends before what the walk must read next: `` [|sctp]``."""


class _Bogus(Exception):
    """A chunk too short for its fixed fields: tcpdump says so and stops."""


def sctp_text(segment: bytes, length: int, verbose: int, src: str, dst: str) -> str:
    """The whole text after the IP header's words for an SCTP packet of ``length`` bytes,
    ``segment`` being what was captured of them (at most ``length``)."""
    if length < 12:
        return f"truncated-sctp - {12 - length} bytes missing!"
    if len(segment) < 12:
        return " [|sctp]"
    sport, dport = struct.unpack_from("!HH", segment)
    out = [f"{src}.{sport} > {dst}.{dport}: sctp"]
    out += [f"[{_FORCES_PORTS[p]}]" for p in (sport, dport) if p in _FORCES_PORTS]
    try:
        _chunks(out, segment, length, verbose)
    except _Cut:
        out.append(" [|sctp]")
    except _Bogus:
        pass
    return "".join(out)


def _chunks(out: list[str], raw: bytes, length: int, verbose: int) -> None:
    at, left = 12, length - 12
    sep = "\n\t" if verbose >= 2 else " ("
    number = 0
    while left:
        number += 1
        if left < 4:
            out.append(f"{sep}{number}) [chunk descriptor cut off at end of packet]")
            return
        if at + 4 > len(raw):
            raise _Cut
        kind, flags, size = struct.unpack_from("!BBH", raw, at)
        if size < 4:
            out.append(f"{sep}{number}) [Bad chunk length {size}, < size of chunk descriptor]")
            return
        align = -size % 4
        if left < align:
            out.append(f"{sep}{number}) [Bad chunk length {size}, > remaining data in packet]")
            return
        if at + size > len(raw):
            raise _Cut
        name = _CHUNKS.get(kind, f"Unknown chunk type: 0x{kind:x}")
        out.append(f"{sep}{number}) [{name}] ")
        body = raw[at + 4:at + size]
        if kind == 0:
            _data(out, body, flags, size, verbose, raw[at + 16:])
        elif kind in (1, 2):
            tag, rwnd, streams_out, streams_in, tsn = _fixed(out, body, size, "!IIHHI")
            out.append(f"[init tag: {tag}] [rwnd: {rwnd}] [OS: {streams_out}] "
                       f"[MIS: {streams_in}] [init TSN: {tsn}] ")
        elif kind == 3:
            _sack(out, body, size)
        # the chunk, whatever its kind read of it, and then its padding
        at += size
        left = (left - size) & _MASK
        if verbose < 2:
            sep = ", ("
        if align:
            if at + align > len(raw):
                raise _Cut
            at += align
            left = (left - align) & _MASK


def _data(out: list[str], body: bytes, flags: int, size: int, verbose: int,
          rest: bytes) -> None:
    """A DATA chunk (``rest``: the captured bytes from its payload on, which M3UA may
    read past the chunk)."""
    marks = "".join(w for bit, w in ((4, "(U)"), (2, "(B)"), (1, "(E)")) if flags & bit)
    out.append(marks + (" " if marks else ""))
    tsn, sid, sseq, ppid = _fixed(out, body, size, "!IHHI")
    out.append(f"[TSN: {tsn}] [SID: {sid}] [SSEQ {sseq}] "
               f"[PPID {_PPIDS.get(ppid, f'0x{ppid:x}')}] ")
    if len(body) == 12:   # the fields, and not one byte of payload
        out.append(f"bogus chunk length {size}]")
        raise _Bogus
    if verbose >= 2 and ppid == 3:
        try:
            out.append(m3ua_text(rest, len(body) - 12))
        except LongJump as jump:
            out.append(jump.text + " [|m3ua]")
            raise _Bogus from None   # tcpdump left the packet there
    elif verbose >= 2:
        out.append("[Payload:" + hex_dump(body[12:], ascii_too=True) + "]")


def _fixed(out: list[str], body: bytes, size: int, shape: str) -> tuple[int, ...]:
    """A chunk's fixed fields, or tcpdump's complaint and _Bogus when it is too short."""
    if len(body) < struct.calcsize(shape):
        out.append(f"bogus chunk length {size}]")
        raise _Bogus
    return struct.unpack_from(shape, body)


def _sack(out: list[str], body: bytes, size: int) -> None:
    cumulative, rwnd, gaps, dups = _fixed(out, body, size, "!IIHH")
    out.append(f"[cum ack {cumulative}] [a_rwnd {rwnd}] [#gap acks {gaps}] "
               f"[#dup tsns {dups}] ")
    at = 12
    for gap, count in ((True, gaps), (False, dups)):   # the gap blocks, then the dup TSNs
        for index in range(count):
            if at == len(body):
                break
            (word,) = _fixed(out, body[at:], size, "!I")
            if gap:
                out.append(f"\n\t\t[gap ack block #{index + 1}: start = "
                           f"{(cumulative + (word >> 16)) & _MASK}, end = "
                           f"{(cumulative + (word & 0xFFFF)) & _MASK}] ")
            else:
                out.append(f"\n\t\t[dup TSN #{index + 1}: {word}] ")
            at += 4
