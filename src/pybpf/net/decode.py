"""One line per Ethernet frame, in the shape of tcpdump's default output with ``-n``.

``PacketPrinter().line(frame, wirelen, timestamp_us)`` gives e.g.::

    12:34:56.789012 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1, win 64240, length 0

A convenience over :class:`~pybpf.net.printer.Printer` (which has every link type and
tcpdump's printing flags) for Ethernet with default options; one printer per capture, as it
keeps TCP connection state for relative sequence numbers.
"""

from __future__ import annotations

import time

from ..pcap import PcapPacket
from .printer import Printer, PrintOptions

__all__ = ["PacketPrinter", "format_timestamp"]


def format_timestamp(timestamp_us: int) -> str:
    """``HH:MM:SS.uuuuuu`` in local time, as tcpdump prints it."""
    seconds, micros = divmod(timestamp_us, 1_000_000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{micros:06d}"


class PacketPrinter:
    """Formats Ethernet frames one by one (``absolute_seq=True`` is tcpdump's ``-S``)."""

    def __init__(self, *, absolute_seq: bool = False) -> None:
        self.absolute_seq = absolute_seq
        self._printer = Printer(1, PrintOptions(absolute_seq=absolute_seq))

    def line(self, frame: bytes, wirelen: int | None = None, timestamp_us: int = 0) -> str:
        """The tcpdump-style text (timestamp first) for one captured Ethernet frame."""
        packet = PcapPacket(frame, len(frame) if wirelen is None else wirelen, timestamp_us)
        return self._printer.format(packet)

    def describe(self, frame: bytes, wirelen: int | None = None) -> str:
        """The text without its timestamp."""
        return self._printer.describe(frame, wirelen)[0]
