"""Compiled programs live in the kernel: an exec tracer, an XDP counter, globals."""

from __future__ import annotations

import os
import subprocess

import pytest

from pybpf.lang import bpf
from tests.kernel.leaks import no_kernel_objects_left
from tests.lang import progs_e2e as progs

pytestmark = pytest.mark.kernel


def test_exec_tracer_sees_true_with_its_pid_comm_and_parent() -> None:
    compiled = bpf.compile(progs.on_exec)
    seen = []
    with compiled.load() as coll:
        coll.attach()
        reader = coll.ring_reader(progs.events, seen.append, progs.Event)
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        reader.consume()
        counts = dict(coll.maps[progs.exec_counts].items())
        # by name, the same map: other processes' execs may add keys between two reads,
        # so compare what this test's child counted
        by_name = dict(coll.maps["exec_counts"].items())
        assert by_name.get(child.pid) == counts.get(child.pid) == 1
    assert reader in coll.readers or not coll.readers  # owned, and closed with coll
    mine = [ev for ev in seen if ev.pid == child.pid]
    assert mine, f"no event for pid {child.pid} among {seen[:5]}"
    assert mine[0].comm in (b"true", b"python", os.path.basename(os.sys.executable).encode()[:15])
    assert mine[0].ppid == os.getpid()
    assert counts.get(child.pid) == 1
    with pytest.raises(AttributeError, match=r"coll.maps\[decl\].items"):
        list(progs.exec_counts.items())  # a declaration holds no live map


def test_compiling_names_declarations_without_touching_them() -> None:
    compiled = bpf.compile(progs.on_exec_tagged)
    assert set(compiled.maps) == {"tagged", "tagged_drops", "tag_counts"}
    assert set(compiled.globals) == {"tag"}
    assert progs.tagged.name is None and progs.tag.name is None   # nothing written back
    assert compiled.name_of(progs.tag_counts) == "tag_counts"
    with pytest.raises(KeyError, match="no compiled program uses it"):
        compiled.name_of(progs.exec_counts)


def test_two_loads_with_different_constants_run_side_by_side() -> None:
    compiled = bpf.compile(progs.on_exec_tagged)
    seen: dict[int, list] = {1: [], 2: []}
    ours = {"on_exec_tagged", "tagged", "tagged_drops", "tag_counts", ".rodata"}
    with no_kernel_objects_left(lambda name: name in ours, kinds=("prog", "link", "map")), \
            compiled.load(constants={progs.tag: 1}) as one, \
            compiled.load(constants={"tag": 2}) as two:
        for coll, got in ((one, seen[1]), (two, seen[2])):
            coll.attach()
            coll.ring_reader(progs.tagged, got.append, progs.TaggedEvent)
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        for coll in (one, two):
            coll.readers[0].consume()
        counts = [dict(coll.maps[progs.tag_counts].items()) for coll in (one, two)]
        assert one.maps[progs.tagged] is not two.maps[progs.tagged]
    for stamp, events in seen.items():
        mine = [ev for ev in events if ev.pid == child.pid]
        assert [ev.tag for ev in mine] == [stamp], events[:5]
        assert {ev.tag for ev in events} == {stamp}
    assert set(counts[0]) == {1} and set(counts[1]) == {2}
    assert counts[0][1] >= 1 and counts[1][2] >= 1
    # the compiled spec kept its own value: a third load sees the declared 0
    assert int.from_bytes(compiled.spec.variables["tag"].get(), "little") == 0


def test_xdp_program_counts_packets_sent_through_test_run() -> None:
    compiled = bpf.compile(progs.count_packets)
    with compiled.load() as coll:
        prog = coll.programs["count_packets"]
        for _ in range(3):
            assert prog.test_run(bytes(60)).retval == 2   # XDP_PASS
        prog.test_run(bytes(200), repeat=2)
        assert coll.maps[progs.packets][0] == 3
        assert coll.maps[progs.packets][1] == 2
        assert coll.variables[progs.total_bytes] == 3 * 1 + 2 * 100
        coll.variables[progs.total_bytes] = 7
        prog.test_run(bytes(60))
        assert coll.variables["total_bytes"] == 8


def test_a_verifier_rejection_names_the_python_line(tmp_path) -> None:
    source = (
        "from pybpf.lang import bpf, Hash, u32, u64\n"
        "m = Hash(u32, u64, max_entries=4)\n"
        "@bpf.xdp\n"
        "def bad(ctx):\n"
        "    p = m.lookup(1)\n"
        "    return p[0]\n"        # no NULL check: the verifier refuses the load
    )
    from pybpf.errors import VerifierError
    compiled = bpf.compile_source(source, "bad_prog.py")
    with pytest.raises(VerifierError) as info:
        compiled.load()
    assert "bad_prog.py:6" in str(info.value)
    assert "return p[0]" in str(info.value)


def test_perf_event_array_samples_come_through_a_reader_the_collection_owns() -> None:
    got: list = []
    with bpf.compile(progs.sample_packets).load(constants={progs.stamp: 77}) as coll:
        reader = coll.perf_reader(progs.samples, lambda cpu, s: got.append(s), progs.Sample)
        assert reader in coll.readers
        for size in (64, 100):
            coll.programs["sample_packets"].test_run(bytes(size))
        reader.poll(100)
    assert [(s.length, s.stamp) for s in got] == [(64, 77), (100, 77)]
