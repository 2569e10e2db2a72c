"""The perf buffer reader against a real producer: an XDP program calling
bpf_perf_event_output(BPF_F_CURRENT_CPU) once per BPF_PROG_TEST_RUN repetition, run from a
thread pinned to one CPU so the test knows which ring each sample lands in."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess

import pytest

from pybpf.errors import ClosedError, InvalidInputError
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.perfbuf import (
    DATA_HEAD_OFFSET,
    DATA_TAIL_OFFSET,
    PerfBuffer,
    _parse_cpu_list,
    online_cpus,
)
from tests.kernel.test_ringbuf import EVENT_STRUCT, Event, Producers, event_bytes

pytestmark = pytest.mark.kernel

SAMPLE_RECORD_SIZE = 8 + 4 + 68  # header, raw size, 64 bytes padded to keep 8-alignment


@contextlib.contextmanager
def pinned_to(cpu: int):
    """Run the calling thread on ``cpu`` only (test runs execute where they are called)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@pytest.fixture
def producers():
    with Producers() as p:
        yield p


def test_samples_arrive_in_order_with_their_cpu(producers):
    seen = []
    cpu = online_cpus()[-1]
    with PerfBuffer(producers.maps["perf"], lambda c, e: seen.append((c, e)),
                    record_type=Event) as perf, pinned_to(cpu):
        assert perf.poll(0) == 0
        producers.run("perf_output", 20)
        assert perf.poll(1000) == 20
        assert [c for c, _ in seen] == [cpu] * 20
        assert [bytes(e) for _, e in seen] == [event_bytes(i, 5) for i in range(20)]
        assert perf.lost == 0 and producers.drops == 0


def test_every_online_cpu_has_a_ring(producers):
    with PerfBuffer(producers.maps["perf"], record_type=EVENT_STRUCT) as perf:
        assert perf.cpus == online_cpus()
        for cpu in perf.cpus:
            with pinned_to(cpu):
                producers.run("perf_output", 2)
        got = perf.read_batch()
        assert sorted(c for c, _ in got) == sorted(perf.cpus * 2)
        assert sorted(r[0] for _, r in got) == list(range(2 * len(perf.cpus)))


def test_bytes_records_carry_the_kernels_padding(producers):
    with PerfBuffer(producers.maps["perf"]) as perf, pinned_to(online_cpus()[0]):
        producers.run("perf_output", 3)
        got = [r for _, r in perf.read_batch()]
        # the raw size is rounded so header + size field + data stay 8-aligned
        assert got == [event_bytes(i, 5) + bytes(4) for i in range(3)]


def test_records_wrap_around_the_ring_end(producers):
    # one data page: 80-byte records straddle its end every few rounds
    per_round = 4096 // SAMPLE_RECORD_SIZE - 1
    got = []
    with PerfBuffer(producers.maps["perf"], lambda c, e: got.append(e.seq), page_count=1,
                    record_type=Event) as perf, pinned_to(online_cpus()[0]):
        for _ in range(15):
            producers.run("perf_output", per_round)
            perf.consume()
        assert perf.lost == 0
    total = 15 * per_round
    assert total * SAMPLE_RECORD_SIZE > 10 * 4096
    assert got == list(range(total))


def test_a_slow_consumer_gets_lost_sample_reports(producers):
    lost_reports = []
    got = []
    cpu = online_cpus()[0]
    with PerfBuffer(producers.maps["perf"], lambda c, e: got.append(e.seq),
                    lambda c, n: lost_reports.append((c, n)), page_count=1,
                    record_type=Event) as perf, pinned_to(cpu):
        producers.run("perf_output", 200)  # far more than one page holds
        perf.consume()
        fitted = len(got)
        assert 0 < fitted < 200 and got == list(range(fitted))
        # the kernel reports the loss with the next record it can write
        producers.run("perf_output", 1)
        perf.consume()
        assert lost_reports == [(cpu, 200 - fitted)]
        assert perf.lost == 200 - fitted == producers.drops
        assert got[-1] == 200


def test_lost_samples_without_a_callback_warn(producers):
    with PerfBuffer(producers.maps["perf"], page_count=1) as perf, \
            pinned_to(online_cpus()[0]):
        producers.run("perf_output", 100)
        perf.read_batch()
        producers.run("perf_output", 1)
        with pytest.warns(RuntimeWarning, match=r"perf buffer 'perf': cpu \d+ lost \d+ samples"):
            perf.read_batch()
        assert perf.lost > 0


def test_a_raising_callback_consumes_up_to_its_record(producers):
    got = []

    def callback(cpu, event):
        got.append(event.seq)
        if event.seq == 2:
            raise RuntimeError("enough")

    with PerfBuffer(producers.maps["perf"], callback, record_type=Event) as perf, \
            pinned_to(online_cpus()[0]):
        producers.run("perf_output", 5)
        with pytest.raises(RuntimeError, match="enough"):
            perf.consume()
        assert perf.consume() == 2
        assert got == [0, 1, 2, 3, 4]


def test_close_removes_the_events_from_the_map(producers):
    cpu = online_cpus()[0]
    with pinned_to(cpu):
        with PerfBuffer(producers.maps["perf"]) as perf:
            producers.run("perf_output", 1)
            assert len(perf.read_batch()) == 1 and producers.drops == 0
        producers.run("perf_output", 1)  # no event in the slot now: the helper fails
    assert producers.drops == 1


def test_errors(producers):
    with pytest.raises(InvalidInputError, match="perf buffer 'rb'.*RINGBUF, not PERF_EVENT_ARRAY"):
        PerfBuffer(producers.maps["rb"])
    with pytest.raises(InvalidInputError, match="page_count 3 must be a power of two"):
        PerfBuffer(producers.maps["perf"], page_count=3)
    with PerfBuffer(producers.maps["perf"]) as perf:
        with pytest.raises(InvalidInputError, match="no callback"):
            perf.poll(0)
    with pytest.raises(ClosedError, match="perf buffer 'perf'"):
        perf.read_batch()
    assert _parse_cpu_list("0-3,5,7-8\n") == [0, 1, 2, 3, 5, 7, 8]


def test_perf_layouts_match_the_uapi_header(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if cc is None:
        pytest.skip("needs a C compiler to read linux/perf_event.h")
    header = "/usr/include/linux/perf_event.h"
    if not os.path.exists(header):
        pytest.skip("needs linux-libc-dev (linux/perf_event.h)")
    with open(header) as f:
        text = f.read()
    # older headers end the struct earlier (config3 came in Linux 6.3): check what they have
    fields = [name for name, *_ in bpfsys.PerfEventAttr._fields_ if not name.startswith("_")
              and name != "flags" and name in text]
    assert len(fields) >= 19
    members = {"sample_period": "sample_period", "wakeup_events": "wakeup_events",
               "config1": "config1", "config2": "config2"}
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <linux/perf_event.h>",
             "int main(void) {",
             '  printf("sizeof %zu\\n", sizeof(struct perf_event_attr));',
             '  printf("data_head %zu\\n", offsetof(struct perf_event_mmap_page, data_head));',
             '  printf("data_tail %zu\\n", offsetof(struct perf_event_mmap_page, data_tail));']
    for name in fields:
        lines.append(f'  printf("{name} %zu\\n", offsetof(struct perf_event_attr, '
                     f'{members.get(name, name)}));')
    lines += ["  return 0;", "}"]
    src = tmp_path / "perf_layouts.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "perf_layouts"
    subprocess.run([cc, str(src), "-o", str(exe)], check=True, capture_output=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    c = {k: int(v) for k, v in (line.split() for line in out.splitlines())}
    assert c["data_head"] == DATA_HEAD_OFFSET and c["data_tail"] == DATA_TAIL_OFFSET
    # ours is PERF_ATTR_SIZE_VER8; an older header's struct is a prefix of it
    assert c["sizeof"] <= ctypes.sizeof(bpfsys.PerfEventAttr) == 136
    for name in fields:
        assert getattr(bpfsys.PerfEventAttr, name).offset == c[name], name
    # the bit fields sit in the u64 right after read_format
    assert bpfsys.PerfEventAttr.flags.offset == c["read_format"] + 8
