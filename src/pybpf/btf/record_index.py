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
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate
from mmap import mmap
from typing import NamedTuple

from . import layout

__all__ = ["RecordIndex"]

Buffer = bytes | mmap  # what a BTF blob or a stored index is read from

_FIELDS = 6
_MAGIC = b"pybpf-btfidx-03\n"  # 16 bytes: with the counts, the arrays start 8-aligned


def _sorted_pairs(pairs: Iterable[int]) -> tuple[array[int], array[int]]:
    """Sort ``high << 32 | low`` ints; return the highs and the lows, in that order."""
    packed = array("Q", sorted(pairs))
    halves = memoryview(packed).cast("B").cast("I")
    little = sys.byteorder == "little"
    return array("I", halves[1::2] if little else halves[0::2]), \
        array("I", halves[0::2] if little else halves[1::2])


def _flavored(strings: bytes) -> array[int]:
    """Offsets of the strings holding ``___`` (few in a kernel: one find each)."""
    found = array("I")
    pos = strings.find(b"___")
    while pos >= 0:
        start = strings.rfind(b"\0", 0, pos) + 1
        found.append(start)
        pos = strings.find(b"___", strings.find(b"\0", pos))
        if pos < 0:
            break
    return found


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
        # pairs are sorted as single ints (key << 32 | value), far quicker than sorting
        # indexes by a key function, then split into their two halves
        name_of = map(words.__getitem__, offsets)
        names, named = _sorted_pairs(n << 32 | i for i, n in enumerate(name_of))
        parts = strings.split(b"\0")
        starts = accumulate((len(p) + 1 for p in parts), initial=0)
        hashes, at = _sorted_pairs(zlib.crc32(p) << 32 | s
                                   for p, s in zip(parts, starts, strict=False))
        return cls(offsets=offsets, names=names, named=named, hashes=hashes, strings=at,
                   flavored=_flavored(strings))

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
