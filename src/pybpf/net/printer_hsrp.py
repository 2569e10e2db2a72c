"""Cisco's HSRP version 1 (RFC 2281) on UDP port 1985 as ``tcpdump -n`` 4.99 prints it:
opcode, state, group and virtual address; -v adds the timers, priority and the
authentication text. Fields are read in turn: a cut keeps what came before it."""

from __future__ import annotations

from .printer_words import LongJump, ip4, relative_time, safe_text

__all__ = ["hsrp_text"]

_OPCODES = ("hello", "coup", "resign")
_STATES = {0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"}


def hsrp_text(data: bytes, length: int, verbose: int) -> str:
    """The text after the ports (LongJump at a cut: tcpdump leaves the packet)."""
    out: list[str] = []

    def get(at: int, size: int = 1) -> int:
        if at + size > len(data):
            raise LongJump("".join(out), "hsrp")
        return int.from_bytes(data[at:at + size], "big")

    version = get(0)
    out.append(f"HSRPv{version}")
    if version:
        return "".join(out)
    out.append("-")
    op = get(1)
    out.append((_OPCODES[op] if op < len(_OPCODES) else f"unknown ({op})") + " ")
    out.append(f"{length}: ")
    state = get(2)
    out.append(f"state={_STATES.get(state, f'Unknown ({state})')} ")
    out.append(f"group={get(6)} ")
    if get(7):
        out.append(f"[reserved={get(7)}!] ")
    get(16, 4)
    out.append(f"addr={ip4(data[16:20])}")
    if verbose:
        out.append(f" hellotime={relative_time(get(3))}")
        out.append(f" holdtime={relative_time(get(4))}")
        out.append(f" priority={get(5)}")
        out.append(' auth="')
        for at in range(8, 16):   # zero-padded text, printed up to its first NUL
            byte = get(at)
            if not byte:
                break
            out.append(safe_text(bytes([byte])))
        out.append('"')
    return "".join(out)
