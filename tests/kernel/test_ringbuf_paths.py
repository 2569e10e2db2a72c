"""Every way of reading a ring buffer sees the same records: a differential test of the fast
paths (runs decoded in place by ``iter_unpack``, NumPy copies and views, the C-loop
callback) against each other and against what the kernel's producers wrote
(tests/bpf/readers_producers.bpf.c, one record per BPF_PROG_TEST_RUN), over wrap-around,
discarded records, records of varying sizes, a full ring and busy records; with and
without NumPy's vectorised header check."""

from __future__ import annotations

import ctypes
import struct

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel import CtypesCodec, ring_arrays, ringbuf
from pybpf.kernel.ringbuf import BUSY_BIT, DISCARD_BIT, PAGE_SIZE, RingBuffer
from tests.kernel.test_ringbuf import EVENT_STRUCT, Event, FakeRing, Producers, event_bytes

pytestmark = pytest.mark.kernel
np = pytest.importorskip("numpy")  # the test extra installs it: never skipped in CI

SIZE = EVENT_STRUCT.size  # 64


# -- the paths: each drains a reader and returns every record's bytes (its first 64) ----------

def _drain_batches(rb: RingBuffer, to_bytes, limit: int | None = 7) -> list[bytes]:
    out: list[bytes] = []
    while True:
        got = rb.read_batch(limit)
        if not got:
            return out
        out += map(to_bytes, got)


def _drain_arrays(rb: RingBuffer) -> list[bytes]:
    out: list[bytes] = []
    while True:
        arr = rb.read_array(9)
        if not len(arr):  # nothing ready (discarded records are passed over)
            return out
        out += [arr[i].tobytes() for i in range(len(arr))]


def _drain_views(rb: RingBuffer) -> list[bytes]:
    out: list[bytes] = []
    while True:
        with rb.view_array(11) as arr:
            assert not arr.flags.writeable  # the ring's pages are mapped read-only
            out += [arr[i].tobytes() for i in range(len(arr))]
            if not len(arr):
                return out


def _drain_callback(rb: RingBuffer, to_bytes) -> list[bytes]:
    out: list[bytes] = []
    rb.callback = lambda record: out.append(to_bytes(record))
    rb.consume()
    return out


def _tuple_bytes(record: tuple) -> bytes:
    return EVENT_STRUCT.pack(*record)


PATHS = {
    "batch bytes": (None, lambda rb: [r[:SIZE] for r in _drain_batches(rb, bytes)]),
    "batch bytes, one read": (None, lambda rb: [r[:SIZE] for r in
                                                _drain_batches(rb, bytes, None)]),
    "batch struct": (EVENT_STRUCT, lambda rb: _drain_batches(rb, _tuple_bytes)),
    "batch ctypes": (Event, lambda rb: _drain_batches(rb, bytes)),
    "batch codec": (CtypesCodec(Event), lambda rb: _drain_batches(rb, bytes)),
    "iteration struct": (EVENT_STRUCT, lambda rb: [_tuple_bytes(r) for r in rb]),
    "callback struct": (EVENT_STRUCT, lambda rb: _drain_callback(rb, _tuple_bytes)),
    "callback ctypes": (Event, lambda rb: _drain_callback(rb, bytes)),
    "callback bytes": (None, lambda rb: [r[:SIZE] for r in _drain_callback(rb, bytes)]),
    "read_array": (Event, _drain_arrays),
    "view_array": (Event, _drain_views),
}


@pytest.fixture(params=["numpy headers", "pure headers", "pure headers, 3 at a time"])
def header_check(request, monkeypatch):
    """Run each test with the NumPy header comparison and with the pure-Python one (also
    comparing a few headers at a time, as it does for long runs)."""
    if request.param.startswith("pure headers"):
        monkeypatch.setattr(ring_arrays, "loaded_numpy", lambda: None)
    if request.param.endswith("at a time"):
        monkeypatch.setattr(ringbuf._SameHeaders, "CHUNK", 3)
    return request.param


def _reader(producers: Producers, path: str, **kw) -> RingBuffer:
    record_type, _ = PATHS[path]
    return RingBuffer(producers.maps["rb"], record_type=record_type, batch_size=5, **kw)


def _read(rb: RingBuffer, path: str, header_check: str) -> list[bytes]:
    return PATHS[path][1](rb)


# -- the kernel's producers ---------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
def test_every_path_reads_runs_and_discards_alike(path, header_check):
    with Producers() as producers, _reader(producers, path) as rb:
        producers.run("rb_output", 30)           # seq 0-29: one run
        producers.run("rb_discard_odd", 9)       # 30-38: 31, 33... discarded between
        producers.run("rb_output", 20)           # 39-58
        got = _read(rb, path, header_check)
        kept = [*range(30), *range(30, 39, 2), *range(39, 59)]
        kinds = {s: 3 if 30 <= s < 39 else 1 for s in kept}
        assert got == [event_bytes(s, kinds[s]) for s in kept]
        assert rb.discarded == 4 and rb.received == len(kept)
        assert rb.available_bytes() == 0


@pytest.mark.parametrize("path", PATHS)
def test_every_path_reads_across_the_end_of_the_ring(path, header_check):
    # one page of ring and 72-byte records: runs cross the end of the data area, which the
    # double mapping makes contiguous; each round leaves the ring at another offset
    with Producers(ring_size=PAGE_SIZE) as producers, _reader(producers, path) as rb:
        got, made = [], 0
        for count in (50, 40, 23, 55, 1, 31, 56, 17):
            producers.run("rb_output", count)
            made += count
            got += _read(rb, path, header_check)
        assert producers.drops == 0
        assert got == [event_bytes(s, 1) for s in range(made)]
        assert made * 72 > 4 * PAGE_SIZE


@pytest.mark.parametrize("path", PATHS)
def test_a_full_ring_drops_at_the_producer_and_every_path_sees_the_rest(path, header_check):
    with Producers(ring_size=PAGE_SIZE) as producers, _reader(producers, path) as rb:
        fits = PAGE_SIZE // 72
        producers.run("rb_output", fits + 9)
        assert producers.drops == 9
        assert _read(rb, path, header_check) == [event_bytes(s, 1) for s in range(fits)]
        producers.run("rb_output", 3)  # room again: seq goes on after the dropped ones
        assert _read(rb, path, header_check) == [event_bytes(s, 1)
                                                 for s in range(fits + 9, fits + 12)]
        assert rb.discarded == 0


@pytest.mark.parametrize("path", ["batch bytes", "batch bytes, one read", "callback bytes"])
def test_records_of_every_size_fall_back_to_short_runs(path, header_check):
    with Producers() as producers, _reader(producers, path) as rb:
        producers.run("rb_sized", 70)            # 1..32 bytes, sizes cycling
        producers.run("rb_output", 3)
        got = _read(rb, path, header_check)
        assert got == [event_bytes(s, 4)[:(s & 31) + 1] for s in range(70)] + \
            [event_bytes(s, 1) for s in range(70, 73)]


@pytest.mark.parametrize("reader", ["read_array", "view_array"])
def test_arrays_of_a_prefix_dtype_read_records_of_every_size(reader, header_check):
    # a 1-byte dtype fits every record: runs of equal stride become arrays, others break
    dtype = np.dtype([("first", "u1")])
    with Producers() as producers, RingBuffer(producers.maps["rb"]) as rb:
        producers.run("rb_sized", 40)
        producers.run("rb_output", 10)  # one run of ten
        firsts: list[int] = []
        while rb.available_bytes():
            if reader == "read_array":
                firsts += rb.read_array(dtype=dtype)["first"].tolist()
            else:
                with rb.view_array(dtype=dtype) as arr:
                    firsts += arr["first"].tolist()
        assert firsts == [s & 0xFF for s in range(50)]  # seq's low byte comes first


# -- records the kernel shows only for an instant: busy and discarded, written by the test --

@pytest.mark.parametrize("path", PATHS)
def test_every_path_stops_at_a_busy_record_inside_a_run(path, header_check):
    with Producers() as producers, _reader(producers, path) as rb:
        fake = FakeRing(rb)
        try:
            for seq in range(12):
                fake.put(event_bytes(seq, 1), BUSY_BIT if seq == 8 else
                         DISCARD_BIT if seq == 4 else 0)
            assert _read(rb, path, header_check) == \
                [event_bytes(s, 1) for s in (0, 1, 2, 3, 5, 6, 7)]
            assert rb.discarded == 1 and rb.available_bytes() == 4 * 72
            fake.set_flags(8 * 72, 0)  # committed: the rest follows
            assert _read(rb, path, header_check) == [event_bytes(s, 1) for s in range(8, 12)]
        finally:
            fake.restore()


# -- callbacks that raise: consumed up to the record they raised on ---------------------------

@pytest.mark.parametrize("record_type, seq_of", [
    (EVENT_STRUCT, lambda r: r[0]),
    (Event, lambda r: r.seq),
    (None, lambda r: struct.unpack_from("=Q", r)[0]),
    (CtypesCodec(Event), lambda r: r.seq),
    (ctypes.c_uint64, lambda r: r),
])
def test_a_raising_callback_stops_on_every_record_type(record_type, seq_of):
    seen: list[int] = []

    def callback(record) -> None:
        seen.append(seq_of(record))
        if seen[-1] in (3, 11):
            raise RuntimeError("stop here")

    with Producers() as producers, \
            RingBuffer(producers.maps["rb"], callback, record_type=record_type,
                       batch_size=4) as rb:
        producers.run("rb_output", 14)
        for _ in range(2):
            with pytest.raises(RuntimeError, match="stop here"):
                rb.consume()
        assert seen == list(range(12)) and rb.received == 12
        assert rb.consume() == 2 and seen == list(range(14))


def _ring_mappings() -> int:
    with open("/proc/self/maps") as maps:
        return sum("bpf-map" in line for line in maps)


@pytest.mark.parametrize("record_type", [EVENT_STRUCT, Event, None, ctypes.c_uint64])
def test_a_raising_callback_leaves_no_view_of_the_ring_behind(record_type):
    # the exception is kept (as a caller logging it later would): its traceback must not
    # hold a decoder still reading the ring, which kept the pages mapped past close()
    def callback(record) -> None:
        raise RuntimeError("stop here")

    with Producers() as producers:
        before = _ring_mappings()
        rb = RingBuffer(producers.maps["rb"], callback, record_type=record_type)
        try:
            producers.run("rb_output", 5)
            with pytest.raises(RuntimeError, match="stop here") as raised:
                rb.consume()
            assert _ring_mappings() == before + 2 and rb.received == 1
            rb.callback = None
            assert len(rb.read_batch()) == 4  # read again: the rest is there
        finally:
            rb.close()
        assert _ring_mappings() == before  # unmapped although the exception lives on
        assert raised.value.__traceback__ is not None


def test_an_error_before_the_callback_leaves_no_view_of_the_ring_behind(monkeypatch):
    # as if Ctrl-C landed between slicing the run and decoding it
    with Producers() as producers:
        before = _ring_mappings()
        rb = RingBuffer(producers.maps["rb"], lambda r: None, record_type=EVENT_STRUCT)
        try:
            producers.run("rb_output", 3)

            def interrupted(*args):
                raise KeyboardInterrupt
            monkeypatch.setattr(rb.decoder, "strided", interrupted)
            with pytest.raises(KeyboardInterrupt) as raised:
                rb.consume()
            assert rb.received == 0
            monkeypatch.undo()
            assert rb.consume() == 3  # nothing was taken: all three are still there
        finally:
            rb.close()
        assert _ring_mappings() == before
        assert raised.value.__traceback__ is not None


# -- the view: over the ring itself, consumed when its block ends ---------------------------

def _address(arr) -> int:
    return arr.__array_interface__["data"][0]


def test_view_array_is_the_ring_itself_even_across_its_end():
    with Producers(ring_size=PAGE_SIZE) as producers, \
            RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 50)
        assert len(rb.read_batch()) == 50
        producers.run("rb_output", 40)  # from 50 * 72 = 3600 on: past the end at 4096
        mapping = np.frombuffer(rb._producer_mm, np.uint8)
        with rb.view_array() as arr:
            assert arr.dtype == np.dtype(Event) and len(arr) == 40
            start = _address(mapping) + PAGE_SIZE + 3600 + 8  # data area, record, header
            assert _address(arr) == start  # no copy: the array is the mapped ring
            assert arr["seq"].tolist() == list(range(50, 90))
            assert [arr[i].tobytes() for i in range(40)] == \
                [event_bytes(s, 1) for s in range(50, 90)]
            assert rb.available_bytes() == 40 * 72  # not consumed while the block runs
            with pytest.raises(InvalidInputError, match="view_array"):
                rb.read_batch()
        assert rb.available_bytes() == 0 and rb.received == 90
        del mapping, arr


def test_view_array_is_consumed_even_when_its_block_raises():
    with Producers() as producers, RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 5)
        with pytest.raises(RuntimeError), rb.view_array() as arr:
            assert len(arr) == 5
            raise RuntimeError("in the block")
        assert rb.available_bytes() == 0 and rb.read_batch() == []


def test_a_view_kept_after_close_stays_readable():
    # a view kept past its block (a user error) must not crash: the pages stay mapped
    with Producers() as producers:
        rb = RingBuffer(producers.maps["rb"], record_type=Event)
        producers.run("rb_output", 3)
        with rb.view_array() as arr:
            pass
        rb.close()
        assert rb.closed
        assert arr["magic"].tolist() == [0x70796270] * 3
        del arr


def test_view_array_raises_on_a_record_too_short_like_read_array():
    with Producers() as producers, RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 2)
        producers.run("rb_sized", 1)  # seq 2: 3 bytes
        producers.run("rb_output", 1)
        with rb.view_array() as arr:
            assert arr["seq"].tolist() == [0, 1]
        with pytest.raises(InvalidInputError, match="3 bytes, fewer than the 64"):
            with rb.view_array():
                pass
        with rb.view_array() as arr:
            assert arr["seq"].tolist() == [3]


def test_without_numpy_the_object_paths_work_and_arrays_say_what_is_missing(monkeypatch):
    monkeypatch.setattr(ring_arrays, "numpy_if_installed", lambda: None)
    monkeypatch.setattr(ring_arrays, "loaded_numpy", lambda: None)
    with Producers() as producers, \
            RingBuffer(producers.maps["rb"], record_type=EVENT_STRUCT) as rb:
        producers.run("rb_output", 4)
        with pytest.raises(InvalidInputError, match=r"needs NumPy: pip install 'pybpf\[numpy\]'"):
            rb.read_array(dtype=np.dtype(Event))
        with pytest.raises(InvalidInputError, match="needs NumPy"):
            with rb.view_array(dtype=np.dtype(Event)):
                pass
        assert [r[0] for r in rb.read_batch()] == [0, 1, 2, 3]


@pytest.mark.parametrize("record_type", [EVENT_STRUCT, Event, None])
def test_a_callback_may_close_its_reader(record_type):
    seen: list = []

    def callback(record) -> None:
        seen.append(record)
        if len(seen) == 3:
            rb.close()

    with Producers() as producers:
        rb = RingBuffer(producers.maps["rb"], callback, record_type=record_type)
        producers.run("rb_output", 6)           # one run: seq 0-6 (6 is kept by...
        producers.run("rb_discard_odd", 4)      # ...rb_discard_odd), then 8 alone
        rb.consume()  # the run is decoded in place: the close waits for it to end
        assert len(seen) == 7 and rb.closed    # and no run is read after it
