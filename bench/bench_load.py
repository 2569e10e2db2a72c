"""Open + load of a CO-RE tracing object: pybpf.kernel.load vs libbpf's bpf_object__load.

Runnable alone, as root: ``.venv/bin/python bench/bench_load.py``. Prints a markdown table
of medians of 5 runs per object: the prebuilt README demo and tests/bpf/core_fields.bpf.c
(4 programs, 46 CO-RE relocations; built with clang when available).

Both columns do the same work in-process and from scratch each run: read the ELF, parse
the kernel's BTF, apply CO-RE, load BTF, create maps, load programs (verifier included),
then close everything. libbpf's column is a tiny C loader compiled here against libbpf-dev
(``bpf_object__open_file`` + ``bpf_object__load`` + ``bpf_object__close``, timed with
CLOCK_MONOTONIC around each iteration), so process start-up is not counted on either side.
The cached column shares one :class:`KernelBTF` across runs, as a long-lived tool would.
Attaching is not measured (the link layer is separate).
"""

from __future__ import annotations

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

from pybpf.kernel import CollectionOptions, load  # noqa: E402
from pybpf.kernel.kernel_btf import KernelBTF  # noqa: E402

RUNS = 5

C_LOADER = r"""
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

int main(int argc, char **argv)
{
	int runs = atoi(argv[2]);
	libbpf_set_print(quiet);
	for (int i = 0; i < runs; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
		if (!obj || bpf_object__load(obj)) {
			fprintf(stderr, "libbpf failed to load %s\n", argv[1]);
			return 1;
		}
		bpf_object__close(obj);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.3f\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
	}
	return 0;
}
"""


def objects() -> list[Path]:
    found = [ROOT / "tests/bpf/prebuilt/core_demo.bpf.o"]
    if shutil.which("clang"):
        from tests.bpfobjs import build_object
        found.append(build_object("core_fields"))
    return found


def build_c_loader(workdir: Path) -> Path | None:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None
    src = workdir / "loader.c"
    src.write_text("#include <stdlib.h>\n#include <stdarg.h>\n" + C_LOADER)
    exe = workdir / "loader"
    proc = subprocess.run([compiler, "-O2", str(src), "-o", str(exe), "-lbpf"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"(C loader not built: {proc.stderr.strip().splitlines()[-1:]})",
              file=sys.stderr)
        return None
    return exe


def libbpf_median_ms(loader: Path, obj: Path) -> float:
    out = subprocess.run([str(loader), str(obj), str(RUNS)], check=True,
                         capture_output=True, text=True).stdout
    return statistics.median(float(x) for x in out.split())


def pybpf_median_ms(obj: Path, options: CollectionOptions | None = None) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        # by default a fresh KernelBTF each time, as libbpf parses vmlinux each time
        with load(obj, options=options):
            pass
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pybpf-bench-load-") as tmp:
        loader = build_c_loader(Path(tmp))
        print(f"open + load + close, median of {RUNS} runs (ms)\n")
        print("| object | programs | pybpf | pybpf, vmlinux BTF cached | libbpf 1.1 (C) "
              "| ratio (uncached) |")
        print("|---|---|---|---|---|---|")
        for obj in objects():
            with load(obj) as coll:
                programs = len(coll.programs)
            ours = pybpf_median_ms(obj)
            cache = KernelBTF()
            cache.spec  # parsed once, outside the timing: what a long-lived process sees
            cached = pybpf_median_ms(obj, CollectionOptions(kernel_btf=cache))
            theirs = libbpf_median_ms(loader, obj) if loader else float("nan")
            prebuilt = obj.parent.name == "prebuilt"
            name = obj.name if prebuilt else obj.name.split("-")[0] + ".bpf.o"
            print(f"| {name} | {programs} | {ours:.1f} | {cached:.1f} | {theirs:.1f} | "
                  f"{ours / theirs:.1f}x |")


if __name__ == "__main__":
    main()
