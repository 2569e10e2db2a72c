"""The userspace machine's tiers beside the kernel's JIT on the same programs.

Runnable alone: ``.venv/bin/python bench/bench_vm.py``. For each program it prints each VM
tier's time per run and instructions per second (median of 5 runs) and, when bpf() works
here, the kernel's BPF_PROG_TEST_RUN ``duration`` per run (median of 5 test runs of
``repeat`` each) for the very same bytecode loaded as a socket filter. Tiers: ``interp``
(reference interpreter), ``python`` (translated to Python source) and ``llvm`` (native code
through llvmlite, when installed); translation/compile time is not included, it happens once
per program.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from pybpf import asm  # noqa: E402
from pybpf.asm import R0, R1, R2, R3, R10  # noqa: E402
from pybpf.errors import BPFError  # noqa: E402
from pybpf.spec import ProgramSpec, ProgramType  # noqa: E402
from pybpf.vm import load  # noqa: E402

RUNS = 5
KERNEL_REPEAT = 1000
PACKET = bytes(64)


def arithmetic_loop(iterations: int) -> list[asm.Instruction]:
    """A tight loop: a multiply-xor-shift hash of the counter, 7 instructions per turn."""
    return asm.link([
        asm.mov(R0, 0), asm.mov(R1, iterations),
        asm.label("loop"),
        asm.mov(R2, R1), asm.mul(R2, 0x9E37_79B1), asm.xor(R0, R2), asm.rsh(R2, 7),
        asm.add(R0, R2), asm.sub(R1, 1), asm.jne(R1, 0, "loop"),
        asm.exit()])


def stack_loop(iterations: int) -> list[asm.Instruction]:
    """A loop through stack memory: load, add, store, 6 instructions per turn."""
    return asm.link([
        asm.st(8, R10, 0, -8), asm.mov(R1, iterations),
        asm.label("loop"),
        asm.ldx(8, R2, R10, -8), asm.add(R2, R1), asm.stx(8, R10, R2, -8),
        asm.mov(R3, R1), asm.sub(R1, 1), asm.jne(R1, 0, "loop"),
        asm.ldx(8, R0, R10, -8), asm.exit()])


def hash_counter(iterations: int) -> list[asm.Instruction]:
    """A hash-map counter: look up key i % 16, add to its value, ``iterations`` times."""
    from pybpf.asm import R6, R7
    return asm.link([
        asm.mov(R6, iterations),
        asm.label("loop"),
        asm.mov(R7, R6), asm.and_(R7, 15), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(1), asm.jeq(R0, 0, "next"),
        asm.ldx(8, R1, R0, 0), asm.add(R1, R6), asm.stx(8, R0, R1, 0),
        asm.label("next"),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, 0), asm.exit()])


def hash_churn(iterations: int) -> list[asm.Instruction]:
    """Hash-map inserts and deletes: update key i % 16 (BPF_ANY) and delete key
    (i + 7) % 16, ``iterations`` times; r0 sums the answers (0 or -ENOENT)."""
    from pybpf.asm import R4, R6, R7, R8
    return asm.link([
        asm.mov(R6, iterations), asm.mov(R8, 0),
        asm.label("loop"),
        asm.mov(R7, R6), asm.and_(R7, 15), asm.stx(4, R10, R7, -4),
        asm.stx(8, R10, R6, -16),
        asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10), asm.add(R2, -4), asm.mov(R3, R10),
        asm.add(R3, -16), asm.mov(R4, 0), asm.call(2), asm.add(R8, R0),
        asm.mov(R7, R6), asm.add(R7, 7), asm.and_(R7, 15), asm.stx(4, R10, R7, -4),
        asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10), asm.add(R2, -4), asm.call(3),
        asm.add(R8, R0),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])


def ring_output(iterations: int) -> list[asm.Instruction]:
    """bpf_ringbuf_output of 16 bytes (the counter and its square), ``iterations`` times;
    r0 sums the answers (0, or -EAGAIN for a drop)."""
    from pybpf.asm import R4, R6, R8
    return asm.link([
        asm.mov(R6, iterations), asm.mov(R8, 0),
        asm.label("loop"),
        asm.stx(8, R10, R6, -16), asm.mov(R1, R6), asm.mul(R1, R6), asm.stx(8, R10, R1, -8),
        asm.ld_map_fd(R1, "counts"), asm.mov(R2, R10), asm.add(R2, -16), asm.mov(R3, 16),
        asm.mov(R4, 0), asm.call(130), asm.add(R8, R0),
        asm.sub(R6, 1), asm.jne(R6, 0, "loop"),
        asm.mov(R0, R8), asm.exit()])


# a ring buffer big enough for every record of the runs timed (test_run's 1000 runs too):
# nothing drops; the VM's is drained after each timed run, outside the timing
RING_BYTES = 1 << 24

# program -> (instructions, the type of its "counts" map)
PROGRAMS = {"arithmetic loop (10k turns)": (arithmetic_loop(10_000), "ARRAY"),
            "stack load/store loop (10k turns)": (stack_loop(10_000), "ARRAY"),
            "array map counter (2k lookups)": (hash_counter(2_000), "ARRAY"),
            "hash map counter (2k lookups)": (hash_counter(2_000), "HASH"),
            "per-CPU array counter (2k lookups)": (hash_counter(2_000), "PERCPU_ARRAY"),
            "LRU hash counter (2k lookups)": (hash_counter(2_000), "LRU_HASH"),
            "hash insert/delete churn (1k updates, 1k deletes)": (hash_churn(1_000), "HASH"),
            "per-CPU hash churn (1k updates, 1k deletes)": (hash_churn(1_000), "PERCPU_HASH"),
            "ring buffer output (100 records of 16 bytes)": (ring_output(100), "RINGBUF")}
try:
    import llvmlite  # noqa: F401
    TIERS: tuple[str, ...] = ("interp", "python", "llvm")
except ImportError:  # the jit extra is optional: its column is left out
    TIERS = ("interp", "python")


def _counts_map(kind: str = "ARRAY"):  # type: ignore[no-untyped-def]
    """The 16 counters, keys 0-15 present (a hash map's are inserted)."""
    from pybpf.vm import ArrayMap, HashMap, LRUHashMap, PercpuArrayMap, PercpuHashMap, RingBufMap
    if kind == "RINGBUF":
        return RingBufMap("counts", max_entries=RING_BYTES)
    if kind == "ARRAY":
        return ArrayMap("counts", value_size=8, max_entries=16)
    if kind == "PERCPU_ARRAY":
        return PercpuArrayMap("counts", value_size=8, max_entries=16, ncpus=os.cpu_count() or 1)
    if kind == "PERCPU_HASH":
        counts = PercpuHashMap("counts", key_size=4, value_size=8, max_entries=16,
                               ncpus=os.cpu_count() or 1)
    else:
        counts = (LRUHashMap if kind == "LRU_HASH" else HashMap)(
            "counts", key_size=4, value_size=8, max_entries=16)
    for key in range(16):
        counts[key] = 0
    return counts


def bench_vm(insns: list[asm.Instruction], tier: str, kind: str = "ARRAY"
             ) -> tuple[int, float, int]:
    """(r0, median seconds per run, instructions per run)."""
    counts = _counts_map(kind)
    prog = load(insns, maps={"counts": counts}, tier=tier)
    prog.run()  # translate once (python tier) outside the timing
    times = []
    result = None
    for _ in range(RUNS):
        _drain(counts)
        start = time.perf_counter()
        result = prog.run()
        times.append(time.perf_counter() - start)
    assert result is not None
    return result.r0, statistics.median(times), result.insns


def bench_test_run(insns: list[asm.Instruction], tier: str, kind: str = "ARRAY") -> float:
    """Median seconds per run of ``test_run(repeat=KERNEL_REPEAT)``, the VM's side of the
    kernel's measure, in this thread's CPU time: the kernel's timer stops while its test
    loop is rescheduled, so on a shared machine wall time would count other programs here
    and not there (the call's one-off set-up is included, spread over the runs)."""
    counts = _counts_map(kind)
    prog = load(insns, maps={"counts": counts}, tier=tier,
                type=ProgramType.SOCKET_FILTER)
    prog.test_run(PACKET)  # compile once outside the timing
    times = []
    for _ in range(RUNS):
        _drain(counts)
        start = time.thread_time_ns()
        prog.test_run(PACKET, repeat=KERNEL_REPEAT)
        times.append(time.thread_time_ns() - start)
    return statistics.median(times) / KERNEL_REPEAT / 1e9


def _drain(counts: object) -> None:
    """Empty a ring buffer (outside the timing): every timed run outputs to a fresh ring."""
    read = getattr(counts, "read", None)
    if read is not None:
        read()


def bench_kernel(insns: list[asm.Instruction], kind: str = "ARRAY"
                 ) -> tuple[int, float] | None:
    """(retval, median ns per run) from BPF_PROG_TEST_RUN, or None without bpf()."""
    try:
        from pybpf.kernel.maps import Map
        from pybpf.kernel.programs import Program
        from pybpf.spec import MapSpec, MapType
        spec = ProgramSpec("bench_vm", "socket", type=ProgramType.SOCKET_FILTER,
                           instructions=insns, license="GPL")
        ring = kind == "RINGBUF"
        with Map.create(MapSpec("counts", MapType[kind], key_size=0 if ring else 4,
                                value_size=0 if ring else 8,
                                max_entries=RING_BYTES if ring else 16)) as counts, \
                Program.load(spec, maps={"counts": counts}) as prog:
            if kind not in ("PERCPU_ARRAY", "RINGBUF"):
                for key in range(16):
                    counts[key] = 0
            runs = [prog.test_run(PACKET, repeat=KERNEL_REPEAT) for _ in range(RUNS)]
    except (ImportError, BPFError, OSError) as err:  # no bpf() here: the VM alone
        print(f"(kernel column skipped: {err})", file=sys.stderr)
        return None
    return runs[0].retval, statistics.median(r.duration_ns for r in runs)


def main() -> int:
    global RUNS, KERNEL_REPEAT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="medians of this many runs")
    parser.add_argument("--quick", action="store_true", help="repeat=100 for test runs")
    args = parser.parse_args()
    RUNS = args.runs
    if args.quick:
        KERNEL_REPEAT = 100
    native = "llvm" in TIERS
    heads = " | ".join(f"{t} per run | {t} insns/s" for t in TIERS)
    print(f"| program | insns/run | {heads} | "
          + ("llvm test_run per run | " if native else "")
          + "kernel JIT per run (BPF_PROG_TEST_RUN) | python / kernel | llvm / kernel | "
          + "llvm test_run / kernel |")
    print("|---|---:|" + "---:|" * (2 * len(TIERS) + 4 + native))
    for name, (insns, kind) in PROGRAMS.items():
        cells = []
        seconds = {}
        for tier in TIERS:
            r0, seconds[tier], count = bench_vm(insns, tier, kind)
            cells.append(f"{_duration(seconds[tier])} | {count / seconds[tier] / 1e6:.2f} M")
        if native:
            seconds["llvm test_run"] = bench_test_run(insns, "llvm", kind)
            cells.append(_duration(seconds["llvm test_run"]))
        kernel = bench_kernel(insns, kind)
        ratios = ["n/a", "n/a", "n/a"]
        kernel_cell = "n/a"
        if kernel is not None:
            retval, ns = kernel
            assert retval == r0 & 0xFFFF_FFFF, f"{name}: kernel {retval:#x} vm {r0:#x}"
            kernel_cell = f"{ns / 1000:.1f} us"
            ratios = [f"{seconds[t] * 1e9 / ns:,.1f}x" if t in seconds else "n/a"
                      for t in ("python", "llvm", "llvm test_run")]
        print(f"| {name} | {count:,} | {' | '.join(cells)} | {kernel_cell} | "
              f"{' | '.join(ratios)} |")
    print(f"\nmedians of {RUNS} runs; per run columns time run() (set-up of the run "
          f"included); llvm test_run (CPU time of the thread) and the kernel (its "
          f"duration): test_run(repeat={KERNEL_REPEAT}), mean per run")
    return 0


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} us"


if __name__ == "__main__":
    sys.exit(main())
