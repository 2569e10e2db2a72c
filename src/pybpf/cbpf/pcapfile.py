"""A tiny reader/writer of classic pcap files (microsecond timestamps, Ethernet).

Only what the filter tests and benchmarks need; a fuller ``pybpf.pcap`` may replace it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInputError

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
_HEADER = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


@dataclass(frozen=True, slots=True)
class PcapPacket:
    """Captured ``data`` (its length is the capture length), the length on the wire, and
    the timestamp in microseconds."""

    data: bytes
    wirelen: int
    timestamp_us: int = 0


def write_pcap(path: str | Path, packets: Iterable[PcapPacket], *, snaplen: int = 262144
               ) -> None:
    """Write ``packets`` to ``path`` as a little-endian pcap file of Ethernet frames."""
    with open(path, "wb") as out:
        out.write(_HEADER.pack(PCAP_MAGIC, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        for packet in packets:
            seconds, micros = divmod(packet.timestamp_us, 1_000_000)
            out.write(_RECORD.pack(seconds, micros, len(packet.data), packet.wirelen))
            out.write(packet.data)


def read_pcap(path: str | Path) -> Iterator[PcapPacket]:
    """The packets of a pcap file (either byte order, microsecond or nanosecond stamps).

    Raises InvalidInputError naming the file and offset of a bad header or record.
    """
    data = Path(path).read_bytes()
    name = str(path)
    if len(data) < _HEADER.size:
        raise InvalidInputError("too short for a pcap header", source=name, offset=0)
    magic_le = int.from_bytes(data[:4], "little")
    magic_be = int.from_bytes(data[:4], "big")
    if magic_le in (PCAP_MAGIC, 0xA1B23C4D):
        order, magic = "<", magic_le
    elif magic_be in (PCAP_MAGIC, 0xA1B23C4D):
        order, magic = ">", magic_be
    else:
        raise InvalidInputError(f"not a pcap file (magic {data[:4].hex()})", source=name,
                                offset=0)
    nanos = magic == 0xA1B23C4D
    record = struct.Struct(order + "IIII")
    pos = _HEADER.size
    while pos < len(data):
        if pos + record.size > len(data):
            raise InvalidInputError("truncated record header", source=name, offset=pos)
        seconds, fraction, caplen, wirelen = record.unpack_from(data, pos)
        pos += record.size
        if pos + caplen > len(data):
            raise InvalidInputError(f"record of {caplen} bytes runs past the end",
                                    source=name, offset=pos)
        micros = fraction // 1000 if nanos else fraction
        yield PcapPacket(data[pos:pos + caplen], wirelen, seconds * 1_000_000 + micros)
        pos += caplen
