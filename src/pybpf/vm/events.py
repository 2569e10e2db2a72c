"""Maps that carry events out of the program: the ring buffer and the perf event array.

:class:`RingBufMap` follows BPF_MAP_TYPE_RINGBUF: a program reserves a record (a pointer to
fresh memory it may fill), then submits or discards it; ``bpf_ringbuf_output`` copies and
submits in one step. Records are read from Python in reservation order, like the kernel's
consumer: :meth:`RingBufMap.read` returns the submitted records up to the first one still
reserved (busy), skipping discarded ones. Space is accounted as the kernel does (an 8-byte
header plus the data rounded up to 8), so a full ring makes reserve return NULL.

Records written by native code (the LLVM tier's bpf_ringbuf_output) go straight into the
ring's *native area* (:meth:`RingBufMap.native_place`), laid out as the kernel's ring is:
an 8-byte header (the length) and the data rounded up to 8, one after the other. They
always follow the records held as Python objects: a reservation from Python first takes
them over (in order), and :meth:`RingBufMap.read` reads them in place after those.

:class:`PerfEventArrayMap` follows BPF_MAP_TYPE_PERF_EVENT_ARRAY: bpf_perf_event_output
appends ``(cpu, bytes)`` to the list of the CPU given by its flags (BPF_F_CURRENT_CPU for the
running one); :meth:`PerfEventArrayMap.read` drains them. Each slot is *opened* (a reader's
perf event sits there) or not, as in the kernel: output to an empty slot is -ENOENT, and to
another CPU's event -EOPNOTSUPP (a perf event bound to CPU n only takes output on CPU n).
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..spec import MapType
from .errors import MapError
from .maps import VMMap

RINGBUF_HEADER_BYTES = 8       # BPF_RINGBUF_HDR_SZ
BPF_F_CURRENT_CPU = 0xFFFFFFFF
BPF_F_INDEX_MASK = 0xFFFFFFFF
# the words of a ring's native place, which native code reads and writes: bytes in use
# (every record not read yet, Python's and native), the ring's size, the native area's
# host address (0 until made), where its records end and how many it holds
RING_PLACE_FIELDS = ("used", "max_entries", "area", "end", "count")
_USED, _SIZE, _AREA, _END, _COUNT = range(len(RING_PLACE_FIELDS))
_LENGTH = struct.Struct("<I")  # a native record's header starts with its length


@dataclass(eq=False)
class RingRecord:
    """One reservation: its live bytes and state (``busy`` until submitted or discarded)."""

    data: bytearray
    busy: bool = True
    discarded: bool = False


class RingBufMap(VMMap):
    """BPF_MAP_TYPE_RINGBUF of ``max_entries`` bytes (a power of two, as the kernel wants)."""

    type = MapType.RINGBUF

    def __init__(self, name: str, *, key_size: int = 0, value_size: int = 0,
                 max_entries: int):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self._records: list[RingRecord] = []
        self._place = (ctypes.c_uint64 * len(RING_PLACE_FIELDS))()
        self._place[_SIZE] = max_entries
        self._area: mmap.mmap | None = None

    @property
    def _used_bytes(self) -> int:
        return self._place[_USED]

    @_used_bytes.setter
    def _used_bytes(self, value: int) -> None:
        self._place[_USED] = value

    def native_place(self) -> int:
        """The address of the ring's place (RING_PLACE_FIELDS) for native producers,
        its native area made first: ``max_entries`` bytes (the records not read yet never
        take that much; the pages come as they are written)."""
        if self._area is None:
            self._area = mmap.mmap(-1, self.max_entries)
            self._place[_AREA] = ctypes.addressof(ctypes.c_char.from_buffer(self._area))
        return ctypes.addressof(self._place)

    def _native_records(self) -> list[bytes]:
        """The records of the native area, which is emptied (their bytes stay in use)."""
        end = self._place[_END]
        if not end:
            return []
        assert self._area is not None
        area, at = self._area, 0
        out: list[bytes] = []
        append, length = out.append, _LENGTH.unpack_from
        while at < end:
            (size,) = length(area, at)
            at += RINGBUF_HEADER_BYTES
            append(area[at:at + size])
            at += (size + 7) & -8
        self._place[_END] = self._place[_COUNT] = 0
        return out

    def _take_native(self) -> None:
        """The native area's records become Python ones (before Python reserves after
        them), in their order."""
        for data in self._native_records():
            self._records.append(RingRecord(bytearray(data), busy=False))

    def _sizes_valid(self, key_size: int, value_size: int, max_entries: int) -> bool:
        return (key_size == 0 and value_size == 0 and max_entries > 0
                and max_entries & (max_entries - 1) == 0)

    @staticmethod
    def _footprint(size: int) -> int:
        return RINGBUF_HEADER_BYTES + (size + 7) // 8 * 8

    # --- program side ---

    def reserve(self, size: int) -> RingRecord | None:
        """A fresh busy record of ``size`` bytes (0 too, as in the kernel), or None when the
        ring has no room: like the kernel's, the ring never fills up completely (its
        producer stays less than ``max_entries`` bytes ahead of the consumer)."""
        if size < 0 or self._used_bytes + self._footprint(size) >= self.max_entries:
            return None
        self._take_native()
        record = RingRecord(bytearray(size))
        self._records.append(record)
        self._used_bytes += self._footprint(size)
        return record

    def commit(self, record: RingRecord, *, discard: bool) -> None:
        record.busy = False
        record.discarded = discard

    def output(self, data: bytes) -> int:
        """bpf_ringbuf_output: 0, or -EAGAIN when full (the kernel's errno)."""
        record = self.reserve(len(data))
        if record is None:
            return -errno.EAGAIN
        record.data[:] = data
        self.commit(record, discard=False)
        return 0

    @property
    def available_bytes(self) -> int:
        """Bytes of records not read yet (BPF_RB_AVAIL_DATA)."""
        return self._used_bytes

    # --- Python side: the consumer ---

    def read(self) -> list[bytes]:
        """Every submitted record in order, up to the first busy one; they leave the ring."""
        out = []
        while self._records and not self._records[0].busy:
            record = self._records.pop(0)
            self._used_bytes -= self._footprint(len(record.data))
            if not record.discarded:
                out.append(bytes(record.data))
        if not self._records:  # the native area's records follow: read in place
            end = self._place[_END]
            out += self._native_records()
            self._used_bytes -= end
        return out

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.read())

    def __len__(self) -> int:
        return (sum(1 for r in self._records if not r.busy and not r.discarded)
                + self._place[_COUNT])

    def value_buffer(self, key: bytes) -> bytearray | None:
        return None

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return -errno.EINVAL

    def delete_from_program(self, key: bytes) -> int:
        return -errno.EINVAL

    def keys(self) -> Iterator[bytes]:
        return iter(())


class PerfEventArrayMap(VMMap):
    """BPF_MAP_TYPE_PERF_EVENT_ARRAY: one event list per CPU index.

    ``opened`` lists the slots with a reader (default: every slot, as a reader on all CPUs
    leaves it); :meth:`open_cpu`/:meth:`close_cpu` change that, like a reader adding or removing
    its perf event fd for one CPU.
    """

    type = MapType.PERF_EVENT_ARRAY

    def __init__(self, name: str, *, key_size: int = 4, value_size: int = 4,
                 max_entries: int = 1, opened: Iterable[int] | None = None):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self._events: list[tuple[int, bytes]] = []
        self.opened: set[int] = set(range(max_entries) if opened is None else opened)

    def open_cpu(self, cpu: int) -> None:
        """A reader for ``cpu`` is there: output on that CPU is kept."""
        if not 0 <= cpu < self.max_entries:
            raise MapError(f"cpu {cpu} is outside the map (max_entries {self.max_entries})",
                           map_name=self.name, errno=errno.E2BIG)
        self.opened.add(cpu)

    def close_cpu(self, cpu: int | None = None) -> None:
        """No reader for ``cpu`` any more (every slot when None): output there is -ENOENT."""
        if cpu is None:
            self.opened.clear()
        else:
            self.opened.discard(cpu)

    def output(self, flags: int, cpu: int, data: bytes) -> int:
        """bpf_perf_event_output on CPU ``cpu``: 0, -EINVAL for bad flags, -E2BIG past
        max_entries, -ENOENT for a slot without reader, -EOPNOTSUPP for another CPU's."""
        if flags & ~BPF_F_INDEX_MASK & ((1 << 64) - 1):
            return -errno.EINVAL
        index = flags & BPF_F_INDEX_MASK
        if index == BPF_F_CURRENT_CPU:
            index = cpu
        if index >= self.max_entries:
            return -errno.E2BIG
        if index not in self.opened:
            return -errno.ENOENT
        if index != cpu:
            return -errno.EOPNOTSUPP
        self._events.append((index, bytes(data)))
        return 0

    def read(self, cpu: int | None = None) -> list[tuple[int, bytes]]:
        """The events so far as ``(cpu, data)`` in output order (of one CPU when given);
        they are drained."""
        if cpu is None:
            events, self._events = self._events, []
            return events
        mine = [e for e in self._events if e[0] == cpu]
        self._events = [e for e in self._events if e[0] != cpu]
        return mine

    def value_buffer(self, key: bytes) -> bytearray | None:
        return None

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return -errno.EINVAL

    def delete_from_program(self, key: bytes) -> int:
        return -errno.EINVAL

    def keys(self) -> Iterator[bytes]:
        return iter(())

    def __len__(self) -> int:
        return len(self._events)
