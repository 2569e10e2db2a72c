"""BTF of the running kernel: pybpf's load-to-first-lookup and full decode vs bpftool.

Runnable alone: ``.venv/bin/python bench/bench_btf.py [PATH]``. Prints a markdown table of
medians of 5 runs. Each pybpf run parses from the bytes already read (file reading is the
same for both tools and timed in bpftool's column through its process).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pybpf.btf import Spec, Struct  # noqa: E402

RUNS = 5


def median_ms(fn) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/sys/kernel/btf/vmlinux"

    def load_and_lookup() -> None:
        data = Path(path).read_bytes()
        spec = Spec.from_bytes(data, name=path)
        task = spec.find("task_struct", Struct)
        assert task.members

    def load_only() -> None:
        Spec.from_bytes(Path(path).read_bytes(), name=path)

    def full_decode() -> None:
        spec = Spec.from_bytes(Path(path).read_bytes(), name=path)
        for t in spec:
            if isinstance(t, Struct):
                for m in t.members:
                    m.type  # resolve every lazy reference of composites too

    rows = [("pybpf: parse (index only)", median_ms(load_only)),
            ("pybpf: parse + find('task_struct')", median_ms(load_and_lookup)),
            ("pybpf: parse + decode every type", median_ms(full_decode))]
    bpftool = shutil.which("bpftool")
    if bpftool:
        def dump() -> None:
            with open("/dev/null", "w") as devnull:
                subprocess.run([bpftool, "btf", "dump", "file", path], stdout=devnull,
                               check=True)
        rows.append(("bpftool btf dump file (raw, to /dev/null)", median_ms(dump)))
    types = len(Spec.from_bytes(Path(path).read_bytes()))
    size_mb = Path(path).stat().st_size / 1e6 if Path(path).stat().st_size else 0
    print(f"BTF of {path}: {types} type ids, {size_mb:.1f} MB; median of {RUNS} runs\n")
    print("| what | median ms |")
    print("|---|---:|")
    for what, ms in rows:
        print(f"| {what} | {ms:.1f} |")


if __name__ == "__main__":
    main()
