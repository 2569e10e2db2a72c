"""CO-RE relocation against the running kernel: pybpf vs libbpf (inside bpftool).

Runnable alone, as root for the libbpf column: ``.venv/bin/python bench/bench_core.py``.
Prints a markdown table of medians of 5 runs on the prebuilt demo object and on
tests/bpf/core_fields.bpf.c (46 relocations; built with clang when available).

libbpf only relocates while loading, so its column is ``bpftool prog loadall`` as a whole
(process start, vmlinux BTF parse, relocation, verifier, pin) minus nothing: an upper bound
for its relocation cost, not a like-for-like number. pybpf's rows split the same work into
what it does: read the ELF, parse vmlinux BTF, relocate.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from pybpf.btf import load_kernel_spec  # noqa: E402
from pybpf.btf.core import relocate_collection  # noqa: E402
from pybpf.elf import load_collection_spec  # noqa: E402

RUNS = 5
VMLINUX = "/sys/kernel/btf/vmlinux"


def median_ms(fn) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def objects() -> list[Path]:
    found = [ROOT / "tests/bpf/prebuilt/core_demo.bpf.o"]
    if shutil.which("clang"):
        from tests.bpfobjs import build_object
        found.append(build_object("core_fields"))
    return found


def bpftool_loadall(obj: Path) -> None:
    pin_dir = tempfile.mkdtemp(prefix="pybpf-bench-", dir="/sys/fs/bpf")
    try:
        subprocess.run(["bpftool", "prog", "loadall", str(obj), pin_dir], check=True,
                       capture_output=True)
    finally:
        shutil.rmtree(pin_dir, ignore_errors=True)


def main() -> None:
    can_libbpf = (shutil.which("bpftool") is not None and os.geteuid() == 0
                  and os.path.ismount("/sys/fs/bpf"))
    print("| object | relocations | pybpf: ELF + vmlinux + relocate (ms) | "
          "pybpf: relocate only, vmlinux parsed (ms) | libbpf: bpftool prog loadall (ms) |")
    print("|---|---:|---:|---:|---:|")
    for obj in objects():
        coll = load_collection_spec(obj)
        target = load_kernel_spec()
        count = sum(len(p.core_relos) for p in coll.programs.values())

        def cold() -> None:
            relocate_collection(load_collection_spec(obj), load_kernel_spec())

        def warm() -> None:
            # a fresh target each time, so cached decoded types do not flatter the number
            relocate_collection(coll, load_kernel_spec())

        warm_ms = median_ms(warm) - median_ms(lambda: load_kernel_spec())
        libbpf = f"{median_ms(lambda: bpftool_loadall(obj)):.1f}" if can_libbpf else "n/a"
        del target
        print(f"| {obj.name} | {count} | {median_ms(cold):.1f} | {warm_ms:.1f} | {libbpf} |")


if __name__ == "__main__":
    main()
