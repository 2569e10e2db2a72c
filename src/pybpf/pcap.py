"""Capture files: classic pcap and pcapng, read and written.

Used by the VM (``pybpf vm run --pcap``), ``pybpf sniff -r/-w`` and the filter layer (tests
against tcpdump). ``read_pcap(path)`` reads either format (pcap in both byte orders with the
microsecond and nanosecond magics; pcapng sections, interfaces of one link type, enhanced,
simple and obsolete packet blocks, any timestamp resolution); ``write_pcap(path, packets)``
writes little-endian microsecond pcap, ``write_pcapng`` one pcapng section. A malformed or
truncated file raises :class:`~pybpf.errors.InvalidInputError` naming the file and the byte
offset.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import InvalidInputError

__all__ = ["LINKTYPE_ETHERNET", "CaptureWriter", "PcapFile", "PcapPacket", "parse_pcap",
           "read_pcap", "write_pcap", "write_pcapng"]

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
    """What a capture file holds: ``linktype`` (1 = Ethernet), its packets in file order,
    the snapshot length and the format ("pcap" or "pcapng")."""

    linktype: int
    packets: list[PcapPacket] = field(default_factory=list)
    snaplen: int = MAX_SNAPLEN
    format: str = "pcap"
    # with partial=True: why reading stopped early (the packets before it are kept)
    error: InvalidInputError | None = None


def read_pcap(path: str | os.PathLike[str], *, partial: bool = False) -> PcapFile:
    """Every packet of the capture file at ``path``; raises InvalidInputError when
    malformed. With ``partial``, a file cut short or damaged after its header gives the
    packets before the damage and the error in ``.error`` (tcpdump prints those first)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise InvalidInputError(f"cannot read: {err.strerror}", source=name) from None
    return parse_pcap(raw, name, partial=partial)


def parse_pcap(raw: bytes, name: str = "pcap", *, partial: bool = False) -> PcapFile:
    """Like :func:`read_pcap` on bytes already in memory."""
    started: list[PcapFile] = []
    try:
        if raw[:4] == _PCAPNG_SHB:
            return _parse_pcapng(raw, name, started)
        return _parse_classic(raw, name, started)
    except InvalidInputError as err:
        if not partial or not started:
            raise
        started[0].error = err
        return started[0]


def _parse_classic(raw: bytes, name: str, started: list[PcapFile]) -> PcapFile:
    if len(raw) < _FILE_HEADER.size:
        raise InvalidInputError(f"{len(raw)} bytes is too short for a pcap header",
                                source=name, offset=0)
    for order in ("<", ">"):
        magic = struct.unpack_from(order + "I", raw)[0]
        if magic in (MAGIC_MICROS, MAGIC_NANOS):
            break
    else:
        raise InvalidInputError(f"not a pcap file, nor pcapng (magic {raw[:4].hex()})",
                                source=name, offset=0)
    nanos = magic == MAGIC_NANOS
    snaplen = struct.unpack_from(order + "I", raw, 16)[0]
    linktype = struct.unpack_from(order + "I", raw, 20)[0] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII")
    capture = PcapFile(linktype, snaplen=snaplen)
    started.append(capture)
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


# -- pcapng ------------------------------------------------------------------------------------

_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_SHB, _IDB, _OPB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
_IF_TSRESOL = 9


def _parse_pcapng(raw: bytes, name: str, started: list[PcapFile]) -> PcapFile:
    """Every packet of a pcapng file (all sections; interfaces must share a link type)."""
    order = "<"
    interfaces: list[tuple[int, int, int]] = []   # (linktype, snaplen, units per second)
    capture: PcapFile | None = None
    offset = 0
    while offset < len(raw):
        if offset + 12 > len(raw):
            raise InvalidInputError("truncated pcapng block header", source=name,
                                    offset=offset)
        block_type = struct.unpack_from(order + "I", raw, offset)[0]
        if block_type == _SHB:
            magic = struct.unpack_from("<I", raw, offset + 8)[0]
            if magic == _BYTE_ORDER_MAGIC:
                order = "<"
            elif magic == 0x4D3C2B1A:
                order = ">"
            else:
                raise InvalidInputError(f"bad pcapng byte-order magic 0x{magic:08x}",
                                        source=name, offset=offset + 8)
            interfaces = []  # interface ids restart in each section
        length = struct.unpack_from(order + "I", raw, offset + 4)[0]
        if length < 12 or length % 4 or offset + length > len(raw):
            raise InvalidInputError(f"pcapng block claims {length} bytes, the file has "
                                    f"{len(raw) - offset} left", source=name, offset=offset)
        body = raw[offset + 8:offset + length - 4]
        if block_type == _IDB:
            if len(body) < 8:
                raise InvalidInputError("short interface description block", source=name,
                                        offset=offset)
            linktype, _, snaplen = struct.unpack_from(order + "HHI", body)
            units = 1_000_000
            for code, value in _options(body[8:], order):
                if code == _IF_TSRESOL and value:
                    exp = value[0]
                    units = 2 ** (exp & 0x7F) if exp & 0x80 else 10 ** exp
            interfaces.append((linktype, snaplen, units))
            if capture is None:
                capture = PcapFile(linktype, snaplen=snaplen or MAX_SNAPLEN, format="pcapng")
                started.append(capture)
            elif capture.linktype != linktype:
                raise InvalidInputError(f"interfaces of link types {capture.linktype} and "
                                        f"{linktype} in one file are not supported",
                                        source=name, offset=offset)
        elif block_type in (_EPB, _OPB, _SPB):
            if not interfaces or capture is None:
                raise InvalidInputError("packet block before any interface description",
                                        source=name, offset=offset)
            if block_type == _SPB:
                if len(body) < 4:
                    raise InvalidInputError("short simple packet block", source=name,
                                            offset=offset)
                wirelen = struct.unpack_from(order + "I", body)[0]
                snaplen = interfaces[0][1] or MAX_SNAPLEN
                captured, start, iface, stamp = min(wirelen, snaplen, len(body) - 4), 4, 0, 0
            else:
                if len(body) < 20:
                    raise InvalidInputError("short packet block", source=name, offset=offset)
                if block_type == _EPB:
                    iface, high, low, captured, wirelen = struct.unpack_from(order + "IIIII",
                                                                             body)
                else:
                    iface, _, high, low, captured, wirelen = struct.unpack_from(
                        order + "HHIIII", body)
                stamp = high << 32 | low
                start = 20
            if iface >= len(interfaces):
                raise InvalidInputError(f"packet of interface {iface}, the section has "
                                        f"{len(interfaces)}", source=name, offset=offset)
            if start + captured > len(body):
                raise InvalidInputError(f"packet block claims {captured} bytes, it has "
                                        f"{len(body) - start}", source=name, offset=offset)
            units = interfaces[iface][2]
            capture.packets.append(PcapPacket(body[start:start + captured], wirelen,
                                              stamp * 1_000_000 // units))
        offset += length
    if capture is None:
        return PcapFile(LINKTYPE_ETHERNET, format="pcapng")
    return capture


def _options(raw: bytes, order: str) -> list[tuple[int, bytes]]:
    found = []
    offset = 0
    while offset + 4 <= len(raw):
        code, size = struct.unpack_from(order + "HH", raw, offset)
        if code == 0:
            break
        found.append((code, raw[offset + 4:offset + 4 + size]))
        offset += 4 + (size + 3) // 4 * 4
    return found


def _block(block_type: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def write_pcapng(path: str | os.PathLike[str], packets: Iterable[PcapPacket | bytes], *,
                 linktype: int = LINKTYPE_ETHERNET, snaplen: int = MAX_SNAPLEN) -> None:
    """Write ``packets`` to ``path`` as one pcapng section with one interface
    (microsecond timestamps), as tcpdump and Wireshark read it."""
    out = [_block(_SHB, struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1)),
           _block(_IDB, struct.pack("<HHI", linktype, 0, snaplen)
                  + struct.pack("<HHB3x", _IF_TSRESOL, 1, 6) + struct.pack("<HH", 0, 0))]
    for packet in packets:
        if not isinstance(packet, PcapPacket):
            packet = PcapPacket(bytes(packet), len(packet))
        stamp = packet.timestamp_us
        out.append(_block(_EPB, struct.pack("<IIIII", 0, stamp >> 32, stamp & 0xFFFF_FFFF,
                                            len(packet.data), packet.wirelen) + packet.data))
    try:
        with open(os.fspath(path), "wb") as f:
            f.write(b"".join(out))
    except OSError as err:
        raise InvalidInputError(f"cannot write: {err.strerror}", source=os.fspath(path)) from None


class CaptureWriter:
    """Packets written one by one as they come (``pcapng=True``: pcapng, else pcap); the
    file is opened at once, so a later privilege drop does not stop the writing."""

    def __init__(self, path: str | os.PathLike[str], *, linktype: int = LINKTYPE_ETHERNET,
                 snaplen: int = MAX_SNAPLEN, pcapng: bool = False) -> None:
        self.path = os.fspath(path)
        self.pcapng = pcapng
        try:
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        except OSError as err:
            raise InvalidInputError(f"cannot write: {err.strerror}", source=self.path) from None
        if pcapng:
            self._file.write(
                _block(_SHB, struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1))
                + _block(_IDB, struct.pack("<HHI", linktype, 0, snaplen)
                         + struct.pack("<HHB3x", _IF_TSRESOL, 1, 6) + struct.pack("<HH", 0, 0)))
        else:
            self._file.write(_FILE_HEADER.pack(MAGIC_MICROS, 2, 4, 0, 0, snaplen, linktype))

    def write(self, packet: PcapPacket) -> None:
        stamp = packet.timestamp_us
        if self.pcapng:
            self._file.write(_block(_EPB, struct.pack(
                "<IIIII", 0, stamp >> 32, stamp & 0xFFFF_FFFF, len(packet.data),
                packet.wirelen) + packet.data))
        else:
            seconds, micros = divmod(stamp, 1_000_000)
            self._file.write(struct.pack("<IIII", seconds, micros, len(packet.data),
                                         packet.wirelen) + packet.data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
