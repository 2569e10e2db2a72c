"""What a name lookup in a large BTF needs, precomputed once and kept (see index_cache).

A BTF blob lists records one after another with no table of where each starts, and names
them by offsets into a string section with no table of its own. Finding ``task_struct`` in
the kernel's 100k+ records therefore means walking every record (where does id N start?)
and scanning 2 MB of strings (at which offset is the name?). A :class:`RecordIndex` holds
the answers as sorted arrays, so a lookup is a few binary searches:

- ``offsets``: the word offset of each record (the walk's result);
- ``names`` / ``named``: every record's name offset, sorted, beside the record's index
  (a name's records are a contiguous run, in id order);
- ``hashes`` / ``strings``: the CRC-32 of every string, sorted, beside its offset (equal
  hashes are told apart by comparing the strings themselves);
- ``flavored``: the offsets of strings holding ``___`` (CO-RE's flavored names, rare in a
  kernel), for :meth:`pybpf.btf.Spec.flavors_of`.

Building one costs a walk plus a few sorts (tens of ms for vmlinux, once); reading one back
costs about a millisecond.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate
from mmap import mmap
from typing import NamedTuple

from . import layout

__all__ = ["RecordIndex"]

Buffer = bytes | mmap  # what a BTF blob or a stored index is read from

_FIELDS = 6
_MAGIC = b"pybpf-btfidx-03\n"  # 16 bytes: with the counts, the arrays start 8-aligned


class RecordIndex(NamedTuple):
    """See the module docstring."""

    offsets: Sequence[int]
    names: Sequence[int]
    named: Sequence[int]
    hashes: Sequence[int]
    strings: Sequence[int]
    flavored: Sequence[int]

    @classmethod
    def build(cls, offsets: Sequence[int], words: Sequence[int], strings: bytes) -> RecordIndex:
        """The index of records at ``offsets`` in ``words`` whose string section is
        ``strings`` (offset 0 = its first byte)."""
        name_of = array("I", map(words.__getitem__, offsets))
        order = sorted(range(len(name_of)), key=name_of.__getitem__)
        parts = strings.split(b"\0")
        starts = list(accumulate((len(p) + 1 for p in parts), initial=0))[:-1]
        hashes = list(map(zlib.crc32, parts))
        by_hash = sorted(range(len(parts)), key=hashes.__getitem__)
        return cls(
            offsets=offsets,
            names=array("I", map(name_of.__getitem__, order)),
            named=array("I", order),
            hashes=array("I", map(hashes.__getitem__, by_hash)),
            strings=array("I", map(starts.__getitem__, by_hash)),
            flavored=array("I", (s for s, p in zip(starts, parts, strict=True)
                                 if b"___" in p)),
        )

    def records_named(self, name_off: int) -> list[int]:
        """Indexes (not ids) of the records whose name is at ``name_off``, ascending."""
        lo = bisect_left(self.names, name_off)
        hi = bisect_right(self.names, name_off, lo)
        return list(self.named[lo:hi])

    def string_offsets(self, needle: bytes, strings: Buffer, base: int = 0) -> list[int]:
        """Offsets of every string equal to ``needle``; ``strings`` is the blob holding the
        section at index ``base``."""
        h = zlib.crc32(needle)
        lo = bisect_left(self.hashes, h)
        hi = bisect_right(self.hashes, h, lo)
        end = len(needle)
        found = []
        for off in self.strings[lo:hi]:
            at = base + off
            if strings[at:at + end] == needle and strings[at + end:at + end + 1] == b"\0":
                found.append(off)
        return sorted(found)

    def fits(self, words: Sequence[int]) -> bool:
        """A cheap check that this index belongs to ``words``: the arrays agree in length
        and the last record ends exactly at the end of the section (a full check would cost
        the walk it replaces)."""
        offsets = self.offsets
        if len(self.names) != len(offsets) or len(self.named) != len(offsets):
            return False
        if len(self.hashes) != len(self.strings):
            return False
        if not offsets:
            return not words
        last = offsets[-1]
        if last + 1 >= len(words):
            return False
        info = words[last + 1]
        kind = info >> 24 & 0x1F
        if kind > layout.MAX_KIND:
            return False
        step = 3 + layout.FIXED_WORDS[kind] + (info & 0xFFFF) * layout.ENTRY_WORDS[kind]
        return bool(last + step == len(words))

    def to_bytes(self) -> bytes:
        counts = struct.pack(f"<{_FIELDS}I", *(len(a) for a in self))
        return _MAGIC + counts + b"".join(array("I", a).tobytes() for a in self)

    @classmethod
    def from_buffer(cls, blob: Buffer) -> RecordIndex | None:
        """The index :meth:`to_bytes` wrote, viewed in place (no copy: ``blob`` may be a
        mapped file), or None when ``blob`` is not one."""
        head = len(_MAGIC) + 4 * _FIELDS
        if len(blob) < head or blob[:len(_MAGIC)] != _MAGIC:
            return None
        counts = struct.unpack_from(f"<{_FIELDS}I", blob, len(_MAGIC))
        if head + 4 * sum(counts) != len(blob):
            return None
        view = memoryview(blob)
        arrays = []
        at = head
        for n in counts:
            arrays.append(view[at:at + 4 * n].cast("I"))
            at += 4 * n
        return cls(*arrays)
