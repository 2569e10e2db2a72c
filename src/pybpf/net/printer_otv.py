"""Cisco's Overlay Transport Virtualization (draft-hasmit-otv-04) on UDP port 8472 as
``tcpdump -n`` 4.99 prints it: its flags, overlay and instance, then the Ethernet frame
it carries on a line of its own. Each field is read in turn: a cut keeps the words
printed before it, then `` [|otv]``."""

from __future__ import annotations

from collections.abc import Callable

from .printer_words import LongJump, Words

__all__ = ["otv_text"]

_HEADER = 8


def otv_text(data: bytes, length: int, ethernet: Callable[[bytes, int], str]) -> str:
    """The text after the ports; ``ethernet`` prints the frame inside."""
    out = Words(data, "otv")
    out.add("OTV, ")
    try:
        if length < _HEADER:
            out.add(f"[length {length} < {_HEADER}] (invalid)")
            out.get(0, length)
            return out.text()
        flags = out.get(0)
        out.add(f"flags [{'I' if flags & 0x08 else '.'}] (0x{flags:02x}), ")
        out.add(f"overlay {out.get(1, 3)}, ")
        out.add(f"instance {out.get(4, 3)}\n")
        out.get(7)
    except LongJump as jump:
        return jump.text + " [|otv]"
    return out.text() + ethernet(data[_HEADER:], length - _HEADER)
