"""The llvm tier's native bpf_ringbuf_output (llvm_ir.ring_output, into the ring's native
area, which the Python ring reads in place) answers as the helper does and leaves the same
records: random sequences of outputs (sizes, flags, a ring that fills up and drops),
reservations and reads between runs give the interpreter's r0, records and bytes in use;
and the kernel's r0 and records for the same program through BPF_PROG_TEST_RUN."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R8, R10
from pybpf.vm import RingBufMap
from pybpf.vm.helpers import HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

OUTPUT, RESERVE, SUBMIT = (int(HelperID[n]) for n in
                           ("RINGBUF_OUTPUT", "RINGBUF_RESERVE", "RINGBUF_SUBMIT"))
RING_BYTES = 4096

_op = st.one_of(
    st.tuples(st.just("output"), st.integers(0, 64), st.sampled_from([0, 0, 1, 2, 4])),
    st.tuples(st.just("reserve"), st.integers(1, 32)))


def _program(ops: list[tuple], repeat_outputs: int = 1) -> list[object]:
    """Each op writes its index into 64 bytes of stack, then outputs a prefix of them (or
    reserves, fills and submits a record); r8 folds every answer."""
    items: list[object] = [asm.mov(R8, 0)]
    for n, op in enumerate(ops):
        for word in range(8):
            items += [asm.mov(R1, n * 8 + word + 1), asm.stx(8, R10, R1, -64 + 8 * word)]
        if op[0] == "output":
            _, size, flags = op
            items += [asm.mov(R6, repeat_outputs), asm.label(f"again{n}"),
                      asm.ld_map_fd(R1, "ring"), asm.mov(R2, R10), asm.add(R2, -64),
                      asm.mov(R3, size), asm.mov(R4, flags), asm.call(OUTPUT),
                      asm.mul(R8, 31), asm.add(R8, R0),
                      asm.sub(R6, 1), asm.jne(R6, 0, f"again{n}")]
        else:
            items += [asm.ld_map_fd(R1, "ring"), asm.mov(R2, op[1]), asm.mov(R3, 0),
                      asm.call(RESERVE), asm.mul(R8, 31), asm.jeq(R0, 0, f"none{n}"),
                      asm.add(R8, 1), asm.mov(R1, n), asm.stx(1, R0, R1, 0),
                      asm.mov(R1, R0), asm.mov(R2, 0), asm.call(SUBMIT),
                      asm.label(f"none{n}")]
    return asm.link([*items, asm.mov(R0, R8), asm.exit()])


def _vm(ops: list[tuple], tier: str, repeat_outputs: int = 1) -> tuple:
    ring = RingBufMap("ring", max_entries=RING_BYTES)
    prog = load_unverified(_program(ops, repeat_outputs), maps={"ring": ring})
    first = prog.run(tier=tier).r0
    records, left = ring.read(), ring.available_bytes
    again = prog.test_run(repeat=5, tier=tier).retval  # fills the ring: drops
    return first, records, left, again, ring.available_bytes, ring.read()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=25), repeat_outputs=st.sampled_from([1, 7]))
# 64 records of 64 bytes would fill the ring exactly: the last is refused, as in the kernel
@example(ops=[("output", 56, 0)], repeat_outputs=64)
@example(ops=[("output", 0, 0), ("reserve", 3), ("output", 5, 1)], repeat_outputs=1)
def test_output_sequences_match_the_interpreter(ops: list[tuple], repeat_outputs: int
                                                ) -> None:
    assert _vm(ops, "llvm", repeat_outputs) == _vm(ops, "interp", repeat_outputs)


def test_many_outputs_stay_native(python_helper_calls: list[int]) -> None:
    """Thousands of records in one run: the same records, none through a callback (they
    go straight into the ring's native area), and drops counted as the interpreter counts
    them."""
    calls = python_helper_calls
    results = {}
    for tier in ("interp", "llvm"):
        ring = RingBufMap("ring", max_entries=1 << 16)
        prog = load_unverified(_program([("output", 8, 0), ("output", 24, 0)], 1500),
                               maps={"ring": ring})
        r0 = prog.run(tier=tier).r0
        results[tier] = (r0, ring.available_bytes, ring.read())
    assert results["llvm"] == results["interp"]
    assert len(results["llvm"][2]) < 3000  # the ring filled up: some outputs dropped
    assert calls == []


@pytest.mark.kernel
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=25), repeat_outputs=st.sampled_from([1, 7]))
@example(ops=[("output", 56, 0)], repeat_outputs=64)
@example(ops=[("output", 0, 0), ("reserve", 3), ("output", 5, 1)], repeat_outputs=1)
def test_output_sequences_match_the_kernel(ops: list[tuple], repeat_outputs: int) -> None:
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program
    from pybpf.kernel.ringbuf import RingBuffer
    from pybpf.spec import MapSpec, MapType, ProgramSpec, ProgramType

    insns = _program(ops, repeat_outputs)
    ring = RingBufMap("ring", max_entries=RING_BYTES)
    vm_r0 = load_unverified(insns, maps={"ring": ring}).run(tier="llvm").r0
    spec = ProgramSpec("ring_output", "socket", type=ProgramType.SOCKET_FILTER,
                       instructions=insns, license="GPL")
    with Map.create(MapSpec("ring", MapType.RINGBUF, key_size=0, value_size=0,
                            max_entries=RING_BYTES)) as kernel_ring, \
            Program.load(spec, maps={"ring": kernel_ring}) as prog:
        kernel_r0 = prog.test_run(bytes(64)).retval
        reader = RingBuffer(kernel_ring)
        try:
            kernel_records = [bytes(r) for r in reader.read_batch()]
        finally:
            reader.close()
    assert vm_r0 & 0xFFFF_FFFF == kernel_r0
    assert ring.read() == kernel_records
