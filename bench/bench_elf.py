"""Opening BPF objects: pybpf's ``load_collection_spec`` beside libbpf (via bpftool) and LLVM.

Runnable alone: ``.venv/bin/python bench/bench_elf.py``. For each object:

* pybpf, in process: ``load_collection_spec(bytes)``: ELF, BTF, maps, relocations, linking,
  .BTF.ext, from bytes already read;
* ``pybpf spec FILE`` as a process (interpreter start-up included);
* ``bpftool gen skeleton FILE``: libbpf's ``bpf_object__open`` (ELF, BTF, maps, programs,
  relocations collected) plus printing the skeleton header: the closest reference;
* ``llvm-objdump -d -r FILE``: decode and list every instruction and relocation.

Objects: the elf_* test programs and a generated large one (200 programs, 64 maps, shared
subprograms). Each cell is the median of 5 runs, in milliseconds. Prints a markdown table.
"""

from __future__ import annotations

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

from pybpf.elf import load_collection_spec  # noqa: E402
from tests.bpfobjs import _ARCH_INCLUDE, build_object  # noqa: E402

RUNS = 5
PYTHON = sys.executable


def median_ms(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run_tool(args: list[str]) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tool_cell(args: list[str] | None) -> str:
    """Median ms of a tool, or why there is none (libbpf 1.1 refuses some valid objects:
    static functions in program sections, __ulong map_extra)."""
    if args is None:
        return "n/a"
    if subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        return "refused"
    return f"{median_ms(lambda: run_tool(args)):.1f} ms"


def large_source(programs: int = 200, maps: int = 64) -> str:
    """C text of a big object: many maps, programs and shared static/global subprograms."""
    lines = ['#include <linux/bpf.h>', '#include <bpf/bpf_helpers.h>',
             'char LICENSE[] SEC("license") = "GPL";', '__u64 counter;',
             'const volatile __u32 knob = 3;']
    for m in range(maps):
        lines.append(f"struct {{ __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, {m + 1});"
                     f" __type(key, __u32); __type(value, __u64); }} map{m} SEC(\".maps\");")
    lines.append("static __noinline int mix(int x) { return x * 31 + (int)knob; }")
    lines.append("__noinline int global_helper(int x) { counter += x; return mix(x) ^ 7; }")
    for p in range(programs):
        lines.append(
            f'SEC("tracepoint/syscalls/sys_enter_{p}") int prog{p}(void *ctx) {{\n'
            f"  __u32 k = {p}; __u64 one = 1, *v = bpf_map_lookup_elem(&map{p % maps}, &k);\n"
            f"  if (v) *v += global_helper({p}); else bpf_map_update_elem(&map{p % maps}, &k,"
            f" &one, 0);\n  return mix({p}) & 1;\n}}")
    return "\n".join(lines) + "\n"


def build_large(tmp: Path) -> Path:
    src = tmp / "large.bpf.c"
    src.write_text(large_source())
    out = tmp / "large.o"
    subprocess.run(["clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", _ARCH_INCLUDE,
                    "-c", str(src), "-o", str(out)], check=True)
    return out


def main() -> None:
    bpftool = shutil.which("bpftool")
    objdump = shutil.which("llvm-objdump") or shutil.which("llvm-objdump-14")
    with tempfile.TemporaryDirectory() as tmp:
        objects = [(name, build_object(name)) for name in
                   ("elf_progs", "elf_maps", "elf_globals", "elf_core")]
        objects.append(("large (200 progs, 64 maps)", build_large(Path(tmp))))
        print("| object | size | pybpf load_collection_spec | `pybpf spec` (process) | "
              "`bpftool gen skeleton` (process) | `llvm-objdump -d -r` (process) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, path in objects:
            data = path.read_bytes()
            spec = load_collection_spec(data)
            ours = median_ms(lambda: load_collection_spec(data))
            cli = median_ms(lambda: run_tool([PYTHON, "-m", "pybpf", "spec", str(path)]))
            skel = tool_cell([bpftool, "gen", "skeleton", str(path)] if bpftool else None)
            dump = tool_cell([objdump, "-d", "-r", str(path)] if objdump else None)
            size = f"{len(data) // 1024} KiB, {len(spec.programs)} progs"
            print(f"| {name} | {size} | {ours:.1f} ms | {cli:.1f} ms | {skel} | {dump} |")
        start = median_ms(lambda: run_tool([PYTHON, "-c", "pass"]))
        print(f"\nPython start-up alone: {start:.1f} ms (part of the `pybpf spec` column).")


if __name__ == "__main__":
    main()
