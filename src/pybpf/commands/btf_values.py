"""Bytes of a BTF-typed value as plain Python data (for printing as JSON), like bpftool's
``formatted`` output of a map with BTF.

Integers and enums become ints (an enum value that has a name becomes the name), ``bool``
becomes ``True``/``False``, ``char[N]`` a string up to its first NUL, arrays lists, structs
and unions dicts by member name (anonymous members are merged into their parent, bitfields
are extracted), pointers ints, anything else (``void``, functions) hex text.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

from ..btf import Array, Enum, Float, Int, Ptr, Struct, Union, sizeof, skip_qualifiers
from ..btf.types import IntEncoding
from ..errors import BTFError

__all__ = ["btf_to_python", "hex_bytes"]

_BYTE_ORDER = sys.byteorder


def hex_bytes(data: bytes) -> str:
    """``01 00 00 00``: bytes as bpftool prints a raw key or value."""
    return " ".join(f"{b:02x}" for b in data)


def btf_to_python(t: Any, data: bytes) -> Any:
    """``data`` (at least ``sizeof(t)`` bytes) decoded as BTF type ``t``; never raises for
    short data (what is missing reads as zero)."""
    t = skip_qualifiers(t)
    if isinstance(t, Int):
        value = int.from_bytes(data[:t.size].ljust(t.size, b"\0"), _BYTE_ORDER,
                               signed=t.signed)
        if t.bits != t.size * 8 or t.offset:
            value = _bits(value, t.offset, t.bits, t.signed, t.size)
        return bool(value) if t.encoding & IntEncoding.BOOL else value
    if isinstance(t, Enum):
        value = int.from_bytes(data[:t.size].ljust(t.size, b"\0"), _BYTE_ORDER,
                               signed=bool(t.signed))
        names = {v.value: v.name for v in t.values}
        return names.get(value, value)
    if isinstance(t, Float) and t.size in (4, 8):
        return struct.unpack("=f" if t.size == 4 else "=d", data[:t.size].ljust(t.size, b"\0"))[0]
    if isinstance(t, Ptr):
        return int.from_bytes(data[:8].ljust(8, b"\0"), _BYTE_ORDER)
    if isinstance(t, Array):
        element = skip_qualifiers(t.type)
        step = sizeof(element) if t.nelems else 0
        if isinstance(element, Int) and element.size == 1 and \
                (element.encoding & IntEncoding.CHAR or element.name == "char"):
            raw = data[:t.nelems]
            return raw.split(b"\0", 1)[0].decode(errors="replace")
        return [btf_to_python(element, data[i * step:(i + 1) * step]) for i in range(t.nelems)]
    if isinstance(t, (Struct, Union)):
        out: dict[str, Any] = {}
        for member in t.members:
            start = member.bit_offset // 8
            if member.bitfield_size:
                mtype = skip_qualifiers(member.type)
                size = getattr(mtype, "size", 4)
                raw = int.from_bytes(data[start:start + size].ljust(size, b"\0"), _BYTE_ORDER)
                signed = bool(getattr(mtype, "signed", False))
                value = _bits(raw, member.bit_offset % 8, member.bitfield_size, signed, size)
            else:
                value = btf_to_python(member.type, data[start:start + sizeof(member.type)])
            if not member.name and isinstance(value, dict):
                out.update(value)
            else:
                out[member.name or f"<anon@{start}>"] = value
        return out
    size = _safe_size(t, len(data))
    return hex_bytes(data[:size])


def _bits(raw: int, bit_offset: int, bits: int, signed: bool, size: int) -> int:
    """``bits`` bits at ``bit_offset`` of a little-endian integer (big-endian counts from the
    top, as C compilers lay out bitfields there)."""
    if _BYTE_ORDER == "big":
        bit_offset = size * 8 - bit_offset - bits
    value = (raw >> bit_offset) & ((1 << bits) - 1)
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _safe_size(t: Any, default: int) -> int:
    try:
        return sizeof(t)
    except BTFError:  # void, functions: no size
        return default
