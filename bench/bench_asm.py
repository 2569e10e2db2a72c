"""Instructions per second of pybpf's disassembler and assembler, beside LLVM's tools.

Run alone: ``.venv/bin/python bench/bench_asm.py``. Workloads:

* every test object of tests/bpf (compiled by clang): pybpf's ``llvm-objdump -d`` listing
  (ELF read + disassembly, in process) against ``llvm-objdump -d`` (a subprocess: its wall
  time includes process start-up, measured separately with ``--version``);
* assembling those listings back (pybpf) against ``llvm-mc -filetype=obj`` on the same
  instructions (subprocess, start-up included);
* a large synthetic program (LLVM 14-known instructions, so LLVM can take it too).

Each cell is the median of 5 runs. Prints a markdown table.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from pybpf import asm  # noqa: E402
from pybpf.asm import R0, R1, R2, R3, R6, R10, Instruction  # noqa: E402
from pybpf.commands.disasm import objdump_listing, read_program_sections  # noqa: E402
from tests.bpfobjs import all_sources, build_object  # noqa: E402

RUNS = 5


def median_time(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_tool(args: list[str]) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def synthetic_program(n: int, seed: int = 1) -> list[Instruction]:
    """``n`` instructions of the kinds clang emits, jumps kept inside the program."""
    rnd = random.Random(seed)
    regs = [R0, R1, R2, R3, R6]
    makers: list[Callable[[int], Instruction]] = [
        lambda i: asm.add(rnd.choice(regs), rnd.randint(-1000, 1000)),
        lambda i: asm.mov(rnd.choice(regs), rnd.choice(regs)),
        lambda i: asm.xor32(rnd.choice(regs), rnd.choice(regs)),
        lambda i: asm.ldx(rnd.choice([1, 2, 4, 8]), rnd.choice(regs), R10, -8 * rnd.randint(1, 32)),
        lambda i: asm.stx(8, R10, rnd.choice(regs), -8 * rnd.randint(1, 32)),
        lambda i: asm.jgt(rnd.choice(regs), rnd.randint(0, 100), rnd.randint(0, 5)),
        lambda i: asm.jne32(rnd.choice(regs), rnd.choice(regs), rnd.randint(0, 5)),
        lambda i: asm.call(rnd.randint(1, 200)),
        lambda i: asm.lddw(rnd.choice(regs), rnd.getrandbits(63)),
        lambda i: asm.atomic_add(8, R10, rnd.choice(regs), -8),
    ]
    body = [rnd.choice(makers)(i) for i in range(n - 10)]
    return body + [asm.mov(R0, 0)] * 9 + [asm.exit()]


def main() -> int:
    objdump = shutil.which("llvm-objdump")
    llvm_mc = shutil.which("llvm-mc")
    objects = [build_object(name) for name in all_sources()]
    sections = [s for o in objects for s in read_program_sections(str(o))]
    obj_insns = sum(len(Instruction.decode(s.data)) for s in sections)
    listings = [asm.disassemble(Instruction.decode(s.data)) for s in sections]

    synth = synthetic_program(100_000)
    synth_text = asm.disassemble(synth)
    synth_bytes = asm.encode_all(synth)
    rows: list[tuple[str, int, float, float | None, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        # an ELF of the synthetic program, made by llvm-mc from LLVM-syntax text
        synth_s = Path(tmp) / "synth.s"
        synth_s.write_text("\t.text\n" + "".join(asm.format_instruction(i) + "\n"
                                                  for i in synth))
        synth_o = Path(tmp) / "synth.o"
        if llvm_mc:
            run_tool([llvm_mc, "-triple=bpfel", "-filetype=obj", str(synth_s), "-o",
                      str(synth_o)])

        startup = median_time(lambda: run_tool([objdump, "--version"])) if objdump else None

        t_ours = median_time(lambda: [objdump_listing(str(o)) for o in objects])
        t_llvm = (median_time(lambda: [run_tool([objdump, "-d", str(o)]) for o in objects])
                  if objdump else None)
        rows.append((f"disassemble {len(objects)} test objects (ELF read + listing)",
                     obj_insns, t_ours, t_llvm, f"llvm: {len(objects)} processes"))

        t_ours = median_time(lambda: [asm.assemble(t) for t in listings])
        # llvm-mc 14 cannot parse its own spelling of fetch atomics (atomic_fetch_add,
        # xchg_64, cmpxchg_64) that these objects contain: no LLVM column here
        t_llvm = None
        rows.append((f"assemble the {len(objects)} objects' listings", obj_insns, t_ours,
                     t_llvm, "llvm-mc 14 cannot parse fetch atomics"))

        n = len(synth)
        t_ours = median_time(lambda: asm.disassemble(synth_bytes))
        t_llvm = (median_time(lambda: run_tool([objdump, "-d", str(synth_o)]))
                  if objdump and synth_o.exists() else None)
        rows.append(("disassemble synthetic program (bytes -> text)", n, t_ours, t_llvm,
                     "llvm: 1 process"))
        t_ours = median_time(lambda: asm.assemble(synth_text))
        t_llvm = (median_time(lambda: run_tool([llvm_mc, "-triple=bpfel", "-filetype=obj",
                                                str(synth_s), "-o", str(synth_o) + "2"]))
                  if llvm_mc else None)
        rows.append(("assemble synthetic program (text -> insns)", n, t_ours, t_llvm,
                     "llvm-mc: 1 process"))
        t_ours = median_time(lambda: asm.encode_all(Instruction.decode(synth_bytes)))
        rows.append(("decode + encode synthetic program", n, t_ours, None, ""))

    print(f"Median of {RUNS} runs; llvm-objdump/llvm-mc 14 as subprocesses, "
          f"process start-up ~{(startup or 0) * 1000:.1f} ms each.\n")
    print("| workload | insns | pybpf s | pybpf insn/s | LLVM s | LLVM insn/s | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, count, ours, theirs, note in rows:
        llvm_cells = (f"{theirs:.3f} | {count / theirs:,.0f}" if theirs else "- | -")
        print(f"| {name} | {count:,} | {ours:.3f} | {count / ours:,.0f} | {llvm_cells} | "
              f"{note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
