"""802.2 LLC and SNAP as tcpdump 4.99.3 prints them (print-llc.c): the frame's SAPs and
control field, then what SNAP, STP or IP carry, which the calling printer prints."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Protocol

from .printer_cdp import cdp_text
from .printer_ipx import ipx_text
from .printer_stp import stp_text
from .printer_words import ETHERTYPES, OUI_NAMES, LongJump, etype_text, hex_dump

if TYPE_CHECKING:
    from .printer import PrintOptions

__all__ = ["llc_text"]

_SAPS = {0x00: "Null", 0xFF: "Global", 0x02: "802.1B I", 0x03: "802.1B G", 0x06: "IP",
         0x04: "SNA", 0x0E: "ProWay NM", 0x42: "STP", 0x4E: "RS511", 0x7E: "ISO8208",
         0x8E: "ProWay", 0xAA: "SNAP", 0xE0: "IPX", 0xF0: "NetBeui", 0xFE: "OSI"}
_LLC_U = {0x03: "ui", 0x6F: "sabme", 0x43: "disc", 0x63: "ua", 0x0F: "dm", 0xAF: "xid",
          0xE3: "test", 0x87: "frmr"}
_SNAP_PIDS = {(0x00000C, 0x2000): "CDP", (0x00000C, 0x2003): "VTP",
              (0x00000C, 0x010B): "PVST"}


def _snap_pid(oui: int, pid: int) -> str:
    """A SNAP protocol id's name in its organisation's table (EtherTypes for two)."""
    if oui in (0, 0xF8, 0x080007):   # Apple's OUI names its ids as EtherTypes too
        return ETHERTYPES.get(pid, "Unknown")
    return _SNAP_PIDS.get((oui, pid), "Unknown")


class Host(Protocol):
    """What LLC asks of the printer it is part of: its options, the network layer and
    tcpdump's dump of what it does not decode."""

    options: PrintOptions

    def _unknown(self, data: bytes) -> str: ...

    def _ipv4(self, packet: bytes, length: int, *, prefix: bool) -> str: ...

    def _ethertype(self, etype: int, payload: bytes, length: int, frame: bytes,
                   offset: int, *, prefix: bool | None = None) -> str | None: ...


def llc_text(printer: Host, llc: bytes, length: int, src: str,
             dst: str) -> tuple[str, int]:
    """An 802.2 frame: its text, and the bytes of LLC (and SNAP) header (which -x
    counts as link layer)."""
    e = printer.options.link_header
    if len(llc) < 3 or length < 3:
        return " [|llc]" + hex_dump(llc, ascii_too=True), min(len(llc), length)
    dsap_field, ssap_field, control = llc[0], llc[1], llc[2]
    size = 3
    if control & 3 != 3:   # I and S frames have a 2-byte control field
        if len(llc) < 4 or length < 4:
            return " [|llc]" + hex_dump(llc, ascii_too=True), min(len(llc), length)
        control |= llc[3] << 8
        size = 4
    if dsap_field == 0xFF and ssap_field == 0xFF:   # Novell's raw 802.3: IPX, no LLC
        return _ipx("IPX 802.3: " if e else "", llc, e), 0
    dsap, ssap = dsap_field & 0xFE, ssap_field & 0xFE
    head = ""
    if e:
        head = (f"LLC, dsap {_SAPS.get(dsap, 'Unknown')} (0x{dsap:02x}) "
                f"{'Group' if dsap_field & 1 else 'Individual'}, ssap "
                f"{_SAPS.get(ssap, 'Unknown')} (0x{ssap:02x}) "
                f"{'Response' if ssap_field & 1 else 'Command'}, ctrl "
                + (f"0x{control:02x}: " if size == 3 else f"0x{control:04x}: "))
    if dsap == ssap == 0xAA and control == 0x03:
        return _snap_text(printer, llc, length, src, dst, head)
    if dsap == ssap == 0x42 and control == 0x03:
        return head + stp_text(llc[3:], length - 3, printer.options.verbose), 3
    if dsap == ssap == 0x06 and control == 0x03:
        return head + printer._ipv4(llc[3:], length - 3, prefix=not e), 3
    if dsap == ssap == 0xE0 and control == 0x03:
        return head + _ipx("IPX 802.2: " if e else "", llc[3:], e), 3
    text = head
    if not e:
        if ssap == dsap:
            text = f"{src} > {dst} {_SAPS.get(dsap, f'Unknown DSAP 0x{dsap:02x}')} "
        else:
            text = (f"{src} {_SAPS.get(ssap, f'Unknown SSAP 0x{ssap:02x}')} > {dst} "
                    f"{_SAPS.get(dsap, f'Unknown DSAP 0x{dsap:02x}')} ")
    response = ssap_field & 1
    if size == 3:
        flags = {0: "Command", 1: "Response", 0x10: "Poll", 0x11: "Final"}[
            response | (control & 0x10)]
        command = _LLC_U.get(control & 0xEF, f"{control & 0xEF:02x}")
        text += f"Unnumbered, {command}, Flags [{flags}], length {length}"
        if control & ~0x10 == 0xAF and length > 3:   # XID
            if len(llc) < 4:
                return text + " [|llc]", 3
            if llc[3] == 0x81:
                if len(llc) < 6 or length < 6:
                    return text + " [|llc]" + hex_dump(llc[3:], ascii_too=True), 3
                return text + f": {llc[4]:02x} {llc[5]:02x}", 3
        elif control & ~0x10 == 0xAF:
            return text, 3
        return text + printer._unknown(llc[:length]), 3
    flags = {0: "Command", 1: "Response", 0x100: "Poll", 0x101: "Final"}[
        response | (control & 0x100)]
    if control & 1:
        kind = {0: "Receiver Ready", 1: "Receiver not Ready", 2: "Reject"}.get(
            (control >> 2) & 3, "?")
        return (text + f"Supervisory, {kind}, rcv seq {(control >> 9) & 0x7F}, Flags "
                f"[{flags}], length {length}"), 4
    return (text + f"Information, send seq {(control >> 1) & 0x7F}, rcv seq "
            f"{(control >> 9) & 0x7F}, Flags [{flags}], length {length}"
            + printer._unknown(llc[:length])), 4

def _ipx(label: str, packet: bytes, link_header: bool) -> str:
    """IPX in an 802.3 frame (a cut leaves the packet, as tcpdump does)."""
    try:
        return label + ipx_text(packet, link_header)
    except LongJump as jump:
        return label + jump.text + f" [|{jump.proto}]"


def _snap_text(printer: Host, llc: bytes, length: int, src: str, dst: str,
               head: str) -> tuple[str, int]:
    """The SNAP header after LLC: an EtherType, or an organisation's protocol."""
    e = printer.options.link_header
    if len(llc) < 8 or length < 8:
        return head + " [|snap]", 3
    oui = int.from_bytes(llc[3:6], "big")
    pid = struct.unpack_from("!H", llc, 6)[0]
    if e:
        kind = ("ethertype " + etype_text(pid) if oui == 0 else
                f"pid {_snap_pid(oui, pid)} (0x{pid:04x})")
        head += (f"oui {OUI_NAMES.get(oui, 'Unknown')} (0x{oui:06x}), {kind}, "
                 f"length {length - 8}: ")
    if oui in (0, 0xF8) or (oui, pid) == (0x080007, 0x809B):   # Apple's own OUI for DDP
        body = printer._ethertype(pid, llc[8:], length - 8, llc, 8)
        if body is not None:
            return head + body, 8
    if (oui, pid) == (0x00000C, 0x2000):
        return head + cdp_text(llc[8:], length - 8, printer.options.verbose), 8
    # tcpdump dumps an unknown payload from the LLC header on
    dump = printer._unknown(llc[:length])
    if e:
        return head + dump, 8
    if oui == 0:
        return (f"{src} > {dst} SNAP, ethertype {etype_text(pid)}, length {length - 8}: "
                + dump), 8
    text = (f"oui {OUI_NAMES.get(oui, 'Unknown')} (0x{oui:06x}), pid "
            f"{_snap_pid(oui, pid)} (0x{pid:04x}), length {length - 8}")
    return f"{src} > {dst} SNAP, {text}: " + dump, 8
