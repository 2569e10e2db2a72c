"""Reading a perf buffer: one BPF_OUTPUT perf event and mmap'ed ring per CPU.

A program writes with ``bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, data, size)``
into a BPF_MAP_TYPE_PERF_EVENT_ARRAY; slot N of that array must hold a perf event opened
on CPU N (``PERF_TYPE_SOFTWARE``/``PERF_COUNT_SW_BPF_OUTPUT``, ``PERF_SAMPLE_RAW``). Each
event fd is mmap'ed as one metadata page (``struct perf_event_mmap_page``: the kernel
advances ``data_head``, we advance ``data_tail``) followed by a power-of-two number of data
pages that the kernel fills as a ring of ``struct perf_event_header`` records:

* ``PERF_RECORD_SAMPLE``: ``u32 size`` and the raw bytes the program wrote, padded with
  zeros so the record stays 8-byte aligned (``size`` counts the padding: the bytes a
  reader gets are ``round_up(len + 4, 8) - 4`` long);
* ``PERF_RECORD_LOST``: ``u64 id, u64 lost``: samples dropped because the ring was full.
  They go to ``lost_callback(cpu, count)`` and the ``lost`` counter — or, without a
  callback, to a ``RuntimeWarning`` — never silently.

Records may wrap around the end of the ring (unlike the BPF ring buffer there is no double
mapping): such a record is copied out in two pieces. Ordering is the same
load-acquire/store-release protocol as in :mod:`.ringbuf` (see the note there).
"""

from __future__ import annotations

import ctypes
import mmap as _mmap
import struct
import warnings
from collections.abc import Callable
from typing import Any

from ..errors import InvalidInputError, KernelError
from ..spec import MapType
from . import sys as bpfsys
from .epoll import Epoll
from .fd import FD
from .reader_lifetime import ReaderLifetime
from .ringbuf import RecordDecoder

__all__ = ["PerfBuffer", "online_cpus", "PERF_RECORD_SAMPLE", "PERF_RECORD_LOST"]

PAGE_SIZE = _mmap.PAGESIZE
PERF_RECORD_LOST = 2
PERF_RECORD_SAMPLE = 9
# offsets in struct perf_event_mmap_page (uapi linux/perf_event.h)
DATA_HEAD_OFFSET = 1024
DATA_TAIL_OFFSET = 1032

_HEADER = struct.Struct("=IHH")  # struct perf_event_header: type, misc, size
_U32 = struct.Struct("=I")
_LOST = struct.Struct("=QQ")  # id, lost


def _parse_cpu_list(text: str) -> list[int]:
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def online_cpus() -> list[int]:
    """The CPUs that are online now (``/sys/devices/system/cpu/online``)."""
    with open("/sys/devices/system/cpu/online") as f:
        return _parse_cpu_list(f.read())


class _CpuRing:
    """The perf event of one CPU, its mapping and views of head, tail and data."""

    def __init__(self, cpu: int, page_count: int, wakeup_events: int, what: str):
        self.cpu = cpu
        attr = bpfsys.PerfEventAttr(
            type=bpfsys.PerfType.SOFTWARE, config=bpfsys.PerfSwConfig.BPF_OUTPUT,
            sample_type=bpfsys.PerfSampleFormat.RAW, sample_period=1,
            wakeup_events=wakeup_events)
        self.fd: FD | None = bpfsys.perf_event_open(attr, pid=-1, cpu=cpu,
                                                    obj=f"{what} cpu {cpu}")
        self.data_size = page_count * PAGE_SIZE
        try:
            self.mm: _mmap.mmap | None = _mmap.mmap(
                int(self.fd), PAGE_SIZE + self.data_size, _mmap.MAP_SHARED,
                _mmap.PROT_READ | _mmap.PROT_WRITE)
        except OSError as err:
            self.fd.close()
            raise KernelError("mmap", err.errno or 0, obj=f"{what} cpu {cpu}",
                              hint="perf rings are limited by "
                                   "/proc/sys/kernel/perf_event_mlock_kb") from err
        whole = memoryview(self.mm)
        self.head = whole[DATA_HEAD_OFFSET:DATA_HEAD_OFFSET + 8].cast("Q")
        self.tail = whole[DATA_TAIL_OFFSET:DATA_TAIL_OFFSET + 8].cast("Q")
        self.data = whole[PAGE_SIZE:]
        whole.release()

    def close(self) -> None:
        for view in (getattr(self, "head", None), getattr(self, "tail", None),
                     getattr(self, "data", None)):
            if view is not None:
                view.release()
        mm, self.mm = getattr(self, "mm", None), None
        if mm is not None:
            mm.close()
        fd, self.fd = self.fd, None
        if fd is not None:
            fd.close()


class PerfBuffer(ReaderLifetime):
    """A reader of a PERF_EVENT_ARRAY map: ``PerfBuffer(events, on_event, on_lost)``.

    ``callback(cpu, record)`` gets each sample decoded by ``record_type`` (see
    :class:`~pybpf.kernel.ringbuf.RecordDecoder`); ``lost_callback(cpu, count)`` gets the
    kernel's lost-sample reports, which are also summed in ``lost``. ``page_count`` (a power
    of two) sets each CPU's ring size. The perf events are stored into the map for every
    online CPU (below the map's max_entries) and removed again by :meth:`close`.

    Raises InvalidInputError for a map of another type or a bad page count, KernelError
    when a perf event cannot be opened or mapped.
    """

    def __init__(self, perf_map: Any, callback: Callable[[int, Any], Any] | None = None,
                 lost_callback: Callable[[int, int], Any] | None = None, *,
                 page_count: int = 8, record_type: Any = None, wakeup_events: int = 1):
        name = getattr(perf_map, "name", "?")
        self._what = f"perf buffer '{name}'"
        map_type = getattr(perf_map, "type", None)
        if map_type != MapType.PERF_EVENT_ARRAY:
            raise InvalidInputError(f"map type is {getattr(map_type, 'name', map_type)}, "
                                    "not PERF_EVENT_ARRAY", source=self._what)
        if page_count < 1 or page_count & (page_count - 1):
            raise InvalidInputError(f"page_count {page_count} must be a power of two",
                                    source=self._what)
        self.name = name
        self.callback = callback
        self.lost_callback = lost_callback
        self.decoder = RecordDecoder(record_type, source=self._what)
        self.page_count = page_count
        self.lost = 0
        self.received = 0
        self._rings: dict[int, _CpuRing] = {}
        self._epoll: Epoll[_CpuRing] | None = None
        self._fd: FD | None = perf_map.fd.dup()
        try:
            self._epoll = Epoll(what=self._what)
            cpus = [c for c in online_cpus() if c < perf_map.max_entries]
            for cpu in cpus:
                ring = _CpuRing(cpu, page_count, wakeup_events, self._what)
                self._rings[cpu] = ring
                self._store_in_map(cpu, ring)
                self._epoll.register(int(ring.fd), ring)  # type: ignore[arg-type]
        except BaseException:
            self.close()
            raise

    def _store_in_map(self, cpu: int, ring: _CpuRing) -> None:
        key = ctypes.c_uint32(cpu)
        value = ctypes.c_uint32(int(ring.fd))  # type: ignore[arg-type]
        bpfsys.map_update_elem(int(self._fd), key, value,  # type: ignore[arg-type]
                               obj=f"{self._what} slot {cpu}")

    @property
    def cpus(self) -> list[int]:
        """The CPUs this buffer has a ring for."""
        return sorted(self._rings)

    # reading -------------------------------------------------------------------------------

    def _drain(self, ring: _CpuRing, deliver: Callable[[int, Any], Any]) -> int:
        """Hand every record of one CPU's ring to ``deliver``; returns the samples seen."""
        data, size = ring.data, ring.data_size
        mask = size - 1
        head = ring.head[0]  # acquire: see the module docstring
        tail = ring.tail[0]
        samples = 0
        decoder, cpu = self.decoder, ring.cpu
        try:
            while tail < head:
                offset = tail & mask
                kind, _misc, record_size = _HEADER.unpack_from(data, offset)
                if record_size < _HEADER.size:
                    raise InvalidInputError(f"cpu {cpu}: record of {record_size} bytes at ring "
                                            f"position {tail}", source=self._what)
                # copied out (a view left in a traceback would keep the ring from closing)
                if offset + record_size <= size:
                    record = data[offset:offset + record_size].tobytes()
                else:  # wraps around the end of the ring
                    record = bytes(data[offset:]) + bytes(data[:offset + record_size - size])
                tail += record_size
                if kind == PERF_RECORD_SAMPLE:
                    raw_size = _U32.unpack_from(record, 8)[0]
                    body = record[12:12 + raw_size]
                    decoder.check_length(len(body))
                    samples += 1
                    self.received += 1
                    deliver(cpu, decoder.decode(body))
                elif kind == PERF_RECORD_LOST:
                    lost = _LOST.unpack_from(record, 8)[1]
                    self.lost += lost
                    if self.lost_callback is not None:
                        self.lost_callback(cpu, lost)
                    else:
                        warnings.warn(f"{self._what}: cpu {cpu} lost {lost} samples (ring full; "
                                      "pass lost_callback= to handle this)", RuntimeWarning,
                                      stacklevel=4)
                # other record types (throttling...) carry nothing for a BPF reader
        finally:
            ring.tail[0] = tail  # release: the kernel may reuse everything before it
        return samples

    def consume(self) -> int:
        """Call the callback for every sample on every CPU now; returns how many.

        If a callback raises, its record and those before it count as consumed.
        """
        callback = self._need_callback()
        self._check_open()
        return sum(self._drain(ring, callback) for ring in self._rings.values())

    def poll(self, timeout_ms: int | None = -1) -> int:
        """Wait up to ``timeout_ms`` (-1/None: forever, 0: not at all) for samples, then
        hand those of the ready CPUs to the callback; returns how many."""
        callback = self._need_callback()
        self._check_open()
        assert self._epoll is not None
        ready = [r for r in self._rings.values() if r.head[0] != r.tail[0]]
        if not ready:
            ready = self._epoll.wait(timeout_ms)
        return sum(self._drain(ring, callback) for ring in ready)

    def fileno(self) -> int:
        """The buffer's epoll fd: readable while any CPU's ring has samples (for a caller's
        own poll loop, which then calls :meth:`consume`)."""
        self._check_open()
        assert self._epoll is not None
        return self._epoll.fileno()

    def read_batch(self) -> list[tuple[int, Any]]:
        """Every sample available now as ``(cpu, record)``, CPU by CPU. Does not wait."""
        self._check_open()
        out: list[tuple[int, Any]] = []
        collect = out.append
        for ring in self._rings.values():
            self._drain(ring, lambda cpu, record: collect((cpu, record)))
        return out

    def _need_callback(self) -> Callable[[int, Any], Any]:
        if self.callback is None:
            raise InvalidInputError("no callback was given: use read_batch()",
                                    source=self._what)
        return self.callback

    # lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the events from the map, unmap the rings, close every fd; idempotent."""
        map_fd, self._fd = getattr(self, "_fd", None), None
        epoll, self._epoll = getattr(self, "_epoll", None), None
        if epoll is not None:
            epoll.close()
        for cpu, ring in getattr(self, "_rings", {}).items():
            if map_fd is not None:
                try:
                    bpfsys.map_delete_elem(int(map_fd), struct.pack("=I", cpu))
                except KernelError:
                    pass  # never stored (open failed half-way) or already gone
            ring.close()
        self._rings = {}
        if map_fd is not None:
            map_fd.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"cpus={len(self._rings)}"
        return f"<PerfBuffer '{self.name}' {state} lost={self.lost}>"
