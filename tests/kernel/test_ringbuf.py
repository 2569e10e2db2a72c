"""The ring buffer reader against real producers: XDP programs run by BPF_PROG_TEST_RUN, each
run writing exactly one record (tests/bpf/readers_producers.bpf.c), so every test knows
how many events exist and what each one holds."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import struct
import threading
import time

import pytest

from pybpf.elf import load_collection_spec
from pybpf.errors import ClosedError, InvalidInputError
from pybpf.kernel import CtypesCodec, Map, Program
from pybpf.kernel.ringbuf import BUSY_BIT, DISCARD_BIT, PAGE_SIZE, RingBuffer, RingBufferPoller
from pybpf.spec import MapSpec, MapType
from tests.bpfobjs import build_object

pytestmark = pytest.mark.kernel

PACKET = bytes(64)  # XDP test runs need at least an Ethernet header
EVENT_MAGIC = 0x70796270
KIND = {"rb_output": 1, "rb_reserve_submit": 2, "rb_discard_odd": 3, "rb_sized": 4,
        "perf_output": 5}


class Event(ctypes.Structure):
    """``struct event`` of readers_producers.bpf.c."""

    _fields_ = [("seq", ctypes.c_uint64), ("magic", ctypes.c_uint32),
                ("kind", ctypes.c_uint32), ("payload", ctypes.c_uint8 * 48)]


EVENT_STRUCT = struct.Struct("=QII48s")


def event_bytes(seq: int, kind: int) -> bytes:
    """The 64 bytes the producers write for sequence number ``seq``."""
    return EVENT_STRUCT.pack(seq, EVENT_MAGIC, kind, bytes((seq + i) & 0xFF for i in range(48)))


class Producers(contextlib.ExitStack):
    """The maps and programs of readers_producers.bpf.c, live; ``run(name, n)`` makes n
    records (sequence numbers continue across programs)."""

    def __init__(self, *, ring_size: int | None = None):
        super().__init__()
        spec = load_collection_spec(build_object("readers_producers"))
        try:
            self.maps: dict[str, Map] = {}
            for name, map_spec in spec.maps.items():
                if name == "rb" and ring_size is not None:
                    map_spec = dataclasses.replace(map_spec, max_entries=ring_size)
                self.maps[name] = self.enter_context(Map.create(map_spec))
            self.programs = {name: self.enter_context(Program.load(prog, maps=self.maps))
                             for name, prog in spec.programs.items()}
        except BaseException:
            self.close()
            raise

    def run(self, program: str, times: int = 1) -> None:
        self.programs[program].test_run(PACKET, repeat=times)

    @property
    def drops(self) -> int:
        """Records a producer could not write (ring full, perf event missing)."""
        return int.from_bytes(self.maps["counters"].lookup(1), "little")


@pytest.fixture
def producers():
    with Producers() as p:
        yield p


def seqs(events) -> list[int]:
    return [e.seq for e in events]


def test_ringbuf_output_records_arrive_in_order_with_their_contents(producers):
    with RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 10)
        events = rb.read_batch()
        assert seqs(events) == list(range(10))
        assert [bytes(e) for e in events] == [event_bytes(i, 1) for i in range(10)]
        assert rb.read_batch() == []
        assert rb.available_bytes() == 0
        assert rb.received == 10 and rb.discarded == 0


def test_reserve_submit_records_as_bytes(producers):
    with RingBuffer(producers.maps["rb"]) as rb:
        producers.run("rb_reserve_submit", 7)
        assert rb.read_batch() == [event_bytes(i, 2) for i in range(7)]


def test_discarded_records_are_skipped_and_counted(producers):
    with RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_discard_odd", 11)
        events = rb.read_batch()
        assert seqs(events) == [0, 2, 4, 6, 8, 10]
        assert all(e.kind == 3 for e in events)
        assert rb.discarded == 5
        assert rb.available_bytes() == 0  # the discarded space was given back too


def test_records_of_every_length_keep_their_exact_bytes(producers):
    with RingBuffer(producers.maps["rb"]) as rb:
        producers.run("rb_sized", 64)
        records = rb.read_batch()
        assert [len(r) for r in records] == [(i & 31) + 1 for i in range(64)]
        assert records == [event_bytes(i, 4)[:(i & 31) + 1] for i in range(64)]


def test_ring_wraps_around_over_many_consume_rounds():
    # one page of ring: 72-byte records (64 + 8 header) straddle the end again and again,
    # which the double mapping of the data area makes contiguous for us
    with Producers(ring_size=PAGE_SIZE) as producers, \
            RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        per_round = PAGE_SIZE // 72
        got = []
        for _ in range(12):
            producers.run("rb_output", per_round)
            got += rb.read_batch()
        assert producers.drops == 0
        total = 12 * per_round
        assert 72 * total > 10 * PAGE_SIZE
        assert seqs(got) == list(range(total))
        assert [bytes(e) for e in got] == [event_bytes(i, 1) for i in range(total)]


def test_a_full_ring_drops_at_the_producer_and_the_reader_sees_the_rest():
    with Producers(ring_size=PAGE_SIZE) as producers, \
            RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        fits = PAGE_SIZE // 72
        producers.run("rb_output", fits + 5)
        assert producers.drops == 5
        assert seqs(rb.read_batch()) == list(range(fits))


def test_read_batch_respects_max_records(producers):
    with RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 10)
        assert seqs(rb.read_batch(3)) == [0, 1, 2]
        assert seqs(rb.read_batch(4)) == [3, 4, 5, 6]
        assert seqs(rb.read_batch()) == [7, 8, 9]


@pytest.mark.parametrize("record_type, as_tuple", [
    (EVENT_STRUCT, lambda r: r),
    (struct.Struct("<QII48s"), lambda r: r),
    (Event, lambda r: (r.seq, r.magic, r.kind, bytes(r.payload))),
    (CtypesCodec(Event), lambda r: (r.seq, r.magic, r.kind, bytes(r.payload))),
])
def test_every_record_type_decodes_the_same_fields(producers, record_type, as_tuple):
    with RingBuffer(producers.maps["rb"], record_type=record_type) as rb:
        producers.run("rb_output", 5)
        producers.run("rb_reserve_submit", 1)  # a single record takes the one-by-one path
        decoded = [as_tuple(r) for r in rb.read_batch()]
        expected = [EVENT_STRUCT.unpack(event_bytes(i, 1)) for i in range(5)]
        assert decoded == expected + [EVENT_STRUCT.unpack(event_bytes(5, 2))]


def test_a_simple_ctypes_record_type_gives_python_values(producers):
    with RingBuffer(producers.maps["rb"], record_type=ctypes.c_uint64) as rb:
        producers.run("rb_output", 4)
        assert rb.read_batch() == [0, 1, 2, 3]  # the first 8 bytes: seq


def test_a_record_shorter_than_its_type_is_an_error_not_a_stall(producers):
    with RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 2)      # seq 0, 1: full events
        producers.run("rb_sized", 1)       # seq 2: 3 bytes
        producers.run("rb_output", 2)      # seq 3, 4
        assert seqs(rb.read_batch()) == [0, 1]  # what came before is handed out first
        with pytest.raises(InvalidInputError, match="3 bytes, fewer than the 64 of Event"):
            rb.read_batch()
        assert seqs(rb.read_batch()) == [3, 4]  # and the reader moved past it


def test_callback_mode_poll_and_consume(producers):
    seen = []
    with RingBuffer(producers.maps["rb"], seen.append, record_type=Event) as rb:
        assert rb.poll(0) == 0
        producers.run("rb_output", 5)
        assert rb.poll(1000) == 5
        producers.run("rb_discard_odd", 4)  # seq 5..8: 6 and 8 kept
        assert rb.consume() == 2
        assert seqs(seen) == [0, 1, 2, 3, 4, 6, 8]
        assert rb.discarded == 2


def test_poll_wakes_up_when_a_record_arrives(producers):
    seen = []
    with RingBuffer(producers.maps["rb"], seen.append, record_type=Event) as rb:
        timer = threading.Timer(0.05, producers.run, ("rb_output", 1))
        timer.start()
        try:
            started = time.monotonic()
            handed = rb.poll(5000)
        finally:
            timer.join()
        assert handed == 1 and seqs(seen) == [0]
        assert time.monotonic() - started < 4  # woken by epoll, not by the timeout
        assert rb.poll(10) == 0


def test_a_raising_callback_consumes_up_to_its_record(producers):
    seen = []

    def callback(event):
        seen.append(event.seq)
        if event.seq == 3:
            raise RuntimeError("stop here")

    with RingBuffer(producers.maps["rb"], callback, record_type=Event) as rb:
        producers.run("rb_output", 6)
        with pytest.raises(RuntimeError, match="stop here"):
            rb.consume()
        assert seen == [0, 1, 2, 3]
        assert rb.consume() == 2
        assert seen == [0, 1, 2, 3, 4, 5]


def test_iteration_yields_what_is_there_and_stops(producers):
    with RingBuffer(producers.maps["rb"], record_type=Event, batch_size=4) as rb:
        producers.run("rb_output", 10)
        first = []
        for event in rb:
            first.append(event.seq)
            if event.seq == 5:
                break  # records after the one we stopped at stay in the ring
        assert first == [0, 1, 2, 3, 4, 5]
        assert seqs(list(rb)) == [6, 7, 8, 9]
        assert list(rb) == []


def test_poller_drains_several_ring_buffers(producers):
    with Producers() as other:
        got_a, got_b = [], []
        with RingBufferPoller() as poller:
            readers = [poller.add(producers.maps["rb"], got_a.append, record_type=Event),
                       poller.add(RingBuffer(other.maps["rb"], got_b.append))]
            assert poller.poll(0) == 0
            producers.run("rb_discard_odd", 4)
            other.run("rb_output", 3)
            assert poller.poll(1000) == 5
            assert seqs(got_a) == [0, 2]
            assert got_b == [event_bytes(i, 1) for i in range(3)]
            assert poller.discarded == 2
            other.run("rb_output", 1)
            assert poller.poll(1000) == 1 and len(got_b) == 4
        assert all(r.closed for r in readers)  # the poller owned them


# -- the busy bit, on a ring whose bytes the test writes ----------------------------------------

class FakeRing:
    """Points a reader's views at a bytearray laid out like the kernel's ring, to write
    headers the kernel would only show for an instant (a record still being written)."""

    def __init__(self, rb: RingBuffer):
        self.rb = rb
        self.data = bytearray(2 * rb.size)
        self.positions = bytearray(16)  # consumer_pos, producer_pos
        self.saved = {name: rb.__dict__[name] for name in
                      ("_data", "_data_u32", "_consumer_pos", "_producer_pos")}
        self.producer = 0
        views = memoryview(self.positions).cast("Q")
        rb.__dict__.update(_data=memoryview(self.data), _data_u32=memoryview(self.data).cast("I"),
                           _consumer_pos=views[0:1], _producer_pos=views[1:2])

    def put(self, body: bytes, flags: int = 0) -> None:
        offset = self.producer % self.rb.size
        record = struct.pack("=II", len(body) | flags, 0) + body
        record += bytes(-len(record) % 8)
        for at in (offset, offset + self.rb.size):  # the double mapping
            end = min(at + len(record), len(self.data))
            self.data[at:end] = record[:end - at]
        self.producer += len(record)
        self.rb._producer_pos[0] = self.producer

    def set_flags(self, position: int, flags: int) -> None:
        offset = position % self.rb.size
        length = struct.unpack_from("=I", self.data, offset)[0] & (DISCARD_BIT - 1)
        struct.pack_into("=I", self.data, offset, length | flags)

    def restore(self) -> None:
        self.rb._arrays = None  # NumPy arrays over the fake ring hold its views
        for name in ("_data_u32", "_data", "_consumer_pos", "_producer_pos"):
            self.rb.__dict__[name].release()
        self.rb.__dict__.update(self.saved)


def test_reading_stops_at_a_busy_record_and_resumes_when_committed(producers):
    with RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        fake = FakeRing(rb)
        try:
            for seq in range(3):
                fake.put(event_bytes(seq, 1))
            fake.put(event_bytes(3, 1), BUSY_BIT)  # reserved, not yet submitted
            fake.put(event_bytes(4, 1))             # submitted after it: must wait
            assert seqs(rb.read_batch()) == [0, 1, 2]
            assert rb.read_batch() == []
            assert rb.available_bytes() == 2 * 72
            fake.set_flags(3 * 72, 0)  # the producer commits
            assert seqs(rb.read_batch()) == [3, 4]
            fake.put(event_bytes(5, 1), BUSY_BIT | DISCARD_BIT)  # being discarded
            assert rb.read_batch() == [] and rb.discarded == 0
            fake.set_flags(5 * 72, DISCARD_BIT)
            assert rb.read_batch() == [] and rb.discarded == 1
            assert rb.available_bytes() == 0
        finally:
            fake.restore()


def test_batches_mixing_sizes_and_discards_keep_order(producers):
    with RingBuffer(producers.maps["rb"]) as rb:
        fake = FakeRing(rb)
        try:
            expected = []
            for i in range(40):
                body = bytes([i]) * (8 if i % 7 else 13)
                flags = DISCARD_BIT if i % 5 == 4 else 0
                fake.put(body, flags)
                if not flags:
                    expected.append(body)
            assert rb.read_batch() == expected
            assert rb.discarded == 8
        finally:
            fake.restore()


# -- errors and lifetime ------------------------------------------------------------------------

def test_errors_name_the_ring_buffer(producers):
    with pytest.raises(InvalidInputError, match="ring buffer 'counters'.*ARRAY, not RINGBUF"):
        RingBuffer(producers.maps["counters"])
    with pytest.raises(InvalidInputError, match="record_type must be"):
        RingBuffer(producers.maps["rb"], record_type=42)
    with RingBuffer(producers.maps["rb"]) as rb:
        with pytest.raises(InvalidInputError, match="ring buffer 'rb'.*no callback"):
            rb.consume()
    with pytest.raises(ClosedError, match="ring buffer 'rb'"):
        rb.read_batch()
    rb.close()  # twice is fine
    with RingBufferPoller() as poller:
        with pytest.raises(InvalidInputError, match="needs a callback"):
            poller.add(producers.maps["rb"])


def test_the_reader_outlives_the_map_object():
    with Map.create(MapSpec("solo_rb", MapType.RINGBUF, 0, 0, PAGE_SIZE)) as ring_map:
        rb = RingBuffer(ring_map)
    with rb:
        assert rb.read_batch() == []  # its own fd and mappings keep the ring alive


# -- records as NumPy arrays: one structured array per read, no object per record ----------

def test_read_array_gives_the_records_fields_as_columns(producers):
    np = pytest.importorskip("numpy")  # the test extra installs it; never skipped in CI
    with RingBuffer(producers.maps["rb"], record_type=Event) as rb:
        producers.run("rb_output", 100)
        producers.run("rb_discard_odd", 4)      # seq 100..103: 101 and 103 are discarded
        producers.run("rb_sized", 1)            # seq 104: 9 bytes, too short for Event
        producers.run("rb_output", 2)           # seq 105, 106
        assert producers.drops == 0
        arr = rb.read_array()
        assert arr.dtype == np.dtype(Event) and len(arr) == 102
        assert arr["seq"].tolist() == list(range(101)) + [102]
        assert set(arr["magic"].tolist()) == {EVENT_MAGIC}
        assert arr["kind"].tolist() == [1] * 100 + [3, 3]
        assert bytes(arr[7]["payload"]) == event_bytes(7, 1)[16:]
        assert rb.discarded == 2 and rb.received == 102
        with pytest.raises(InvalidInputError, match="fewer than the 64"):
            rb.read_array()
        assert rb.read_array()["seq"].tolist() == [105, 106]
        assert len(rb.read_array()) == 0 and rb.available_bytes() == 0


def test_read_array_takes_a_dtype_and_a_limit_and_agrees_with_read_batch(producers):
    np = pytest.importorskip("numpy")
    dtype = np.dtype([("seq", "<u8"), ("magic", "<u4")])  # a prefix of the record
    with RingBuffer(producers.maps["rb"], record_type=EVENT_STRUCT) as rb:
        producers.run("rb_output", 50)
        head = rb.read_array(20, dtype=dtype)
        rest = rb.read_batch()
        assert head["seq"].tolist() == list(range(20))
        assert [r[0] for r in rest] == list(range(20, 50))
        with pytest.raises(InvalidInputError, match="needs a dtype"):
            rb.read_array()
