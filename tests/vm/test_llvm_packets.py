"""Packet filters in the llvm tier: legacy LD_ABS/LD_IND loads run natively (ending the run
with r0 = 0 past the packet, after the same instructions as the interpreter), and
:func:`~pybpf.vm.llvmtier.run_packets` runs one packet after the other in native code,
each run as a fresh ``run(memory, packet=p)``: the classic filters' verdicts match libpcap's
semantics (the cBPF interpreter) and the kernel's."""

from __future__ import annotations

import struct

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R10
from pybpf.cbpf import FilterProgram, compile_filter, to_ebpf
from pybpf.spec import ProgramSpec, ProgramType
from pybpf.vm import BudgetExceededError, MemoryAccessError
from pybpf.vm.memory import LOW_REGION_BASE
from tests.cbpf.expressions import ATOMS, COMPOUNDS
from tests.cbpf.packets import build_packets
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

from pybpf.vm.llvmtier import PacketBatch, run_packets  # noqa: E402

PACKETS = [data for _, data, _ in build_packets()]  # truncated ones too
EXPRESSIONS = ATOMS + COMPOUNDS
WIRELEN = 1500
SKB = struct.pack("<I", WIRELEN) + bytes(188)  # a raw __sk_buff: len at offset 0


def test_filter_batches_give_the_cbpf_interpreters_verdicts() -> None:
    batch = PacketBatch(PACKETS)
    wrong = []
    for expression in EXPRESSIONS[::3]:
        cbpf = compile_filter(expression)
        reference = FilterProgram(cbpf)
        want = [reference.run(data, WIRELEN) for data in PACKETS]
        got = run_packets(load_unverified(to_ebpf(cbpf), tier="llvm"), batch, SKB).tolist()
        wrong += [(expression, PACKETS[i].hex()) for i, (w, g) in enumerate(zip(want, got))
                  if w != g]
    assert wrong == []


def test_native_packet_loads_count_the_interpreters_instructions() -> None:
    for expression in EXPRESSIONS[::7]:
        program = to_ebpf(compile_filter(expression))
        interp = load_unverified(program, tier="interp")
        llvm = load_unverified(program, tier="llvm")
        for data in PACKETS:
            want, got = interp.run(SKB, packet=data), llvm.run(SKB, packet=data)
            assert (got.r0, got.insns) == (want.r0, want.insns), (expression, data.hex())


def test_every_run_of_a_batch_starts_fresh() -> None:
    # r0 = packet[1] (LD_ABS) + memory[0] + stack[-8] + packet[0] (read at the packet's
    # fixed address), after which memory[0] and the stack slot change: a run that saw the
    # last one's would differ
    program = asm.link([
        asm.ld_abs(1, 1), asm.ldx(1, R2, R1, 0), asm.add(R0, R2),
        asm.ldx(8, R2, R10, -8), asm.add(R0, R2),
        asm.lddw(R2, LOW_REGION_BASE), asm.ldx(1, R2, R2, 0), asm.add(R0, R2),
        asm.st(1, R1, 77, 0), asm.st(8, R10, 1000, -8), asm.exit()])
    packets = [bytes([n, n]) for n in range(20)] + [b"\x05"]  # the last halts at ld_abs
    prog = load_unverified(program, tier="llvm")
    want = [load_unverified(program, tier="interp").run(b"\x03", packet=p).r0
            for p in packets]
    assert want[:3] == [3, 5, 7] and want[-1] == 0
    assert run_packets(prog, packets, b"\x03").tolist() == want
    assert run_packets(prog, PacketBatch(packets), b"\x03").tolist() == want  # packed once
    assert prog.run_many(packets, b"\x03") == want  # VMProgram's batches go native too


def test_packets_read_through_memory_after_a_callback_in_a_batch() -> None:
    # an atomic add (run by the interpreter's handler, a callback) on some packets, then
    # packet bytes read through the region table: the next packets must not see the
    # packet Python's copy held during the callback
    program = asm.link([
        asm.ld_abs(1, 0), asm.jne(R0, 3, "read"),
        asm.st(8, R10, 5, -8), asm.mov(R2, 1), asm.atomic_add(8, R10, R2, -8),
        asm.label("read"),
        asm.lddw(R2, LOW_REGION_BASE), asm.ldx(1, R0, R2, 1), asm.ldx(8, R2, R10, -8),
        asm.add(R0, R2), asm.exit()])
    packets = [bytes([n % 5, n]) for n in range(30)]
    want = [load_unverified(program, tier="interp").run(packet=p).r0 for p in packets]
    assert want[3] == 3 + 6 and want[4] == 4
    assert run_packets(load_unverified(program, tier="llvm"), packets).tolist() == want


def test_loops_and_short_budgets_in_a_batch_as_in_single_runs() -> None:
    # r0 = the sum of the packet's first packet[0] bytes, in a loop
    program = asm.link([
        asm.ld_abs(1, 0), asm.mov(asm.R6, R0), asm.mov(asm.R7, 0),
        asm.label("loop"), asm.jeq(asm.R6, 0, "out"), asm.ld_ind(1, asm.R6, 0),
        asm.add(asm.R7, R0), asm.sub(asm.R6, 1), asm.ja("loop"),
        asm.label("out"), asm.mov(R0, asm.R7), asm.exit()])
    packets = [bytes([n % 7]) + bytes(range(1, 9)) for n in range(20)]
    interp = load_unverified(program, tier="interp")
    prog = load_unverified(program, tier="llvm")
    assert run_packets(prog, packets).tolist() == [interp.run(packet=p).r0 for p in packets]
    straight = load_unverified(asm.link([asm.ld_abs(1, 0), asm.ld_abs(1, 1), asm.exit()]),
                               tier="llvm")
    assert run_packets(straight, packets, budget=3).tolist() == [1] * 20
    for short in (prog, straight):
        with pytest.raises(BudgetExceededError):
            run_packets(short, packets, budget=2)


def test_a_fault_in_a_batch_raises_the_error_of_that_packets_run() -> None:
    # packet[0] == 9 makes the program read address 0
    program = asm.link([asm.ld_abs(1, 0), asm.mov(R1, R0), asm.jne(R0, 9, "ok"),
                        asm.mov(R1, 0), asm.ldx(1, R0, R1, 0), asm.label("ok"), asm.exit()])
    packets = [b"\x01", b"\x02", b"\x09", b"\x03"]
    with pytest.raises(MemoryAccessError) as batch_error:
        run_packets(load_unverified(program, tier="llvm"), packets)
    with pytest.raises(MemoryAccessError) as run_error:
        load_unverified(program, tier="interp").run(packet=b"\x09")
    assert str(batch_error.value) == str(run_error.value)


def test_a_store_into_the_packet_faults_as_read_only() -> None:
    program = asm.link([asm.lddw(R1, LOW_REGION_BASE), asm.st(1, R1, 1, 0),
                        asm.mov(R0, 0), asm.exit()])
    with pytest.raises(MemoryAccessError, match="read-only"):
        run_packets(load_unverified(program, tier="llvm"), [b"\x01\x02"])


@pytest.mark.kernel
def test_filter_batches_give_the_kernels_verdicts() -> None:
    # the socket target's legacy loads in a tc classifier: its test skb starts at the
    # Ethernet header, as the VM's raw packet does (see tests/cbpf/test_to_ebpf.py)
    from pybpf.kernel import Program

    frames = [data for _, data, wirelen in build_packets() if len(data) == wirelen and data]
    batch = PacketBatch(frames)
    wrong = []
    # one context serves a batch: the frame's length (`len`, `greater`, `less`: the skb's
    # len in the kernel) is left to the test against the cBPF interpreter above
    for expression in [e for e in EXPRESSIONS[::5]
                       if not any(word in e for word in ("len", "greater", "less"))]:
        program = to_ebpf(compile_filter(expression))
        got = run_packets(load_unverified(program, tier="llvm"), batch, SKB).tolist()
        spec = ProgramSpec(name="llvm_batch", section="cbpf", type=ProgramType.SCHED_CLS,
                           instructions=program, license="GPL")
        with Program.load(spec) as prog:
            want = [prog.test_run(data).retval for data in frames]
        wrong += [(expression, frames[i].hex()) for i, (w, g) in enumerate(zip(want, got))
                  if w != g]
    assert wrong == []
