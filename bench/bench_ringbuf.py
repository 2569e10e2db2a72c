"""Ring buffer draining: pybpf's RingBuffer beside a C consumer using libbpf.

Producer (same for every consumer): the XDP program ``rb_output`` of
tests/bpf/readers_producers.bpf.c, run by BPF_PROG_TEST_RUN with a repeat count that fills
a 32 MiB ring exactly (one 64-byte ``struct event`` per run, 72 bytes with its header).
Only the draining is timed; the ring is refilled before each drain. Every consumer reads
``seq`` of every record and sums it, as the C callback does.

Consumers:
* pybpf view_array (NumPy extra): ``with rb.view_array() as arr``, a structured array over
  the ring itself (no copy), summing the ``seq`` column;
* pybpf read_array (NumPy extra): one packed structured array per read (one copy);
* pybpf batch: ``read_batch(N)`` in a loop, records as ``struct.Struct`` tuples of the
  whole record (``=QII48s``) or of its first three fields (``=QII48x``: the payload
  skipped as pad bytes, one object fewer), as ctypes structures, or as bytes;
* pybpf callback: ``consume()`` calling a Python function per record (tuples, ctypes);
* the CPython floor of tuple readers (not a reader: no header is checked): the records
  unpacked in place by one ``iter_unpack`` per batch of a framed ``struct.Struct`` over a
  mapping of the ring made here, listed and summed as the batch rows do; what the tuples'
  objects alone cost, for the batch rows to be read against;
* C: a program written here, compiled at bench time against libbpf (``gcc -lbpf``), that
  opens the map by id and times ``ring_buffer__consume`` with a callback summing ``seq``.

Runs are interleaved (run 1 of every consumer, then run 2...) so that other load on the
machine falls on all of them alike; the table gives medians, the ratio is C / this.
Run as root: .venv/bin/python bench/bench_ringbuf.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import mmap
import operator
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pybpf.elf import load_collection_spec  # noqa: E402
from pybpf.kernel import Map, Program  # noqa: E402
from pybpf.kernel.ringbuf import RingBuffer  # noqa: E402
from tests.bpfobjs import build_object  # noqa: E402

RING_SIZE = 32 << 20
RECORD_STRIDE = 72  # 64-byte event + 8-byte header
EVENTS = RING_SIZE // RECORD_STRIDE
BATCH = 2048  # records per read_batch: a batch of objects that stays in L2
PACKET = bytes(64)


class Event(ctypes.Structure):
    _fields_ = [("seq", ctypes.c_uint64), ("magic", ctypes.c_uint32),
                ("kind", ctypes.c_uint32), ("payload", ctypes.c_uint8 * 48)]


EVENT_STRUCT = struct.Struct("=QII48s")
# the fields a consumer reads, the payload skipped as pad bytes: fewer objects per record
EVENT_HEAD = struct.Struct("=QII48x")

C_CONSUMER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct event { unsigned long long seq; unsigned magic, kind; unsigned char payload[48]; };

static unsigned long long total, count;

static int on_event(void *ctx, void *data, size_t size)
{
	const struct event *e = data;
	total += e->seq;
	count++;
	return 0;
}

int main(int argc, char **argv)
{
	int fd = bpf_map_get_fd_by_id(atoi(argv[1]));
	if (fd < 0) { perror("bpf_map_get_fd_by_id"); return 1; }
	struct ring_buffer *rb = ring_buffer__new(fd, on_event, NULL, NULL);
	if (!rb) { perror("ring_buffer__new"); return 1; }
	struct timespec a, b, ca, cb;
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	int n = ring_buffer__consume(rb);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (n < 0) { fprintf(stderr, "consume: %d\n", n); return 1; }
	long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	long long cpu_ns = (cb.tv_sec - ca.tv_sec) * 1000000000LL + (cb.tv_nsec - ca.tv_nsec);
	printf("%llu %lld %llu %lld\n", count, ns, total, cpu_ns);
	ring_buffer__free(rb);
	return 0;
}
"""


class Bench(contextlib.ExitStack):
    """The producer program and its maps, the ring sized for the bench."""

    def __init__(self) -> None:
        super().__init__()
        spec = load_collection_spec(build_object("readers_producers"))
        self.maps = {}
        for name, map_spec in spec.maps.items():
            if name == "rb":
                map_spec = dataclasses.replace(map_spec, max_entries=RING_SIZE)
            self.maps[name] = self.enter_context(Map.create(map_spec))
        self.producer = self.enter_context(Program.load(spec.programs["rb_output"],
                                                        maps=self.maps))

    def fill(self) -> None:
        self.producer.test_run(PACKET, repeat=EVENTS)


def _timed(drain) -> tuple[float, float]:
    """(wall, CPU) seconds of one drain."""
    start, cpu = time.perf_counter(), time.process_time()
    total = drain()
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    # seq runs on across fills: the sum of EVENTS consecutive numbers (bytes count -1 each)
    first, rest = divmod(total - EVENTS * (EVENTS - 1) // 2, EVENTS)
    assert total == -EVENTS or (rest == 0 and first >= 0), total
    return elapsed


def batch_consumer(rb: RingBuffer, seq_of):
    """Drain with read_batch; ``seq_of`` is a C-level getter (None: bytes records, only
    copied out and counted, as -1 each)."""
    def drain() -> int:
        total = 0
        while True:
            records = rb.read_batch(BATCH)
            if not records:
                return total
            total += sum(map(seq_of, records)) if seq_of is not None else -len(records)
    return drain


def floor_consumer(ring: Map, record: struct.Struct, stack: contextlib.ExitStack):
    """The floor of any tuple reader (see the module docstring): the ring mapped as the
    kernel lays it out, every record unpacked in place, no header checked."""
    page = mmap.PAGESIZE
    consumer = stack.enter_context(mmap.mmap(ring.fileno(), page, mmap.MAP_SHARED,
                                             mmap.PROT_READ | mmap.PROT_WRITE))
    producer = stack.enter_context(mmap.mmap(ring.fileno(), page + 2 * RING_SIZE,
                                             mmap.MAP_SHARED, mmap.PROT_READ, offset=page))
    consumer_pos = stack.enter_context(memoryview(consumer)[:8].cast("Q"))
    producer_pos = stack.enter_context(memoryview(producer)[:8].cast("Q"))
    data = stack.enter_context(memoryview(producer)[page:])
    framed = struct.Struct(f"=8x{record.format.lstrip('=')}{RECORD_STRIDE - 8 - record.size}x")
    seq_of = operator.itemgetter(0)

    def drain() -> int:
        total, position, end = 0, consumer_pos[0], producer_pos[0]
        while position < end:
            offset = position & (RING_SIZE - 1)
            count = min(BATCH, (end - position) // RECORD_STRIDE)
            with data[offset:offset + count * RECORD_STRIDE] as run:
                total += sum(map(seq_of, list(framed.iter_unpack(run))))
            position += count * RECORD_STRIDE
        consumer_pos[0] = position
        return total
    return drain


def array_consumer(rb: RingBuffer):
    def drain() -> int:
        total = 0
        while True:
            arr = rb.read_array(BATCH * 32)
            if not len(arr):
                return total
            total += int(arr["seq"].sum())
    return drain


def view_consumer(rb: RingBuffer):
    def drain() -> int:
        total = 0
        while True:
            with rb.view_array(BATCH * 32) as arr:
                if not len(arr):
                    return total
                total += int(arr["seq"].sum())
    return drain


def callback_consumer(rb: RingBuffer, state: dict):
    def drain() -> int:
        state["sum"] = 0
        assert rb.consume() == EVENTS
        return state["sum"]
    return drain


class CConsumer:
    """The libbpf consumer, built once."""

    def __init__(self, workdir: Path):
        gcc = shutil.which("gcc") or shutil.which("cc")
        self.exe: Path | None = None
        if gcc is None or not Path("/usr/include/bpf/libbpf.h").exists():
            return
        src = workdir / "consumer.c"
        src.write_text(C_CONSUMER)
        self.exe = workdir / "consumer"
        subprocess.run([gcc, "-O2", str(src), "-o", str(self.exe), "-lbpf"], check=True)

    def time(self, map_id: int) -> tuple[float, float]:
        assert self.exe is not None
        out = subprocess.run([str(self.exe), str(map_id)], check=True, capture_output=True,
                             text=True).stdout.split()
        count, ns, cpu_ns = int(out[0]), int(out[1]), int(out[3])
        assert count == EVENTS, out
        return ns / 1e9, cpu_ns / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per consumer (median)")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    if os.geteuid() != 0:
        sys.exit("run as root: the bench loads BPF programs")
    try:
        import numpy  # noqa: F401
        have_numpy = True
    except ImportError:
        have_numpy = False
    with Bench() as bench, tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as st:
        ring = bench.maps["rb"]

        def reader(record_type, callback=None) -> RingBuffer:
            return st.enter_context(RingBuffer(ring, callback, record_type=record_type,
                                               batch_size=BATCH))
        state = {"sum": 0}

        def add_tuple(event) -> None:
            state["sum"] += event[0]

        def add_ctypes(event) -> None:
            state["sum"] += event.seq

        consumers = []
        if have_numpy and hasattr(RingBuffer, "view_array"):  # (not in older pybpf)
            consumers.append(("pybpf view_array, NumPy view over the ring (no copy)",
                              view_consumer(reader(Event))))
        if have_numpy:
            consumers.append(("pybpf read_array, NumPy structured array (one copy)",
                              array_consumer(reader(Event))))
        consumers += [
            (f"pybpf read_batch({BATCH}), struct.Struct tuples of the whole record",
             batch_consumer(reader(EVENT_STRUCT), operator.itemgetter(0))),
            (f"pybpf read_batch({BATCH}), struct.Struct tuples, payload skipped (=QII48x)",
             batch_consumer(reader(EVENT_HEAD), operator.itemgetter(0))),
            (f"pybpf read_batch({BATCH}), ctypes Structure",
             batch_consumer(reader(Event), operator.attrgetter("seq"))),
            (f"pybpf read_batch({BATCH}), bytes (copied, not decoded)", batch_consumer(reader(None), None)),
            ("CPython floor (no reader, headers unchecked): iter_unpack, whole record",
             floor_consumer(ring, EVENT_STRUCT, st)),
            ("CPython floor (no reader, headers unchecked): iter_unpack, payload skipped",
             floor_consumer(ring, EVENT_HEAD, st)),
            ("pybpf callback, struct.Struct tuples",
             callback_consumer(reader(EVENT_STRUCT, add_tuple), state)),
            ("pybpf callback, struct.Struct tuples, payload skipped (=QII48x)",
             callback_consumer(reader(EVENT_HEAD, add_tuple), state)),
            ("pybpf callback, ctypes Structure",
             callback_consumer(reader(Event, add_ctypes), state)),
        ]
        c = CConsumer(Path(tmp))
        times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in consumers}
        c_times: list[tuple[float, float]] = []
        for _ in range(runs + 1):  # the first round warms up (page tables, caches)
            for name, drain in consumers:
                bench.fill()
                times[name].append(_timed(drain))
            if c.exe is not None:
                bench.fill()
                c_times.append(c.time(ring.id))
        load = os.getloadavg()[0]
    def rate(samples: list[tuple[float, float]], which: int) -> float:
        return EVENTS / statistics.median(sample[which] for sample in samples[1:])

    rows = [(name, rate(t, 0), rate(t, 1)) for name, t in times.items()]
    if c_times:
        rows.append(("C, libbpf ring_buffer__consume", rate(c_times, 0), rate(c_times, 1)))
    c_wall, c_cpu = (rows[-1][1], rows[-1][2]) if c_times else (None, None)
    print(f"Ring buffer drain, {EVENTS:,} events of 64 bytes (32 MiB ring, XDP test-run "
          f"producer), median of {runs} interleaved runs, load average {load:.1f}; "
          "CPU: the consumer's own CPU time (not counting time other work took the core)\n")
    print("| consumer | events/s (wall) | events/s (CPU) | C libbpf / this (wall) | "
          "C libbpf / this (CPU) |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, cpu in rows:
        ratios = f"{c_wall / wall:.2f}x | {c_cpu / cpu:.2f}x" if c_wall and c_cpu \
            else "n/a | n/a"
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} | {ratios} |")
    if not c_times:
        print("| C, libbpf ring_buffer__consume | (gcc or libbpf-dev missing) | | | |")

if __name__ == "__main__":
    main()
