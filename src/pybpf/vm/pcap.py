"""A small reader and writer of classic pcap files (the libpcap format, not pcapng); it
lives in vm/ until a top-level layer for it is agreed (tests/test_layers.py).

``read_pcap(path)`` returns the link type and the packets (bytes) in file order; it accepts
both byte orders and the microsecond and nanosecond magics. ``write_pcap(path, packets)``
writes little-endian microsecond pcap with LINKTYPE_ETHERNET. Malformed files raise
:class:`~pybpf.errors.InvalidInputError` naming the file and the byte offset.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InvalidInputError

LINKTYPE_ETHERNET = 1
MAGIC_MICROS = 0xA1B2C3D4
MAGIC_NANOS = 0xA1B23C4D
_FILE_HEADER = 24
_RECORD_HEADER = 16
_MAX_SNAPLEN = 262144


@dataclass
class PcapFile:
    """What a pcap file holds: ``linktype`` (1 = Ethernet) and the captured packets."""

    linktype: int
    packets: list[bytes]
    timestamps_ns: list[int]


def read_pcap(path: str | os.PathLike[str]) -> PcapFile:
    """Every packet of the pcap file at ``path``; raises InvalidInputError when malformed."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise InvalidInputError(f"cannot read: {err.strerror}", source=name) from None
    return parse_pcap(raw, name)


def parse_pcap(raw: bytes, name: str = "pcap") -> PcapFile:
    """Like :func:`read_pcap` on bytes already in memory."""
    if len(raw) < _FILE_HEADER:
        raise InvalidInputError(f"{len(raw)} bytes is too short for a pcap header",
                                source=name)
    for order in ("<", ">"):
        magic = struct.unpack_from(order + "I", raw)[0]
        if magic in (MAGIC_MICROS, MAGIC_NANOS):
            break
    else:
        raise InvalidInputError(f"not a pcap file (magic {raw[:4].hex()}; pcapng is not "
                                f"supported)", source=name)
    scale = 1000 if magic == MAGIC_MICROS else 1
    linktype = struct.unpack_from(order + "I", raw, 20)[0] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII")
    packets, stamps = [], []
    offset = _FILE_HEADER
    while offset < len(raw):
        if offset + _RECORD_HEADER > len(raw):
            raise InvalidInputError(f"truncated record header at byte {offset}", source=name)
        seconds, fraction, captured, _original = record.unpack_from(raw, offset)
        offset += _RECORD_HEADER
        if captured > _MAX_SNAPLEN or offset + captured > len(raw):
            raise InvalidInputError(f"record at byte {offset - _RECORD_HEADER} claims "
                                    f"{captured} bytes, the file has {len(raw) - offset} left",
                                    source=name)
        packets.append(raw[offset:offset + captured])
        stamps.append(seconds * 1_000_000_000 + fraction * scale)
        offset += captured
    return PcapFile(linktype, packets, stamps)


def write_pcap(path: str | os.PathLike[str], packets: Iterable[bytes], *,
               linktype: int = LINKTYPE_ETHERNET, timestamps_ns: Iterable[int] | None = None
               ) -> None:
    """Write ``packets`` as a little-endian microsecond pcap file."""
    packets = list(packets)
    stamps = list(timestamps_ns) if timestamps_ns is not None else [time.time_ns()] * len(packets)
    out = [struct.pack("<IHHiIII", MAGIC_MICROS, 2, 4, 0, 0, _MAX_SNAPLEN, linktype)]
    for packet, stamp in zip(packets, stamps):
        seconds, nanos = divmod(stamp, 1_000_000_000)
        out.append(struct.pack("<IIII", seconds, nanos // 1000, len(packet), len(packet)))
        out.append(bytes(packet))
    try:
        with open(os.fspath(path), "wb") as f:
            f.write(b"".join(out))
    except OSError as err:
        raise InvalidInputError(f"cannot write: {err.strerror}", source=os.fspath(path)) from None
