"""BTF of the running kernel: pybpf's load-to-first-lookup and full decode vs bpftool.

Runnable alone: ``.venv/bin/python bench/bench_btf.py [PATH]``. Prints a markdown table of
medians of 5 runs. The first rows read the file and walk every record (what a process does
with no index cache); the "load_kernel_spec" rows are what pybpf does for the running
kernel: the first call per boot walks, sorts the names into a record index and stores it
with a copy of the bytes (``pybpf.btf.index_cache``), later calls map both.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pybpf.btf import Spec, Struct, load_kernel_spec  # noqa: E402

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

    def kernel_spec_and_lookup() -> None:
        task = load_kernel_spec(path).find("task_struct", Struct)
        assert task.members

    def first_kernel_spec_of_a_boot() -> None:
        with tempfile.TemporaryDirectory() as empty:
            os.environ["PYBPF_CACHE_DIR"] = empty
            try:
                load_kernel_spec(path).find("task_struct", Struct)
            finally:
                del os.environ["PYBPF_CACHE_DIR"]

    load_kernel_spec(path)  # the cache filled, as after any earlier run
    rows = [("pybpf: read + walk (no index)", median_ms(load_only)),
            ("pybpf: read + walk + find('task_struct')", median_ms(load_and_lookup)),
            ("pybpf: load_kernel_spec + find, first of a boot (builds the index)",
             median_ms(first_kernel_spec_of_a_boot)),
            ("pybpf: load_kernel_spec + find('task_struct'), index cached",
             median_ms(kernel_spec_and_lookup)),
            ("pybpf: read + walk + decode every type", median_ms(full_decode))]
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
