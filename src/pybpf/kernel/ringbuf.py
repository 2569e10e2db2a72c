"""Reading a BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8) from user space.

The kernel lays the map out for mmap (kernel/bpf/ringbuf.c): at offset 0 one page holding
``consumer_pos``, which user space writes; at offset ``PAGE_SIZE`` one read-only page
holding ``producer_pos``, then the data area mapped *twice* in a row, so a record that wraps
around the end of the ring is still contiguous in our mapping. Each record starts with an
8-byte header (``struct bpf_ringbuf_hdr``: ``u32 len``, ``u32 pg_off``) whose top bits say
the record is still being written (``BPF_RINGBUF_BUSY_BIT``) or was discarded
(``BPF_RINGBUF_DISCARD_BIT``); records take ``round_up(len + 8, 8)`` bytes.

Reading follows the kernel's protocol: load ``producer_pos`` (acquire), then each header
(acquire: the producer commits by clearing the busy bit), stop at the first busy record,
skip and count discarded ones, read the data, then store ``consumer_pos`` (release) so the
producer may reuse the space. On x86-64 (TSO) ordinary aligned 8-byte loads and stores
already have acquire/release order, and every access here is a separate C call the
interpreter makes in program order, so no fence is needed; other architectures would need
one, which pure Python cannot issue (see the note in :class:`RingBuffer`).

Records of one size follow each other at a fixed stride, so a batch is a few *runs*: the
headers of a run are checked in one C operation (one NumPy comparison, or one comparison
of a strided memoryview with a buffer of copies of the header), and its records are
decoded straight from the mapping (one ``iter_unpack`` per run for ``struct.Struct``
records; see :class:`RecordDecoder`), with the consumer position stored once per batch.
Thanks to the double mapping a run is contiguous even across the end of the ring, so
nothing is ever copied to unwrap it.

Ways to read: a callback per record (:meth:`RingBuffer.poll`, :meth:`~RingBuffer.consume`),
lists (:meth:`~RingBuffer.read_batch`, iteration), and with NumPy columns:
:meth:`~RingBuffer.read_array` (one copy per run) or :meth:`~RingBuffer.view_array` (a
structured array over the ring itself, valid inside a ``with`` block). Discarded records are
counted in ``discarded`` by every path alike.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import mmap as _mmap
import operator
import struct
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ClosedError, InvalidInputError, KernelError
from ..spec import MapType
from . import ring_arrays
from .epoll import Epoll
from .fd import FD
from .reader_lifetime import ReaderLifetime
from .record_decoder import RecordDecoder

__all__ = ["RingBuffer", "RingBufferPoller", "RecordDecoder", "BUSY_BIT", "DISCARD_BIT",
           "RECORD_HEADER_SIZE"]

PAGE_SIZE = _mmap.PAGESIZE
BUSY_BIT = 1 << 31  # BPF_RINGBUF_BUSY_BIT
DISCARD_BIT = 1 << 30  # BPF_RINGBUF_DISCARD_BIT
RECORD_HEADER_SIZE = 8  # BPF_RINGBUF_HDR_SZ
_LENGTH_MASK = DISCARD_BIT - 1
_U32 = struct.Struct("=I")
# runs an iterator to its end in C, keeping nothing: consume()'s sink (see _decode)
_drain: Callable[[Iterator[Any]], Any] = functools.partial(collections.deque, maxlen=0)


class _SameHeaders:
    """Counts the records of a run that carry one header, without NumPy (see
    :meth:`ring_arrays.RingArrays.count_same_headers` for it): the run's header words, a
    strided view, compared with a buffer of ``count`` copies of the header. Two memoryviews
    of one format compare item by item with memcmp, in C, with no copy (a strided
    ``tobytes()`` and then a compare cost 3x as much). The buffer is kept for the next run;
    a longer run is compared ``CHUNK`` headers at a time, so it stays small."""

    __slots__ = ("header", "words")
    CHUNK = 1 << 16

    def __init__(self) -> None:
        self.header = -1
        self.words = memoryview(b"").cast("I")

    def count(self, run: memoryview, stride: int, header: int) -> int:
        """How many of the ``len(run) // stride`` slots of ``run`` start with ``header``."""
        count, step = len(run) // stride, stride >> 2
        if header != self.header or len(self.words) < min(count, self.CHUNK):
            self.words = memoryview(_U32.pack(header) * min(max(count, 4096),
                                                            self.CHUNK)).cast("I")
            self.header = header
        done = 0
        with run.cast("I") as words:
            while done < count:
                n = min(count - done, self.CHUNK)
                with words[done * step:(done + n) * step:step] as headers, \
                        self.words[:n] as expected:
                    if headers != expected:
                        return done + next(i for i, h in enumerate(headers.tolist())
                                           if h != header)
                done += n
        return count


def _release(view: memoryview) -> None:
    """Release a view of the ring unless something still holds it (a NumPy view handed
    out): then the mapping stays alive until that goes, and nothing is freed under it."""
    with contextlib.suppress(BufferError):
        view.release()


class _Batch:
    """Records found but not yet committed: where they sit and which were discarded.

    ``runs`` holds ``(position, stride, length, count)`` for each stretch of equally sized
    records, so the position just past record k is known without a list of ends.
    """

    __slots__ = ("runs", "discarded_at", "end", "taken")

    def __init__(self, runs: list[tuple[int, int, int, int]], discarded_at: list[int],
                 end: int, taken: int):
        self.runs = runs
        self.discarded_at = discarded_at  # positions of discarded records passed over
        self.end = end  # consumer position past everything found
        self.taken = taken  # records in the runs

    def end_of(self, index: int) -> int:
        """The consumer position just past record ``index`` (-1: before the first)."""
        if index < 0:
            return self.runs[0][0] if self.runs else self.end
        for position, stride, _length, count in self.runs:
            if index < count:
                return position + (index + 1) * stride
            index -= count
        raise IndexError(index)


class RingBuffer(ReaderLifetime):
    """A reader of one BPF ring buffer map: ``RingBuffer(events_map, on_event, record_type=
    Event)``.

    The reader keeps its own duplicate of the map's fd, so closing the map does not stop it;
    use it as a context manager (or :meth:`close`). ``discarded`` counts records the program
    discarded (``bpf_ringbuf_discard``), ``received`` the records handed out. (Records the
    program could not reserve because the ring was full never reach the ring: only the
    program can count those.)

    On architectures with weaker memory ordering than x86-64 the consumer could in theory
    read a header or data before the producer's stores are visible; the kernel's busy bit
    protocol makes that a stale read, never a torn record, but it is untested there.
    """

    def __init__(self, ring_map: Any, callback: Callable[[Any], Any] | None = None, *,
                 record_type: Any = None, batch_size: int = 4096):
        """``ring_map`` is a :class:`pybpf.kernel.Map` of type RINGBUF.

        Raises InvalidInputError for another map type, KernelError when mmap fails.
        """
        name = getattr(ring_map, "name", "?")
        self._what = f"ring buffer '{name}'"
        map_type = getattr(ring_map, "type", None)
        if map_type != MapType.RINGBUF:
            raise InvalidInputError(f"map type is {getattr(map_type, 'name', map_type)}, "
                                    "not RINGBUF", source=self._what)
        self.name = name
        self.size = ring_map.max_entries
        self.callback = callback
        self.decoder = RecordDecoder(record_type, source=self._what)
        self.batch_size = batch_size
        self.discarded = 0
        self.received = 0
        self._mask = self.size - 1
        self._viewing = False
        self._arrays: ring_arrays.RingArrays | None = None
        self._same_headers = _SameHeaders()
        # the last dtype argument of read_array/view_array: (argument, dtype, check)
        self._array_type: tuple[Any, Any, Callable[[int, int], None]] | None = None
        self._fd: FD | None = ring_map.fd.dup()
        self._consumer_mm: _mmap.mmap | None = None
        self._producer_mm: _mmap.mmap | None = None
        self._epoll: Epoll[RingBuffer] | None = None
        try:
            self._map_pages(int(self._fd))
            self._epoll = Epoll(what=self._what)
            self._epoll.register(int(self._fd), self)
        except BaseException:
            self.close()
            raise

    def _map_pages(self, fd: int) -> None:
        try:
            self._consumer_mm = _mmap.mmap(fd, PAGE_SIZE, _mmap.MAP_SHARED,
                                           _mmap.PROT_READ | _mmap.PROT_WRITE, offset=0)
            self._producer_mm = _mmap.mmap(fd, PAGE_SIZE + 2 * self.size, _mmap.MAP_SHARED,
                                           _mmap.PROT_READ, offset=PAGE_SIZE)
        except OSError as err:
            raise KernelError("mmap", err.errno or 0, obj=self._what) from err
        self._consumer_pos = memoryview(self._consumer_mm)[:8].cast("Q")
        self._producer_pos = memoryview(self._producer_mm)[:8].cast("Q")
        self._data = memoryview(self._producer_mm)[PAGE_SIZE:]
        self._data_u32 = self._data.cast("I")

    # finding records -----------------------------------------------------------------------

    def available_bytes(self) -> int:
        """How many bytes the producer has reserved that we have not consumed yet."""
        self._check_open()
        return self._producer_pos[0] - self._consumer_pos[0]

    def _scan(self, limit: int, check: Callable[[int, int], None], *,
              one_run: bool = False) -> _Batch:
        """Find up to ``limit`` committed records from the consumer position on, without
        moving it: stop at the first busy record, pass over discarded ones. ``check(length,
        position)`` raises InvalidInputError for a record the caller cannot decode: the
        records before it are returned, and when there are none the reader moves past it
        and raises. ``one_run`` stops after the first run of equally sized records."""
        self._check_open()
        if self._viewing:
            raise InvalidInputError("read while a view_array() block is open: its records "
                                    "are not consumed yet", source=self._what)
        data, data_u32, mask = self._data, self._data_u32, self._mask
        position = self._consumer_pos[0]
        producer = self._producer_pos[0]  # acquire: see the module docstring
        runs: list[tuple[int, int, int, int]] = []
        discarded_at: list[int] = []
        taken = 0
        while position < producer and taken < limit:
            offset = position & mask
            header = data_u32[offset >> 2]
            if header & BUSY_BIT:
                break  # still being written: everything after it waits too
            length = header & _LENGTH_MASK
            stride = (length + RECORD_HEADER_SIZE + 7) & ~7
            if header & DISCARD_BIT:
                discarded_at.append(position)
                position += stride
                continue
            try:
                check(length, position)
            except InvalidInputError:
                if taken:
                    break  # hand out what came before; the next read raises
                self._commit(position + stride, discarded_at)
                raise
            # how many records from here have this very header (same length, committed,
            # kept): one C operation over every header of the stretch
            count = min((producer - position) // stride, limit - taken)
            if count > 1 and ring_arrays.loaded_numpy() is not None:
                count = self._numpy_arrays().count_same_headers(offset, count, stride,
                                                                header)
            elif count > 1:
                run = data[offset:offset + count * stride]
                try:
                    count = self._same_headers.count(run, stride, header)
                finally:
                    _release(run)
            runs.append((position, stride, length, count))
            taken += count
            position += count * stride
            if one_run:
                break
        return _Batch(runs, discarded_at, position, taken)

    def _commit(self, position: int, discarded_at: list[int]) -> None:
        """Give the space before ``position`` back to the producer (release store)."""
        if self._fd is None:
            return  # a callback closed the reader: nothing left to give back
        if discarded_at:
            self.discarded += sum(1 for at in discarded_at if at < position)
        self._consumer_pos[0] = position

    def _check_record(self, length: int, position: int) -> None:
        self.decoder.check_length(length, position=position)

    def _decode(self, batch: _Batch, sink: Callable[[Iterator[Any]], Any],
                handed: list[int], callback: Callable[[Any], Any] | None = None) -> None:
        """Feed each run's records, decoded in place, to ``sink``, a C callable that
        consumes the iterator it is given (``list.extend``; with ``callback``, a map of it
        over the records goes to ``sink``). ``handed[0]`` counts the records the sinks took,
        also when one raises (the record it raised on included), for the caller to commit.

        The decoding iterators hold the ring's pages (a buffer export of the run): only
        this frame may name them, as it drops them before releasing the run. A Python sink
        would keep them alive in the frame an exception's traceback holds, and with them
        the mapping past ``close()`` for as long as the exception is kept."""
        data, mask, decoder = self._data, self._mask, self.decoder
        for position, stride, length, count in batch.runs:
            if self._fd is None:
                return  # a callback closed the reader: its views are released
            offset = position & mask
            # all inside the try: an interrupt (Ctrl-C) may land between any two of these
            run: memoryview | None = None
            records: Iterator[Any] | None = None
            progress: Iterator[Any] | None = None
            try:
                run = data[offset:offset + count * stride]
                records, progress = decoder.strided(run, RECORD_HEADER_SIZE, stride, length)
                sink(records if callback is None else map(callback, records))
            finally:
                if progress is not None:
                    handed[0] += count - operator.length_hint(progress)
                records = progress = None  # they read the ring: drop them before the run
                if run is not None:
                    _release(run)

    # reading -------------------------------------------------------------------------------

    def read_batch(self, max_records: int | None = None) -> list[Any]:
        """Every committed record available now (at most ``max_records``), decoded; the
        space they used is returned to the producer. Does not wait."""
        batch = self._scan(max_records if max_records is not None else self.size,
                           self._check_record)
        records: list[Any] = []
        self._decode(batch, records.extend, [0])
        self._commit(batch.end, batch.discarded_at)
        self.received += len(records)
        return records

    def __iter__(self) -> Iterator[Any]:
        """The records available now, one by one, without waiting; a record counts as
        consumed once it has been yielded."""
        while True:
            batch = self._scan(self.batch_size, self._check_record)
            records: list[Any] = []
            self._decode(batch, records.extend, [0])
            if not records:
                self._commit(batch.end, batch.discarded_at)
                return
            handed = 0
            try:
                for record in records:
                    handed += 1
                    yield record
            finally:
                done = batch.end if handed == len(records) else batch.end_of(handed - 1)
                self._commit(done, batch.discarded_at)
                self.received += handed

    def consume(self) -> int:
        """Call the callback with every record available now; returns how many.

        The records are decoded in place and handed to the callback by a C loop. If the
        callback raises, the records before it and the one it raised on count as consumed
        and the exception propagates.
        """
        callback = self.callback
        if callback is None:
            raise InvalidInputError("no callback was given: use read_batch() or iterate",
                                    source=self._what)

        total = 0
        while True:
            batch = self._scan(self.batch_size, self._check_record)
            handed = [0]
            try:
                self._decode(batch, _drain, handed, callback)
            finally:
                self._commit(batch.end if handed[0] == batch.taken else
                             batch.end_of(handed[0] - 1), batch.discarded_at)
                self.received += handed[0]
            total += handed[0]
            if batch.taken < self.batch_size:
                return total

    # reading as NumPy arrays -----------------------------------------------------------------

    def _numpy_arrays(self) -> ring_arrays.RingArrays:
        """NumPy arrays over the data area, made once (again if a test swapped it)."""
        arrays = self._arrays
        if arrays is None or arrays.data is not self._data:
            arrays = self._arrays = ring_arrays.RingArrays(self._data)
        return arrays

    def _dtype(self, dtype: Any, np: Any) -> tuple[Any, Callable[[int, int], None]]:
        """The NumPy dtype for ``dtype`` (None: the ctypes record_type) and the length
        check of its records; the last one is kept, as making a dtype from a ctypes
        structure costs more than a whole read of a few records."""
        last = self._array_type
        if last is not None and last[0] is dtype:
            return last[1], last[2]
        argument = dtype
        if dtype is None:
            ctype = self.decoder.ctype
            if ctype is None or self.decoder._simple:
                raise InvalidInputError("reading arrays needs a dtype, or a ctypes structure "
                                        "as the reader's record_type", source=self._what)
            dtype = ctype
        dtype = np.dtype(dtype)
        itemsize = dtype.itemsize

        def check(length: int, position: int) -> None:
            if length < itemsize:
                raise InvalidInputError(f"record at position {position} has {length} bytes, "
                                        f"fewer than the {itemsize} of the array's "
                                        "dtype", source=self._what)
        self._array_type = (argument, dtype, check)
        return dtype, check

    def read_array(self, max_records: int | None = None, *, dtype: Any = None) -> Any:
        """Every committed record available now (at most ``max_records``) as one NumPy
        structured array, with no Python object per record: for fixed-size records and
        analysis (``pandas.DataFrame(arr)``). Each run of records is copied once, in C,
        from the ring. ``dtype`` defaults to the reader's ctypes ``record_type``; a record
        longer than the dtype keeps its first ``itemsize`` bytes. Needs NumPy (``pip
        install pybpf[numpy]``). Does not wait."""
        np = ring_arrays.numpy(self._what)
        dtype, check = self._dtype(dtype, np)
        batch = self._scan(max_records if max_records is not None else self.size, check)
        numpy_arrays, mask = self._numpy_arrays(), self._mask
        arrays = [numpy_arrays.copy(position & mask, count, stride, dtype, RECORD_HEADER_SIZE)
                  for position, stride, _length, count in batch.runs]
        self._commit(batch.end, batch.discarded_at)
        result = arrays[0] if len(arrays) == 1 else \
            np.concatenate(arrays) if arrays else np.empty(0, dtype)
        self.received += len(result)
        return result

    @contextlib.contextmanager
    def view_array(self, max_records: int | None = None, *,
                   dtype: Any = None) -> Iterator[Any]:
        """``with rb.view_array() as arr:`` the next run of equally sized records as a
        read-only NumPy structured array over the ring itself: nothing is copied. The
        records are consumed when the block ends (an exception in it included); until then
        the producer cannot reuse their space and this reader reads nothing else. The array
        is valid only inside the block: after it the producer may overwrite it.

        One run: the array stops before a discarded record, a busy one or one of another
        size (the next call goes on from there; an empty array means nothing is ready).
        ``dtype`` as for :meth:`read_array`. Needs NumPy."""
        np = ring_arrays.numpy(self._what)
        dtype, check = self._dtype(dtype, np)
        batch = self._scan(max_records if max_records is not None else self.size, check,
                           one_run=True)
        if not batch.runs:
            self._commit(batch.end, batch.discarded_at)
            empty = np.empty(0, dtype)
            empty.flags.writeable = False
            yield empty
            return
        position, stride, _length, count = batch.runs[0]
        view = self._numpy_arrays().view(position & self._mask, count, stride, dtype,
                                         RECORD_HEADER_SIZE)
        self._viewing = True
        try:
            yield view
        finally:
            self._viewing = False
            del view  # the caller may keep it: then the mapping stays, see close()
            if not self.closed:
                self._commit(batch.end, batch.discarded_at)
                self.received += count

    # waiting -------------------------------------------------------------------------------

    def poll(self, timeout_ms: int | None = -1) -> int:
        """Wait up to ``timeout_ms`` (-1/None: forever, 0: not at all) for records, then
        :meth:`consume` them; returns how many records the callback saw."""
        self._check_open()
        if self._producer_pos[0] == self._consumer_pos[0]:
            assert self._epoll is not None
            if not self._epoll.wait(timeout_ms):
                return 0
        return self.consume()

    def wait(self, timeout_ms: int | None = -1) -> bool:
        """Wait until records are available; False on timeout."""
        self._check_open()
        if self._producer_pos[0] != self._consumer_pos[0]:
            return True
        assert self._epoll is not None
        return bool(self._epoll.wait(timeout_ms))

    # lifetime ------------------------------------------------------------------------------

    def fileno(self) -> int:
        """The map fd this reader polls (register it in your own event loop if you like)."""
        return self._open_fd()

    def close(self) -> None:
        """Unmap the ring and close the reader's fds; idempotent. A NumPy view still held
        keeps its pages mapped until it goes."""
        self._arrays = None
        for view_name in ("_data_u32", "_data", "_consumer_pos", "_producer_pos"):
            view = self.__dict__.pop(view_name, None)
            if view is not None:
                _release(view)
        for mm_name in ("_consumer_mm", "_producer_mm"):
            mm = getattr(self, mm_name, None)
            setattr(self, mm_name, None)
            if mm is not None:
                with contextlib.suppress(BufferError):  # exported: unmapped when freed
                    mm.close()
        epoll, self._epoll = getattr(self, "_epoll", None), None
        if epoll is not None:
            epoll.close()
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            fd.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"size={self.size}"
        return f"<RingBuffer '{self.name}' {state} discarded={self.discarded}>"


# -- several ring buffers, one wait -------------------------------------------------------------

class RingBufferPoller:
    """Waits on several ring buffers at once and calls each one's callback.

    ``poller.add(ring_map, callback, record_type=...)`` makes (and owns) a
    :class:`RingBuffer`; ``poller.add(reader)`` adopts one already made. Closing the poller
    closes every reader it holds.
    """

    def __init__(self) -> None:
        self._epoll: Epoll[RingBuffer] = Epoll(what="ring buffer poller")
        self.readers: list[RingBuffer] = []

    def add(self, ring: Any, callback: Callable[[Any], Any] | None = None, *,
            record_type: Any = None) -> RingBuffer:
        """Add a ring buffer map (or a RingBuffer, whose ownership moves here)."""
        if self._epoll.closed:
            raise ClosedError("ring buffer poller: used after close()")
        made = not isinstance(ring, RingBuffer)
        reader = RingBuffer(ring, callback, record_type=record_type) if made else ring
        if reader.callback is None and callback is not None:
            reader.callback = callback
        if reader.callback is None:
            if made:
                reader.close()
            raise InvalidInputError("a ring buffer in a poller needs a callback",
                                    source=f"ring buffer '{reader.name}'")
        try:
            self._epoll.register(reader.fileno(), reader)
        except BaseException:
            if made:
                reader.close()
            raise
        self.readers.append(reader)
        return reader

    @property
    def discarded(self) -> int:
        return sum(r.discarded for r in self.readers)

    def consume(self) -> int:
        """Drain every ring buffer now; returns the number of records handed out."""
        return sum(reader.consume() for reader in self.readers)

    def fileno(self) -> int:
        """The poller's epoll fd: readable while any of its rings has data (for a caller's
        own poll loop, which then calls :meth:`consume`)."""
        return self._epoll.fileno()

    def poll(self, timeout_ms: int | None = -1) -> int:
        """Wait up to ``timeout_ms`` for any ring to have data, drain the ready ones."""
        ready = [r for r in self.readers if r.available_bytes()]
        if not ready:
            ready = self._epoll.wait(timeout_ms)
        return sum(reader.consume() for reader in ready)

    def close(self) -> None:
        for reader in reversed(self.readers):
            reader.close()
        self.readers.clear()
        self._epoll.close()

    def __enter__(self) -> RingBufferPoller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
