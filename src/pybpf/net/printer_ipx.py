"""IPX packets (Novell's IPX, and its SAP and RIP services) as ``tcpdump -n`` 4.99 prints
them, wherever they are carried (Ethernet II's EtherType 0x8137, PPP's protocol 0x2b):
network.node.socket addresses, then the service on the destination socket.

tcpdump leaves the whole packet at the first field beyond the capture (`` [|ipx]``),
having printed what it had; SAP's server names are printed byte by byte up to a NUL."""

from __future__ import annotations

from .printer_words import Words, mac, safe_text

__all__ = ["ipx_text"]

_HEADER = 30
_SOCKETS = {0x0451: "ipx-ncp", 0x0455: "ipx-netbios", 0x0456: "ipx-diags",
            0x0553: "ipx-nwlink-dgm"}


class _Out(Words):
    """The words printed so far, and the captured bytes they come from."""

    def address(self, at: int) -> str:
        self.get(at, 10)
        return f"{self.get(at, 4):08x}.{mac(self.data[at + 4:at + 10])}"

    def command(self, at: int, length: int) -> int | None:
        """The two-byte command of SAP and RIP (None: the message is shorter)."""
        command = self.get(at, 2)
        if length < 2:
            self.add(f" [length {length} < 2] (invalid)")
            return None
        return command


def ipx_text(data: bytes, link_header: bool) -> str:
    """The text for an IPX packet (LongJump at a cut: tcpdump abandons the packet)."""
    out = _Out(data, "ipx")
    words = out.words
    if not link_header:
        words.append("IPX ")
    words.append(f"{out.address(18)}.{out.get(28, 2):04x} > ")
    words.append(f"{out.address(6)}.{out.get(16, 2):04x}: ")
    length = out.get(2, 2)
    if length < _HEADER:
        words.append(f"[length {length} < {_HEADER}] (invalid)")
        return "".join(words)
    socket, length = out.get(16, 2), length - _HEADER
    if socket == 0x0452:
        _sap(out, _HEADER, length)
    elif socket == 0x0453:
        _rip(out, _HEADER, length)
    elif socket in _SOCKETS:
        words.append(f"{_SOCKETS[socket]} {length}")
    else:
        words.append(f"ipx-#{socket:x} {length}")
    return "".join(words)


def _sap(out: _Out, at: int, length: int) -> None:
    command = out.command(at, length)
    if command is None:
        return
    at, length = at + 2, length - 2
    if command in (1, 3):
        out.words.append("ipx-sap-req" if command == 1 else "ipx-sap-nearest-req")
        out.words.append(f" {out.get(at, 2):04x}")
    elif command in (2, 4):
        out.words.append("ipx-sap-resp" if command == 2 else "ipx-sap-nearest-resp")
        for _ in range(8):
            if not length:
                break
            service = out.get(at, 2)
            if length < 2:
                out.words.append(" (invalid)")
                return
            out.words.append(f" {service:04x} '")
            at, length = at + 2, length - 2
            if length < 48:
                out.words.append("' (invalid)")
                return
            for i in range(48):   # the server's name, up to its NUL
                byte = out.get(at + i, 1)
                if not byte:
                    break
                out.words.append(safe_text(bytes([byte])))
            out.words.append("'")
            at, length = at + 48, length - 48
            out.get(at, 10)
            if length < 10:
                out.words.append(" (invalid)")
                return
            out.words.append(f" addr {out.address(at)}")
            at, length = at + 10, length - 10
            out.get(at, 4)        # its socket and hop count, not printed
            if length < 4:
                out.words.append(" (invalid)")
                return
            at, length = at + 4, length - 4
    else:
        out.words.append(f"ipx-sap-?{command:x}")


def _rip(out: _Out, at: int, length: int) -> None:
    command = out.command(at, length)
    if command is None:
        return
    at, length = at + 2, length - 2
    if command not in (1, 2):
        out.words.append(f"ipx-rip-?{command:x}")
        return
    out.words.append("ipx-rip-req" if command == 1 else "ipx-rip-resp")
    for _ in range(1 if command == 1 else 50):
        if not length:
            return
        if length < 8:
            out.words.append(" (invalid)")
            return
        network, hops, ticks = out.get(at, 4), out.get(at + 4, 2), out.get(at + 6, 2)
        out.words.append(f" {network:08x}/{hops}.{ticks}")
        at, length = at + 8, length - 8
