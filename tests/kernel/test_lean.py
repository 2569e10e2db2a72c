"""kernel.lean, the start-up path's few calls, against the full backend on the same kernel
objects: its attrs sit at kernel.sys's offsets (which tests/kernel/test_sys.py checks
against uapi), what it creates and writes the full backend reads back, and its ring reader
sees what real producers wrote (discarded records skipped, wrap-around included)."""

from __future__ import annotations

import ctypes
import os

import pytest

from pybpf.asm import exit, mov  # noqa: A004 - the mnemonics
from pybpf.asm.instruction import encode_all
from pybpf.kernel import FD, Map, Program, lean
from pybpf.kernel import sys as bpfsys
from pybpf.spec import MapType, ProgramSpec, ProgramType
from tests.kernel.test_ringbuf import PAGE_SIZE, Producers, event_bytes

pytestmark = pytest.mark.kernel


def test_attr_offsets_are_kernel_sys_offsets() -> None:
    # the offsets kernel.lean packs at, beside the checked structures'
    assert bpfsys.MapCreateAttr.map_flags.offset == 16
    assert bpfsys.MapCreateAttr.map_name.offset == 28
    assert bpfsys.ProgLoadAttr.insns.offset == 8 and bpfsys.ProgLoadAttr.license.offset == 16
    assert bpfsys.ProgLoadAttr.prog_name.offset == 48
    assert bpfsys.ProgLoadAttr.expected_attach_type.offset == 68
    assert bpfsys.ProgTestRunAttr.retval.offset == 4
    assert bpfsys.ProgTestRunAttr.ctx_size_in.offset == 40
    assert bpfsys.ProgTestRunAttr.ctx_in.offset == 48
    assert bpfsys.MapElemAttr.key.offset == 8 and bpfsys.MapElemAttr.flags.offset == 24
    assert bpfsys.PerfEventAttr.sample_period.offset == 16
    assert bpfsys.PerfEventAttr.flags.offset == 40
    assert bpfsys.PerfEventAttr.wakeup_events.offset == 48
    assert ctypes.sizeof(bpfsys.PerfEventAttr) == 136


def test_a_map_it_creates_and_fills_reads_back_through_the_full_backend() -> None:
    fd = lean.create_map("lean_hash", int(MapType.HASH), 4, 8, 16)
    with Map.from_fd(FD(os.dup(fd))) as full:
        m = lean.LeanMap(fd, 4, 8)
        try:
            assert (full.name, full.type, full.key_size, full.value_size,
                    full.max_entries) == ("lean_hash", MapType.HASH, 4, 8, 16)
            for i in range(3):
                m.update(i.to_bytes(4, "little"), (i * 10).to_bytes(8, "little"))
            full.update((7).to_bytes(4, "little"), (70).to_bytes(8, "little"))
            assert sorted(m.items()) == sorted((bytes(k), bytes(v)) for k, v in full.items())
            assert len(list(m.keys())) == 4
            m.delete((7).to_bytes(4, "little"))
            with pytest.raises(KeyError):
                m.lookup((7).to_bytes(4, "little"))
            with pytest.raises(KeyError):
                m.delete((7).to_bytes(4, "little"))
            assert m.lookup((2).to_bytes(4, "little")) == (20).to_bytes(8, "little")
        finally:
            m.close()


def test_a_program_it_loads_runs_once_and_returns() -> None:
    spec = ProgramSpec("lean_ret", "raw_tracepoint", ProgramType.RAW_TRACEPOINT,
                       instructions=[mov(0, 42), exit()], license="GPL")
    fd = lean.load_program("lean_ret", int(ProgramType.RAW_TRACEPOINT),
                           encode_all(spec.instructions))
    try:
        assert lean.test_run(fd, bytes(8)) == 42
        with Program.from_fd(FD(os.dup(fd))) as full:
            assert full.name == "lean_ret" and full.type == ProgramType.RAW_TRACEPOINT
    finally:
        os.close(fd)


def test_failures_are_oserrors_with_the_errno() -> None:
    with pytest.raises(OSError) as info:
        lean.create_map("bad", int(MapType.HASH), 0, 8, 16)     # a hash needs a key
    assert info.value.errno == 22


def test_its_ring_reader_sees_what_producers_wrote() -> None:
    with Producers(ring_size=PAGE_SIZE) as producers:
        got: list[bytes] = []
        ring = lean.LeanRing(int(producers.maps["rb"].fd), PAGE_SIZE, got.append)
        try:
            assert ring.poll(0) == 0
            for _ in range(20):       # 72-byte records around a one-page ring, many times
                producers.run("rb_output", 3)
                producers.run("rb_discard_odd", 2)
                assert ring.poll(1000) == 4
            seqs = [int.from_bytes(r[:8], "little") for r in got]
            assert len(got) == 80 and seqs == sorted(seqs)
            assert got[0] == event_bytes(0, 1)
        finally:
            ring.close()
