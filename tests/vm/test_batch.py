"""Batches of runs (``run_many``, ``test_run_many``) give exactly what one run at a time
gives, in every tier: verdicts, maps, events; and, for pcap filters, the kernel's
verdicts (BPF_PROG_TEST_RUN)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf import asm, vm
from pybpf.asm import R0, R1, R2, R10
from pybpf.cbpf import compile_filter, to_ebpf
from pybpf.elf import load_collection_spec
from pybpf.spec import ProgramSpec, ProgramType
from tests.cbpf.expressions import ATOMS, COMPOUNDS
from tests.cbpf.packets import build_packets
from tests.vm.unverified import load_unverified

from ..bpfobjs import build_object
from .packets import arp_packet, tcp_packet, udp_packet

TIERS = ("interp", "python")
FRAMES = [data for _, data, _ in build_packets() if len(data) >= 14]
# an skb test run in the kernel refuses an IP packet cut inside its header
WHOLE_FRAMES = [data for _, data, wirelen in build_packets() if len(data) == wirelen >= 14]
EXPRESSIONS = ATOMS + COMPOUNDS
TARGETS = {"socket": ProgramType.SCHED_CLS, "tc": ProgramType.SCHED_CLS,
           "xdp": ProgramType.XDP}


@st.composite
def frames(draw: st.DrawFn) -> list[bytes]:
    """A few test frames, some with bytes flipped or cut short (at least 14 bytes)."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        frame = bytearray(draw(st.sampled_from(FRAMES)))
        for _ in range(draw(st.integers(0, 3))):
            frame[draw(st.integers(0, len(frame) - 1))] = draw(st.integers(0, 255))
        out.append(bytes(frame[:draw(st.integers(14, len(frame)))]))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=st.sampled_from(EXPRESSIONS), target=st.sampled_from(sorted(TARGETS)),
       tier=st.sampled_from(TIERS), packets=frames())
def test_filter_batches_equal_single_runs(expression: str, target: str, tier: str,
                                          packets: list[bytes]) -> None:
    insns = to_ebpf(compile_filter(expression), target=target)
    prog = vm.load(insns, type=TARGETS[target], tier=tier)
    assert prog.test_run_many(packets) == [prog.test_run(p).retval for p in packets]
    raw = vm.load(to_ebpf(compile_filter(expression)), tier=tier)
    ctx = struct.pack("<I", 1500) + bytes(188)
    assert raw.run_many(packets, ctx) == [raw.run(ctx, packet=p).r0 for p in packets]


@pytest.mark.parametrize("tier", TIERS)
def test_collection_programs_batch_like_single_runs(tier: str) -> None:
    # XDP head/tail moves, ring buffer records, bpf_loop, map updates: the batch leaves
    # the same verdicts, maps and events as runs one at a time on a twin collection
    spec = load_collection_spec(str(build_object("vm_net")))
    packets = [udp_packet(53), udp_packet(9), tcp_packet(80), arp_packet(),
               udp_packet(9, b"x" * 300)] * 2
    one, many = vm.load_collection(spec, tier=tier), vm.load_collection(spec, tier=tier)
    for name, prog in one.programs.items():
        try:
            single = [prog.test_run(p).retval for p in packets]
        except vm.VMError as err:  # a program this packet set does not suit
            with pytest.raises(type(err)):
                many.programs[name].test_run_many(packets)
            continue
        assert many.programs[name].test_run_many(packets) == single, name
    for name, vm_map in one.maps.items():
        if hasattr(vm_map, "items"):
            assert sorted(vm_map.items()) == sorted(many.maps[name].items()), name
        if hasattr(vm_map, "read"):
            assert vm_map.read() == many.maps[name].read(), name


def test_each_run_starts_fresh() -> None:
    # r0 = the stack slot's old value + the packet's first byte, then the slot is written
    # and the context's mark kept in r0's high half: a run that saw the last run's stack
    # or context would answer differently
    items = [asm.ldx(8, R2, R10, -8), asm.ldx(4, R0, R1, 8), asm.lsh(R0, 32),
             asm.add(R0, R2), asm.ld_abs(1, 0), asm.add(R0, R2),
             asm.st(8, R10, 0x55, -8), asm.stx(4, R1, R10, 8), asm.exit()]
    packets = [bytes([n]) * 20 for n in (1, 2, 3)]
    for tier in TIERS:
        prog = load_unverified(asm.link(items), type=ProgramType.SCHED_CLS, tier=tier)
        assert prog.test_run_many(packets) == [prog.test_run(p).retval for p in packets]


def test_refused_packets_raise_as_single_runs_do() -> None:
    prog = vm.load(to_ebpf(compile_filter("tcp"), target="xdp"), type=ProgramType.XDP)
    with pytest.raises(vm.VMError, match="at least 14 bytes") as single:
        prog.test_run(b"short")
    with pytest.raises(vm.VMError) as batch:
        prog.test_run_many([FRAMES[0], b"short"])
    assert str(batch.value) == str(single.value)
    meta = struct.pack("<III", 8, 0, 0) + bytes(12)
    assert prog.test_run_many(FRAMES[:3], meta) == [prog.test_run(f, meta).retval
                                                   for f in FRAMES[:3]]


# -- the kernel ----------------------------------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_filter_batches_give_the_kernels_verdicts(target: str) -> None:
    from pybpf.kernel import Program
    disagreements = []
    for expression in EXPRESSIONS[::3]:
        insns = to_ebpf(compile_filter(expression), target=target)
        frames = FRAMES if target == "xdp" else WHOLE_FRAMES
        batch = vm.load(insns, type=TARGETS[target], tier="python").test_run_many(frames)
        with Program.load(ProgramSpec(name="batch", section="cbpf", type=TARGETS[target],
                                      instructions=insns, license="GPL")) as prog:
            kernel = [prog.test_run(f).retval for f in frames]
        disagreements += [f"{expression!r} on {f.hex()}: vm {b} kernel {k}"
                          for f, b, k in zip(frames, batch, kernel) if b != k]
    assert disagreements == []


@pytest.mark.parametrize("tier", TIERS)
def test_tail_calls_in_a_batch(tier: str) -> None:
    # a tail call from a subprogram, with map writes: batch and single runs agree
    from pybpf.backends import load as load_backend
    packets = [udp_packet(53), udp_packet(9, b"y" * 40), tcp_packet(80)]
    results = []
    for batch in (False, True):
        with load_backend(build_object("vm_tail_sub"), backend="vm", tier=tier) as coll:
            coll.maps["targets"][0] = coll.programs["target"]
            prog = coll.programs["caller"]
            verdicts = (prog.test_run_many(packets) if batch
                        else [prog.test_run(data=p).retval for p in packets])
            results.append((verdicts, sorted(coll.maps["marks"].items())))
    assert results[0] == results[1]
    assert results[0][0][0] == 40 + 7 + 2
