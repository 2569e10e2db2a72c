"""Helpers the llvm tier answers in native code: the current task's ids, the CPU, the NUMA
node (copied from the run's Environment) and ktime (clock_gettime when the clock is
time.monotonic_ns, else the Environment's clock through the callback) give what the
interpreter's helpers give."""

from __future__ import annotations

import time

import pytest

from pybpf import asm
from pybpf.asm import R0, R6, R7, R8, R9
from pybpf.vm.helpers import Environment, HelperID
from tests.vm.unverified import load_unverified

pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")

H = {name: int(HelperID[name]) for name in (
    "GET_CURRENT_PID_TGID", "GET_CURRENT_UID_GID", "GET_SMP_PROCESSOR_ID",
    "GET_NUMA_NODE_ID", "KTIME_GET_NS")}


def _ids_program() -> list[asm.Instruction]:
    """r0 = pid_tgid ^ (uid_gid << 1) ^ (cpu << 7) ^ numa, through r6-r9."""
    return asm.link([
        asm.call(H["GET_CURRENT_PID_TGID"]), asm.mov(R6, R0),
        asm.call(H["GET_CURRENT_UID_GID"]), asm.mov(R7, R0), asm.lsh(R7, 1),
        asm.call(H["GET_SMP_PROCESSOR_ID"]), asm.mov(R8, R0), asm.lsh(R8, 7),
        asm.call(H["GET_NUMA_NODE_ID"]), asm.mov(R9, R0),
        asm.mov(R0, R6), asm.xor(R0, R7), asm.xor(R0, R8), asm.xor(R0, R9), asm.exit()])


def test_task_ids_and_cpu_are_the_environments_in_every_run() -> None:
    program = _ids_program()
    for pid, tgid, uid, gid, cpu in ((1, 2, 3, 4, 0), (4242, 4240, 1000, 100, 1),
                                     (0xFFFF_FFFF, 7, 0, 0xFFFF_FFFF, 3)):
        results = {}
        for tier in ("interp", "llvm"):
            env = Environment(pid=pid, tgid=tgid, uid=uid, gid=gid, cpu=cpu)
            prog = load_unverified(program, env=env, tier=tier)
            results[tier] = (prog.run().r0, prog.test_run(repeat=5, cpu=2).retval)
        assert results["llvm"] == results["interp"]
        assert results["llvm"][0] == ((tgid << 32 | pid) ^ ((gid << 32 | uid) << 1)
                                      ^ (cpu << 7)) & ((1 << 64) - 1)


def _two_clock_reads() -> list[asm.Instruction]:
    """r0 = the second ktime minus the first (r6 keeps the first)."""
    return asm.link([asm.call(H["KTIME_GET_NS"]), asm.mov(R6, R0),
                     asm.call(H["KTIME_GET_NS"]), asm.sub(R0, R6), asm.exit()])


def test_ktime_reads_the_monotonic_clock_natively() -> None:
    prog = load_unverified(asm.link([asm.call(H["KTIME_GET_NS"]), asm.exit()]), tier="llvm")
    before = time.monotonic_ns()
    now = prog.run().r0
    assert before <= now <= time.monotonic_ns()
    assert load_unverified(_two_clock_reads(), tier="llvm").run().r0 < 1 << 63  # forward


def test_ktime_asks_a_replaced_clock() -> None:
    ticks = iter(range(1000, 100_000, 250))
    env = Environment(clock_ns=lambda: next(ticks))
    results = [load_unverified(_two_clock_reads(), env=env, tier=tier).run().r0
               for tier in ("interp", "llvm")]
    assert results == [250, 250]
