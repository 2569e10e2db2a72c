"""Ring buffer draining: pybpf's RingBuffer beside a C consumer using libbpf.

Producer (same for every consumer): the XDP program ``rb_output`` of
tests/bpf/readers_producers.bpf.c, run by BPF_PROG_TEST_RUN with a repeat count that fills
a 32 MiB ring exactly (one 64-byte ``struct event`` per run, 72 bytes with its header).
Only the draining is timed; the ring is refilled before each run.

Consumers:
* pybpf batch: ``read_batch(8192)`` in a loop, records as ctypes structures or as
  ``struct.Struct`` tuples whose ``seq`` is summed (as the C callback does), or as bytes;
* pybpf callback: ``consume()`` calling a Python function per ctypes record;
* pybpf array: ``read_array()`` (NumPy extra), one structured array per read, summing the
  ``seq`` column;
* C: a program written here, compiled at bench time against libbpf (``gcc -lbpf``), that
  opens the map by id and times ``ring_buffer__consume`` with a callback summing ``seq``.

Medians of 5 runs. Run as root: .venv/bin/python bench/bench_ringbuf.py
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
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

RUNS = 5
RING_SIZE = 32 << 20
RECORD_STRIDE = 72  # 64-byte event + 8-byte header
EVENTS = RING_SIZE // RECORD_STRIDE
BATCH = 8192
PACKET = bytes(64)


class Event(ctypes.Structure):
    _fields_ = [("seq", ctypes.c_uint64), ("magic", ctypes.c_uint32),
                ("kind", ctypes.c_uint32), ("payload", ctypes.c_uint8 * 48)]


EVENT_STRUCT = struct.Struct("=QII48s")

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
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int n = ring_buffer__consume(rb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (n < 0) { fprintf(stderr, "consume: %d\n", n); return 1; }
	long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	printf("%llu %lld %llu\n", count, ns, total);
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


def python_batch(bench: Bench, record_type, seq_of) -> float:
    """Drain in batches; like the C consumer, read ``seq`` of every record (``seq_of``:
    a C-level getter; None for bytes records, which are only copied out)."""
    times = []
    total = 0
    with RingBuffer(bench.maps["rb"], record_type=record_type) as rb:
        for _ in range(RUNS):
            bench.fill()
            drained = 0
            start = time.perf_counter()
            while True:
                records = rb.read_batch(BATCH)
                if not records:
                    break
                drained += len(records)
                if seq_of is not None:
                    total += sum(map(seq_of, records))
            times.append(time.perf_counter() - start)
            assert drained == EVENTS, drained
    assert seq_of is None or total > 0
    return EVENTS / statistics.median(times)


def python_array(bench: Bench) -> float | None:
    """Drain as NumPy structured arrays (``read_array``), summing the ``seq`` column."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return None
    times = []
    total = 0
    with RingBuffer(bench.maps["rb"], record_type=Event) as rb:
        for _ in range(RUNS):
            bench.fill()
            drained = 0
            start = time.perf_counter()
            while True:
                arr = rb.read_array(BATCH * 8)
                if not len(arr):
                    break
                drained += len(arr)
                total += int(arr["seq"].sum())
            times.append(time.perf_counter() - start)
            assert drained == EVENTS, drained
    assert total > 0
    return EVENTS / statistics.median(times)


def python_callback(bench: Bench) -> float:
    times = []
    state = {"sum": 0}

    def on_event(event: Event) -> None:
        state["sum"] += event.seq

    with RingBuffer(bench.maps["rb"], on_event, record_type=Event) as rb:
        for _ in range(RUNS):
            bench.fill()
            start = time.perf_counter()
            drained = rb.consume()
            times.append(time.perf_counter() - start)
            assert drained == EVENTS, drained
    return EVENTS / statistics.median(times)


def c_libbpf(bench: Bench, workdir: Path) -> float | None:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None or not Path("/usr/include/bpf/libbpf.h").exists():
        return None
    src = workdir / "consumer.c"
    src.write_text(C_CONSUMER)
    exe = workdir / "consumer"
    subprocess.run([gcc, "-O2", str(src), "-o", str(exe), "-lbpf"], check=True)
    times = []
    for _ in range(RUNS):
        bench.fill()
        out = subprocess.run([str(exe), str(bench.maps["rb"].id)], check=True,
                             capture_output=True, text=True).stdout.split()
        count, ns = int(out[0]), int(out[1])
        assert count == EVENTS, count
        times.append(ns / 1e9)
    return EVENTS / statistics.median(times)


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("run as root: the bench loads BPF programs")
    with Bench() as bench, tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("pybpf batch, ctypes Structure",
             python_batch(bench, Event, operator.attrgetter("seq"))),
            ("pybpf batch, struct.Struct tuples",
             python_batch(bench, EVENT_STRUCT, operator.itemgetter(0))),
            ("pybpf batch, bytes (copied, not decoded)", python_batch(bench, None, None)),
            ("pybpf callback, ctypes Structure", python_callback(bench)),
        ]
        array_rate = python_array(bench)
        if array_rate is not None:
            rows.insert(0, ("pybpf read_array, NumPy structured array", array_rate))
        c_rate = c_libbpf(bench, Path(tmp))
    print(f"Ring buffer drain, {EVENTS:,} events of 64 bytes (32 MiB ring, XDP test-run "
          f"producer), median of {RUNS} runs\n")
    print("| consumer | events/s | C libbpf / this |")
    print("|---|---:|---:|")
    for name, rate in rows:
        ratio = f"{c_rate / rate:.1f}x" if c_rate else "n/a"
        print(f"| {name} | {rate:,.0f} | {ratio} |")
    if c_rate:
        print(f"| C, libbpf ring_buffer__consume | {c_rate:,.0f} | 1.0x |")
    else:
        print("| C, libbpf ring_buffer__consume | (gcc or libbpf-dev missing) | |")


if __name__ == "__main__":
    main()
