"""Maps that carry events out of the program: the ring buffer and the perf event array.

:class:`RingBufMap` follows BPF_MAP_TYPE_RINGBUF: a program reserves a record (a pointer to
fresh memory it may fill), then submits or discards it; ``bpf_ringbuf_output`` copies and
submits in one step. Records are read from Python in reservation order, like the kernel's
consumer: :meth:`RingBufMap.read` returns the submitted records up to the first one still
reserved (busy), skipping discarded ones. Space is accounted as the kernel does (an 8-byte
header plus the data rounded up to 8), so a full ring makes reserve return NULL.

:class:`PerfEventArrayMap` follows BPF_MAP_TYPE_PERF_EVENT_ARRAY: bpf_perf_event_output
appends ``(cpu, bytes)`` to the list of the CPU given by its flags (BPF_F_CURRENT_CPU for the
running one); :meth:`PerfEventArrayMap.read` drains them.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass

from ..spec import MapType
from .maps import VMMap

RINGBUF_HEADER_BYTES = 8       # BPF_RINGBUF_HDR_SZ
BPF_F_CURRENT_CPU = 0xFFFFFFFF
BPF_F_INDEX_MASK = 0xFFFFFFFF


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
        self._used_bytes = 0

    def _sizes_valid(self, key_size: int, value_size: int, max_entries: int) -> bool:
        return (key_size == 0 and value_size == 0 and max_entries > 0
                and max_entries & (max_entries - 1) == 0)

    @staticmethod
    def _footprint(size: int) -> int:
        return RINGBUF_HEADER_BYTES + (size + 7) // 8 * 8

    # --- program side ---

    def reserve(self, size: int) -> RingRecord | None:
        """A fresh busy record of ``size`` bytes, or None when the ring has no room."""
        if size <= 0 or self._used_bytes + self._footprint(size) > self.max_entries:
            return None
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
        return out

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.read())

    def __len__(self) -> int:
        return sum(1 for r in self._records if not r.busy and not r.discarded)

    def value_buffer(self, key: bytes) -> bytearray | None:
        return None

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return -errno.EINVAL

    def delete_from_program(self, key: bytes) -> int:
        return -errno.EINVAL

    def keys(self) -> Iterator[bytes]:
        return iter(())


class PerfEventArrayMap(VMMap):
    """BPF_MAP_TYPE_PERF_EVENT_ARRAY: one event list per CPU index (every CPU "opened")."""

    type = MapType.PERF_EVENT_ARRAY

    def __init__(self, name: str, *, key_size: int = 4, value_size: int = 4,
                 max_entries: int = 1):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self._events: list[tuple[int, bytes]] = []

    def output(self, flags: int, cpu: int, data: bytes) -> int:
        """bpf_perf_event_output: 0, -EINVAL for bad flags, -E2BIG past max_entries."""
        if flags & ~BPF_F_INDEX_MASK & ((1 << 64) - 1):
            return -errno.EINVAL
        index = flags & BPF_F_INDEX_MASK
        if index == BPF_F_CURRENT_CPU:
            index = cpu
        if index >= self.max_entries:
            return -errno.E2BIG
        self._events.append((index, bytes(data)))
        return 0

    def read(self) -> list[tuple[int, bytes]]:
        """Every event so far as ``(cpu, data)``, in output order; they are drained."""
        events, self._events = self._events, []
        return events

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
