"""BFD (RFC 5880; control packets on UDP ports 3784, 4784 and 6784, echo on 3785) as
``tcpdump -n`` 4.99 prints it: version, state and flags; -v adds the diagnostic, timers,
discriminators and the authentication section."""

from __future__ import annotations

from collections.abc import Callable

from .printer_words import LongJump, safe_text, unknown_data_lines

__all__ = ["bfd_text", "BFD_PORTS"]

BFD_PORTS = (3784, 4784, 6784, 3785)
_PORT_NAMES = {3784: "Control", 4784: "Multihop", 6784: "Lag"}
_DIAGNOSTICS = ("No Diagnostic", "Control Detection Time Expired", "Echo Function Failed",
                "Neighbor Signaled Session Down", "Forwarding Plane Reset", "Path Down",
                "Concatenated Path Down", "Administratively Down",
                "Reverse Concatenated Path Down")
_V0_FLAGS = ((0x80, "I Hear You"), (0x40, "Demand"), (0x20, "Poll"), (0x10, "Final"),
             (0x08, "Control Plane Independent"), (0x04, "Authentication Present"),
             (0x02, "Reserved"), (0x01, "Reserved"))
_V1_FLAGS = ((0x20, "Poll"), (0x10, "Final"), (0x08, "Control Plane Independent"),
             (0x04, "Authentication Present"), (0x02, "Demand"), (0x01, "Multipoint"))
_STATES = ("AdminDown", "Down", "Init", "Up")
_AUTH = {1: "Simple Password", 2: "Keyed MD5", 3: "Meticulous Keyed MD5", 4: "Keyed SHA1",
         5: "Meticulous Keyed SHA1"}


def _flags(table: tuple[tuple[int, str], ...], value: int) -> str:
    return ", ".join(word for bit, word in table if value & bit) or "none"


def bfd_text(data: bytes, length: int, verbose: int, port: int) -> str:
    """The text after the ports (LongJump where tcpdump leaves a cut packet)."""
    out: list[str] = []

    def need(at: int, size: int) -> bytes:
        if at + size > len(data):
            raise LongJump("".join(out), "bfd")
        return data[at:at + size]

    if port == 3785:
        out.append(f"BFD, Echo, length: {length}")
        if verbose:
            out.append(unknown_data_lines(data[:length], "\n\t"))
        return "".join(out)
    need(0, 24)
    version, diagnostic, flags = data[0] >> 5, data[0] & 0x1F, data[1]
    if version > 1:
        out.append(f"BFDv{version}, Control, length: {length}")
        if verbose:
            out.append(unknown_data_lines(data[:length], "\n\t"))
        return "".join(out)
    if version == 0:
        named = _flags(_V0_FLAGS, flags)
        if not verbose:
            return f"BFDv0, Control, Flags: [{named}], length: {length}"
        out.append(f"BFDv0, length: {length}\n\tControl, Flags: [{named}]")
    else:
        state = f"State {_STATES[flags >> 6]}, Flags: [{_flags(_V1_FLAGS, flags & 0x3F)}]"
        if not verbose:
            return f"BFDv1, {_PORT_NAMES[port]}, {state}, length: {length}"
        out.append(f"BFDv1, length: {length}\n\t{_PORT_NAMES[port]}, {state}")
    name = _DIAGNOSTICS[diagnostic] if diagnostic < len(_DIAGNOSTICS) else "unknown"
    out.append(f", Diagnostic: {name} (0x{diagnostic:02x})")
    multiplier = data[2]
    words = [int.from_bytes(data[at:at + 4], "big") for at in range(4, 24, 4)]
    mine, yours, tx, rx, echo = words
    out.append(f"\n\tDetection Timer Multiplier: {multiplier} "
               f"({(multiplier * tx & 0xFFFFFFFF) // 1000} ms Detection time), "
               f"BFD Length: {data[3]}")
    out.append(f"\n\tMy Discriminator: 0x{mine:08x}, Your Discriminator: 0x{yours:08x}")
    out.append(f"\n\t  Desired min Tx Interval:    {tx // 1000:4d} ms"
               f"\n\t  Required min Rx Interval:   {rx // 1000:4d} ms"
               f"\n\t  Required min Echo Interval: {echo // 1000:4d} ms")
    if flags & 0x04:
        _authentication(out, need)
    return "".join(out)


def _authentication(out: list[str], take: Callable[[int, int], bytes]) -> None:
    """The authentication section after the header (``take`` raises LongJump past the
    capture)."""
    kind, size = take(24, 4)[0], take(24, 4)[1]
    out.append(f"\n\tAuthentication: {_AUTH.get(kind, 'Unknown')} ({kind}), length: {size}")
    out.append(f"\n\t  Auth Key ID: {take(26, 1)[0]}")
    if kind == 1:
        if not 4 <= size <= 19:
            out.append(f"[invalid length {size}]")
            return
        out.append(", Password: ")
        for at in range(27, 27 + size - 3):   # every byte, NULs too
            out.append(safe_text(take(at, 1)))
    elif kind in (2, 3, 4, 5):
        digest, label = (16, "Digest") if kind in (2, 3) else (20, "Hash")
        if size != 8 + digest:
            out.append(f"[invalid length {size}]")
            return
        out.append(f", Sequence Number: 0x{int.from_bytes(take(28, 4), 'big'):08x}")
        out.append(f"\n\t  {label}: {take(32, digest).hex()}")
