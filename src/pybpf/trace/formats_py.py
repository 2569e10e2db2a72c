"""C printf formatting of decoded values, for the runtime's own uses (system(), cat()
paths) and the stand-in printer."""

from __future__ import annotations

from typing import Any

from .formats import conversions

__all__ = ["c_format"]


def c_format(fmt: str, values: list[Any]) -> str:
    out, last, i = [], 0, 0
    for start, end, flags, width, prec, conv in conversions(fmt):
        out.append(fmt[last:start])
        last = end
        if conv == "%":
            out.append("%")
            continue
        v = values[i] if i < len(values) else 0
        i += 1
        spec = "%" + flags + width + ("." + prec if prec else "")
        if conv in "di":
            out.append((spec + "d") % int(v))
        elif conv == "u":
            out.append((spec + "d") % (int(v) & (1 << 64) - 1))
        elif conv in "xXo":
            out.append((spec + conv) % (int(v) & (1 << 64) - 1))
        elif conv == "c":
            out.append((spec + "c") % chr(int(v) & 0xFF))
        elif conv == "p":
            out.append((spec + "s") % hex(int(v)))
        else:
            out.append((spec + "s") % (v if isinstance(v, str) else str(v)))
    out.append(fmt[last:])
    return "".join(out)
