"""What the block I/O tools share (biosnoop, biotop, bitesize, biopattern): the request
key the block tracepoints allow (device and start sector: they carry no request pointer),
the ``rwbs`` text packed into an integer by the BPF half, and disk names.
"""

from __future__ import annotations

from pybpf.lang import struct, u64
from pybpf.tools.biolatency import disk_name

__all__ = ["RequestKey", "rwbs_word", "rwbs_text", "is_write", "disk_name", "dev_numbers"]


class RequestKey(struct):
    dev: u64
    sector: u64


def rwbs_word(ctx):  # noqa: ANN001, ANN201 - compiled (inlined) into BPF programs
    """The first 8 characters of a block tracepoint's ``rwbs`` ("WS", "RA"...) as one u64."""
    return (u64(ctx.rwbs[0]) | (u64(ctx.rwbs[1]) << 8) | (u64(ctx.rwbs[2]) << 16)
            | (u64(ctx.rwbs[3]) << 24) | (u64(ctx.rwbs[4]) << 32)
            | (u64(ctx.rwbs[5]) << 40) | (u64(ctx.rwbs[6]) << 48)
            | (u64(ctx.rwbs[7]) << 56))


def rwbs_text(word: int) -> str:
    """:func:`rwbs_word`'s integer back as text."""
    return word.to_bytes(8, "little").split(b"\0", 1)[0].decode("ascii", "replace")


def is_write(word: int) -> bool:
    """Whether the request writes (BCC's ``T`` column ``W``): rwbs says W after an
    optional F (preflush)."""
    text = rwbs_text(word).lstrip("F")
    return text[:1] in ("W", "D", "E")


def dev_numbers(dev: int) -> tuple[int, int]:
    """(major, minor) of the kernel's ``dev_t`` (major << 20 | minor)."""
    return dev >> 20, dev & 0xFFFFF
