"""A full ring buffer counts what it refuses: RingBuf.dropped() and its <name>_drops map.

BPF_PROG_TEST_RUN with ``repeat=N`` runs an XDP program N times with no reader draining
the ring, so exactly the records that fit in one page are kept and the rest must be
counted as drops (reserve returning NULL, output returning -EAGAIN).
"""

from __future__ import annotations

import pytest

from pybpf.lang import XDP_PASS, RingBuf, bpf, compile_source, struct, u64

PAGE = 4096
RINGBUF_HEADER = 8   # each record is preceded by an 8-byte header, the total 8-aligned


class BigRecord(struct):
    words: u64[125]       # 1000 bytes: 1008 in the ring, 4 fit in a page


class StackRecord(struct):
    words: u64[50]        # 400 bytes (fits the 512-byte stack): 408 in the ring, 10 fit


reserved_ring = RingBuf(max_entries=PAGE)
output_ring = RingBuf(max_entries=PAGE)


@bpf.xdp
def fill_by_reserve(ctx):
    rec = reserved_ring.reserve(BigRecord)
    if rec:
        rec.words[0] = 7
        reserved_ring.submit(rec)
    return XDP_PASS


@bpf.xdp
def fill_by_output(ctx):
    rec = StackRecord()
    rec.words[0] = 9
    output_ring.output(rec)
    return XDP_PASS


def records_that_fit(size: int) -> int:
    return PAGE // ((size + RINGBUF_HEADER + 7) // 8 * 8)


@pytest.mark.parametrize(("prog", "ring", "size"), [
    (fill_by_reserve, reserved_ring, BigRecord.size()),
    (fill_by_output, output_ring, StackRecord.size()),
])
@pytest.mark.kernel
def test_a_full_ring_counts_every_record_it_refuses(prog, ring, size) -> None:
    runs = 25
    fit = records_that_fit(size)
    assert 0 < fit < runs
    with bpf.compile(prog).load() as coll:
        view = coll.maps[ring]
        assert view.dropped() == 0
        coll.programs[prog.name].test_run(bytes(64), repeat=runs)
        assert view.dropped() == runs - fit
        got: list[bytes] = []
        coll.ring_reader(ring, got.append).consume()
        assert len(got) == fit
        assert len(got) + view.dropped() == runs
        assert all(len(r) >= size for r in got)


def test_reserve_and_output_compile_a_drop_counter_named_after_the_ring() -> None:
    compiled = compile_source(
        "from pybpf.lang import *\n"
        "class E(struct):\n"
        "    x: u64\n"
        "events = RingBuf(max_entries=4096)\n"
        "@bpf.xdp\n"
        "def prog(ctx):\n"
        "    e = events.reserve(E)\n"
        "    if e:\n"
        "        events.submit(e)\n"
        "    return XDP_PASS\n")
    drops = compiled.spec.maps["events_drops"]
    assert drops.value_size == 8 and drops.max_entries == 1
    assert drops.type.name == "PERCPU_ARRAY"


def test_a_declaration_points_to_the_collection_for_its_drops() -> None:
    ring = RingBuf(max_entries=PAGE, name="unloaded")
    with pytest.raises(AttributeError, match=r"coll.maps\[unloaded\].dropped"):
        ring.dropped()
