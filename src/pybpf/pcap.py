"""Classic pcap files (the libpcap format, not pcapng): read and write, nothing more.

Used by the VM (``pybpf vm run --pcap``) and the filter layer (tests against tcpdump).
``read_pcap(path)`` accepts both byte orders and the microsecond and nanosecond magics;
``write_pcap(path, packets)`` writes little-endian microsecond pcap. A malformed file raises
:class:`~pybpf.errors.InvalidInputError` naming the file and the byte offset.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import InvalidInputError

__all__ = ["LINKTYPE_ETHERNET", "PcapFile", "PcapPacket", "parse_pcap", "read_pcap",
           "write_pcap"]

LINKTYPE_ETHERNET = 1
MAGIC_MICROS = 0xA1B2C3D4
MAGIC_NANOS = 0xA1B23C4D
_FILE_HEADER = struct.Struct("<IHHiIII")
_RECORD_HEADER_BYTES = 16
MAX_SNAPLEN = 262144


@dataclass(frozen=True, slots=True)
class PcapPacket:
    """Captured ``data`` (its length is the capture length), the length on the wire, and
    the capture time in microseconds."""

    data: bytes
    wirelen: int
    timestamp_us: int = 0


@dataclass
class PcapFile:
    """What a pcap file holds: ``linktype`` (1 = Ethernet) and its packets in file order."""

    linktype: int
    packets: list[PcapPacket] = field(default_factory=list)


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
    if len(raw) < _FILE_HEADER.size:
        raise InvalidInputError(f"{len(raw)} bytes is too short for a pcap header",
                                source=name, offset=0)
    for order in ("<", ">"):
        magic = struct.unpack_from(order + "I", raw)[0]
        if magic in (MAGIC_MICROS, MAGIC_NANOS):
            break
    else:
        raise InvalidInputError(f"not a pcap file (magic {raw[:4].hex()}; pcapng is not "
                                f"supported)", source=name, offset=0)
    nanos = magic == MAGIC_NANOS
    linktype = struct.unpack_from(order + "I", raw, 20)[0] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII")
    capture = PcapFile(linktype)
    offset = _FILE_HEADER.size
    while offset < len(raw):
        if offset + _RECORD_HEADER_BYTES > len(raw):
            raise InvalidInputError("truncated record header", source=name, offset=offset)
        seconds, fraction, captured, wirelen = record.unpack_from(raw, offset)
        offset += _RECORD_HEADER_BYTES
        if captured > MAX_SNAPLEN or offset + captured > len(raw):
            raise InvalidInputError(f"record claims {captured} bytes, the file has "
                                    f"{len(raw) - offset} left", source=name,
                                    offset=offset - _RECORD_HEADER_BYTES)
        micros = fraction // 1000 if nanos else fraction
        capture.packets.append(PcapPacket(raw[offset:offset + captured], wirelen,
                                          seconds * 1_000_000 + micros))
        offset += captured
    return capture


def write_pcap(path: str | os.PathLike[str], packets: Iterable[PcapPacket | bytes], *,
               linktype: int = LINKTYPE_ETHERNET, snaplen: int = MAX_SNAPLEN) -> None:
    """Write ``packets`` (PcapPacket, or plain bytes captured whole at time 0) to ``path``."""
    out = [_FILE_HEADER.pack(MAGIC_MICROS, 2, 4, 0, 0, snaplen, linktype)]
    for packet in packets:
        if not isinstance(packet, PcapPacket):
            packet = PcapPacket(bytes(packet), len(packet))
        seconds, micros = divmod(packet.timestamp_us, 1_000_000)
        out.append(struct.pack("<IIII", seconds, micros, len(packet.data), packet.wirelen))
        out.append(packet.data)
    try:
        with open(os.fspath(path), "wb") as f:
            f.write(b"".join(out))
    except OSError as err:
        raise InvalidInputError(f"cannot write: {err.strerror}", source=os.fspath(path)) from None
