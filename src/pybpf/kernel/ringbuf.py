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
skip and count discarded ones, copy the data out, then store ``consumer_pos`` (release) so
the producer may reuse the space. On x86-64 (TSO) ordinary aligned 8-byte loads and stores
already have acquire/release order, and every access here is a separate C call the
interpreter makes in program order, so no fence is needed; other architectures would need
one, which pure Python cannot issue (see the note in :class:`RingBuffer`).

Two ways to read: a callback per record (:meth:`RingBuffer.poll`, :meth:`consume`) or
batches (:meth:`RingBuffer.read_batch`, iteration). Records decode through ``record_type``
(:class:`RecordDecoder`). Batches of equally sized records — the common case — are checked
and decoded by C loops: one strided read of all headers, one copy, one ``iter_unpack`` or
``from_buffer_copy`` per record.
"""

from __future__ import annotations

import ctypes
import mmap as _mmap
import struct
from collections.abc import Callable, Iterator
from typing import Any

from ..btf.types import Type as BTFType
from ..btf.values import BTFCodec
from ..errors import BPFError, ClosedError, InvalidInputError, KernelError
from ..spec import MapType
from .epoll import Epoll
from .fd import FD
from .reader_lifetime import ReaderLifetime

__all__ = ["RingBuffer", "RingBufferPoller", "RecordDecoder", "BUSY_BIT", "DISCARD_BIT",
           "RECORD_HEADER_SIZE"]

PAGE_SIZE = _mmap.PAGESIZE
BUSY_BIT = 1 << 31  # BPF_RINGBUF_BUSY_BIT
DISCARD_BIT = 1 << 30  # BPF_RINGBUF_DISCARD_BIT
RECORD_HEADER_SIZE = 8  # BPF_RINGBUF_HDR_SZ
_LENGTH_MASK = DISCARD_BIT - 1
_U32 = struct.Struct("=I")


_CTYPES_BASES = (ctypes.Structure, ctypes.Union, ctypes.Array,
                 ctypes._SimpleCData)
_STRUCT_PREFIXES = ("@", "=", "<", ">", "!")


# -- decoding ---------------------------------------------------------------------------------

class RecordDecoder:
    """Turns the bytes of one record into the object a reader hands out.

    ``record_type`` is one of:

    * ``None``: ``bytes``, exactly as the program wrote them;
    * a ctypes ``Structure``/``Union``/array/simple type: a fresh instance (a copy, valid
      after the ring moves on; simple types give their Python value);
    * a ``struct.Struct``: the tuple it unpacks;
    * a BTF type (``spec.btf.find("event", Struct)``): the Python object
      :class:`pybpf.btf.values.BTFCodec` decodes (a struct with attribute access...);
    * a codec with ``size`` and ``decode(bytes)`` (see :class:`pybpf.kernel.maps.Codec`).

    A record longer than the type is decoded from its first ``size`` bytes; a shorter one
    raises :class:`~pybpf.errors.InvalidInputError`. Also used by the perf buffer.
    """

    def __init__(self, record_type: Any = None, *, source: str = "reader"):
        self.record_type = record_type
        self.source = source
        self._struct: struct.Struct | None = None
        self._ctype: Any = None
        self._simple = False
        self._codec_decode: Callable[[bytes], Any] | None = None
        self.size: int | None
        if isinstance(record_type, BTFType):
            try:
                record_type = BTFCodec(record_type)
            except BPFError as err:
                raise InvalidInputError(f"record_type {record_type!r} has no size to decode: "
                                        f"{err}", source=source) from None
        if record_type is None:
            self.size = None
        elif isinstance(record_type, struct.Struct):
            self._struct = record_type
            self.size = record_type.size
        elif isinstance(record_type, type) and issubclass(record_type, _CTYPES_BASES):
            self._ctype = record_type
            self._simple = issubclass(record_type, ctypes._SimpleCData)
            self.size = ctypes.sizeof(record_type)
        elif callable(getattr(record_type, "decode", None)) and \
                isinstance(getattr(record_type, "size", None), int):
            self._codec_decode = record_type.decode
            self.size = record_type.size
        else:
            raise InvalidInputError(
                "record_type must be None, a ctypes type, a struct.Struct, a BTF type or a "
                f"codec with size and decode(), not {record_type!r}", source=source)
        self._framed: dict[tuple[int, int], struct.Struct | None] = {}

    def check_length(self, length: int, *, position: int | None = None) -> None:
        """Raise InvalidInputError when a record of ``length`` bytes is too short to decode."""
        if self.size is not None and length < self.size:
            where = f" at position {position}" if position is not None else ""
            name = getattr(self.record_type, "__name__", None) or \
                getattr(self.record_type, "name", None) or type(self.record_type).__name__
            raise InvalidInputError(f"record{where} has {length} bytes, fewer than the "
                                    f"{self.size} of {name}", source=self.source)

    def decode(self, data: bytes | memoryview) -> Any:
        """One record from its bytes (the caller checked the length)."""
        if self.size is None:
            return bytes(data)
        if self._ctype is not None:
            obj = self._ctype.from_buffer_copy(data[:self.size])
            return obj.value if self._simple else obj
        if self._struct is not None:
            return self._struct.unpack_from(data)
        assert self._codec_decode is not None
        return self._codec_decode(bytes(data[:self.size]))

    def decode_strided(self, raw: bytes, head: int, stride: int, count: int,
                       length: int) -> list[Any]:
        """``count`` records of ``length`` bytes: record k at ``raw[k * stride + head:]``.

        The hot path of batch reading: the loops run in C where the type allows.
        """
        stop = stride * count
        if self._ctype is not None and not self._simple:
            copy = self._ctype.from_buffer_copy
            return [copy(raw, at) for at in range(head, stop, stride)]
        if self._struct is not None:
            framed = self._framed_struct(head, stride)
            if framed is not None:
                return list(framed.iter_unpack(raw[:stop]))
            unpack = self._struct.unpack_from
            return [unpack(raw, at) for at in range(head, stop, stride)]
        if self.size is None:
            return [raw[at:at + length] for at in range(head, stop, stride)]
        size, decode = self.size, self.decode
        return [decode(raw[at:at + size]) for at in range(head, stop, stride)]

    def _framed_struct(self, head: int, stride: int) -> struct.Struct | None:
        """The record struct with ``head`` pad bytes before and the rest of the stride
        after, so one ``iter_unpack`` walks every record; None when native alignment
        would change its size."""
        key = (head, stride)
        if key not in self._framed:
            assert self._struct is not None
            fmt = self._struct.format
            prefix, body = (fmt[0], fmt[1:]) if fmt[:1] in _STRUCT_PREFIXES else ("@", fmt)
            tail = stride - head - self._struct.size
            framed = None
            if tail >= 0:
                candidate = struct.Struct(f"{prefix}{head}x{body}{tail}x")
                if candidate.size == stride:
                    framed = candidate
            self._framed[key] = framed
        return self._framed[key]


# -- one ring buffer --------------------------------------------------------------------------

def _numpy(source: str) -> Any:
    try:
        import numpy
    except ImportError:
        raise InvalidInputError("reading records as arrays needs NumPy: pip install "
                                "'pybpf[numpy]'", source=source) from None
    return numpy


def _copy_records(ring: memoryview, dtype: Any, stride: int, count: int) -> Any:
    """``count`` records of ``dtype`` at ``ring[k * stride + header]``, copied once, in C,
    from the ring into a packed array: the dtype framed with the header before and the
    padding after reads the ring in place."""
    np = _numpy("ring buffer")
    names = dtype.names
    framed = np.dtype({
        "names": list(names) if names else ["f0"],
        "formats": [dtype.fields[n][0] for n in names] if names else [dtype],
        "offsets": [RECORD_HEADER_SIZE + dtype.fields[n][1] for n in names] if names
        else [RECORD_HEADER_SIZE],
        "itemsize": stride})
    in_place = np.frombuffer(ring, dtype=framed, count=count)
    try:
        packed = np.empty(count, dtype=dtype)
        if names:
            packed[...] = in_place  # field by field, by name
        else:
            packed[...] = in_place["f0"]
        return packed
    finally:
        del in_place  # drop the export of the ring's view before it is released


class _Batch:
    """Records gathered but not yet committed: where they sit and which were discarded.

    ``runs`` holds ``(position, stride, count)`` for each stretch of equally sized records
    in ``records``, so the position just past record k is known without a list of ends.
    """

    __slots__ = ("records", "runs", "discarded_at", "end")

    def __init__(self, records: list[Any], runs: list[tuple[int, int, int]],
                 discarded_at: list[int], end: int):
        self.records = records
        self.runs = runs
        self.discarded_at = discarded_at  # positions of discarded records passed over
        self.end = end  # consumer position past everything gathered

    def end_of(self, index: int) -> int:
        """The consumer position just past ``records[index]``."""
        for position, stride, count in self.runs:
            if index < count:
                return position + (index + 1) * stride
            index -= count
        raise IndexError(index)


class RingBuffer(ReaderLifetime):
    """A reader of one BPF ring buffer map: ``RingBuffer(events_map, on_event, record_type=
    Event)``.

    The reader keeps its own duplicate of the map's fd, so closing the map does not stop it;
    use it as a context manager (or :meth:`close`). ``discarded`` counts records the program
    discarded (``bpf_ringbuf_discard``), ``received`` the records handed out.

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

    # reading -------------------------------------------------------------------------------

    def available_bytes(self) -> int:
        """How many bytes the producer has reserved that we have not consumed yet."""
        self._check_open()
        return self._producer_pos[0] - self._consumer_pos[0]

    def _gather(self, limit: int, array_of: Any = None) -> _Batch:
        """Decode up to ``limit`` committed records from the consumer position on, without
        moving it. Stops at the first busy record. With ``array_of`` (a NumPy dtype), each
        run of equally sized records becomes one structured array instead of objects."""
        self._check_open()
        data, data_u32, decoder, mask = self._data, self._data_u32, self.decoder, self._mask
        position = self._consumer_pos[0]
        producer = self._producer_pos[0]  # acquire: see the module docstring
        records: list[Any] = []
        taken = 0
        runs: list[tuple[int, int, int]] = []
        discarded_at: list[int] = []
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
                if array_of is None:
                    decoder.check_length(length, position=position)
                elif length < array_of.itemsize:
                    raise InvalidInputError(f"record at position {position} has {length} "
                                            f"bytes, fewer than the {array_of.itemsize} of "
                                            "the array's dtype", source=self._what)
            except InvalidInputError:
                if taken:
                    break  # hand out what came before; the next read raises
                self._commit(position + stride, discarded_at)
                raise
            # How many records from here have this very header (same length, committed,
            # kept)? One strided read of the headers answers it in C.
            count = min((producer - position) // stride, limit - taken)
            if count > 1:
                with data[offset:offset + count * stride] as run, \
                        run.cast("I") as run_u32, run_u32[::stride >> 2] as headers:
                    if headers.tobytes() != _U32.pack(header) * count:  # memcmp, in C
                        found = headers.tolist()
                        count = next(i for i, h in enumerate(found) if h != header)
            if array_of is not None:
                count = max(count, 1)
                with data[offset:offset + count * stride] as run:
                    records.append(_copy_records(run, array_of, stride, count))
            elif count > 1:
                with data[offset:offset + count * stride] as run:
                    raw = run.tobytes()
                records += decoder.decode_strided(raw, RECORD_HEADER_SIZE, stride, count,
                                                  length)
            else:
                count = 1
                start = offset + RECORD_HEADER_SIZE
                with data[start:start + length] as body:
                    records.append(decoder.decode(body))
            runs.append((position, stride, count))
            taken += count
            position += count * stride
        return _Batch(records, runs, discarded_at, position)

    def _commit(self, position: int, discarded_at: list[int]) -> None:
        """Give the space before ``position`` back to the producer (release store)."""
        if discarded_at:
            self.discarded += sum(1 for at in discarded_at if at < position)
        self._consumer_pos[0] = position

    def read_batch(self, max_records: int | None = None) -> list[Any]:
        """Every committed record available now (at most ``max_records``), decoded; the
        space they used is returned to the producer. Does not wait."""
        batch = self._gather(max_records if max_records is not None else self.size)
        self._commit(batch.end, batch.discarded_at)
        self.received += len(batch.records)
        return batch.records

    def read_array(self, max_records: int | None = None, *, dtype: Any = None) -> Any:
        """Every committed record available now (at most ``max_records``) as one NumPy
        structured array, with no Python object per record: for fixed-size records and
        analysis (``pandas.DataFrame(arr)``). ``dtype`` defaults to the reader's ctypes
        ``record_type``; a record longer than the dtype keeps its first ``itemsize``
        bytes. Needs NumPy (``pip install pybpf[numpy]``). Does not wait."""
        np = _numpy(self._what)
        if dtype is None:
            ctype = self.decoder._ctype
            if ctype is None or self.decoder._simple:
                raise InvalidInputError("read_array needs a dtype, or a ctypes structure as "
                                        "the reader's record_type", source=self._what)
            dtype = np.dtype(ctype)
        dtype = np.dtype(dtype)
        batch = self._gather(max_records if max_records is not None else self.size,
                             array_of=dtype)
        self._commit(batch.end, batch.discarded_at)
        arrays = batch.records
        result = arrays[0] if len(arrays) == 1 else \
            np.concatenate(arrays) if arrays else np.empty(0, dtype)
        self.received += len(result)
        return result

    def __iter__(self) -> Iterator[Any]:
        """The records available now, one by one, without waiting; a record counts as
        consumed once it has been yielded."""
        while True:
            batch = self._gather(self.batch_size)
            if not batch.records:
                self._commit(batch.end, batch.discarded_at)
                return
            handed = 0
            try:
                for record in batch.records:
                    handed += 1
                    yield record
            finally:
                done = batch.end if handed == len(batch.records) else batch.end_of(handed - 1)
                self._commit(done, batch.discarded_at)
                self.received += handed

    def consume(self) -> int:
        """Call the callback with every record available now; returns how many.

        If the callback raises, the records before it and the one it raised on count as
        consumed and the exception propagates.
        """
        callback = self.callback
        if callback is None:
            raise InvalidInputError("no callback was given: use read_batch() or iterate",
                                    source=self._what)
        total = 0
        while True:
            batch = self._gather(self.batch_size)
            records = batch.records
            handed = 0
            try:
                for record in records:
                    handed += 1
                    callback(record)
            finally:
                done = batch.end if handed == len(records) else batch.end_of(handed - 1)
                self._commit(done, batch.discarded_at)
                self.received += handed
            total += handed
            if len(records) < self.batch_size:
                return total

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
        """Unmap the ring and close the reader's fds; idempotent."""
        for view_name in ("_data_u32", "_data", "_consumer_pos", "_producer_pos"):
            view = self.__dict__.pop(view_name, None)
            if view is not None:
                view.release()
        for mm_name in ("_consumer_mm", "_producer_mm"):
            mm = getattr(self, mm_name, None)
            setattr(self, mm_name, None)
            if mm is not None:
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
