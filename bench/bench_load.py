"""Open + load (+ attach) of a CO-RE tracing object: pybpf beside libbpf (C).

Runnable alone, as root: ``.venv/bin/python bench/bench_load.py``. Prints two markdown
tables of medians of 5 runs per object:

1. open + load + close of the prebuilt README demo and tests/bpf/core_fields.bpf.c
   (4 programs, 46 CO-RE relocations; built with clang when available);
2. open + load + ATTACH + detach + close of tests/bpf/prebuilt/core_demo.bpf.o, a
   tracepoint program (syscalls/sys_enter_execve): pybpf attaches with
   ``pybpf.kernel.links.attach_auto`` (by section name, libbpf's convention), libbpf with
   ``bpf_program__attach``.

Both sides do the same work in-process and from scratch each run: read the ELF, parse the
kernel's BTF, apply CO-RE, load BTF, create maps, load programs (verifier included), attach
where asked, then close everything. libbpf's column is a tiny C loader compiled here
against libbpf-dev (``bpf_object__open_file`` + ``bpf_object__load`` [+
``bpf_program__attach`` + ``bpf_link__destroy``] + ``bpf_object__close``, timed with
CLOCK_MONOTONIC around each iteration), so process start-up is not counted on either side.
The cached column shares one :class:`KernelBTF` across runs, as a long-lived tool would.

3. open + load + close of every object Debian's libbpf-tools package ships (cut out of its
   binaries at bench time by tests/libbpf_tools.py), each with the programs libbpf loads on
   this kernel. pybpf parses the kernel's BTF afresh for every run, in two ways: "walk"
   finds every record of vmlinux (what the first process after a boot does), "indexed" reads
   the record index an earlier process left in the BTF offsets cache
   (``pybpf.btf.offsets_cache``). ``--libbpf-tools N`` limits the table to N objects.
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

from pybpf.elf import load_collection_spec  # noqa: E402
from pybpf.kernel import CollectionOptions, load  # noqa: E402
from pybpf.kernel.kernel_btf import KernelBTF  # noqa: E402
from pybpf.kernel.links import attach_auto  # noqa: E402

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
	int attach = argc > 3 && !strcmp(argv[3], "attach");
	libbpf_set_print(quiet);
	for (int i = 0; i < runs; i++) {
		struct timespec a, b;
		struct bpf_link *links[64];
		int nlinks = 0;
		struct bpf_program *prog;
		clock_gettime(CLOCK_MONOTONIC, &a);
		struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
		if (!obj || bpf_object__load(obj)) {
			fprintf(stderr, "libbpf failed to load %s\n", argv[1]);
			return 1;
		}
		if (attach) {
			bpf_object__for_each_program(prog, obj) {
				struct bpf_link *link = bpf_program__attach(prog);
				if (!link || nlinks == 64) {
					fprintf(stderr, "libbpf failed to attach %s\n",
						bpf_program__name(prog));
					return 1;
				}
				links[nlinks++] = link;
			}
		}
		while (nlinks > 0)
			bpf_link__destroy(links[--nlinks]);
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
    src.write_text("#include <stdlib.h>\n#include <stdarg.h>\n#include <string.h>\n" + C_LOADER)
    exe = workdir / "loader"
    proc = subprocess.run([compiler, "-O2", str(src), "-o", str(exe), "-lbpf"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"(C loader not built: {proc.stderr.strip().splitlines()[-1:]})",
              file=sys.stderr)
        return None
    return exe


def libbpf_median_ms(loader: Path, obj: Path, *, attach: bool = False) -> float:
    args = [str(loader), str(obj), str(RUNS)] + (["attach"] if attach else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return statistics.median(float(x) for x in out.split())


def pybpf_median_ms(obj: Path, options: CollectionOptions | None = None, *,
                    attach: bool = False) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        # by default a fresh KernelBTF each time, as libbpf parses vmlinux each time
        with load(obj, options=options) as coll:
            links = [attach_auto(prog, coll.spec.programs[name])
                     for name, prog in coll.programs.items()] if attach else []
            for link in reversed(links):
                link.close()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def attach_table(loader: Path | None) -> None:
    obj = ROOT / "tests/bpf/prebuilt/core_demo.bpf.o"
    print(f"\nopen + load + attach + detach + close of {obj.name} (tracepoint "
          f"syscalls/sys_enter_execve), median of {RUNS} runs (ms)\n")
    print("| object | pybpf, vmlinux BTF parsed (index on disk) | pybpf, KernelBTF kept | libbpf 1.1 (C) | ratio (parsed) |")
    print("|---|---|---|---|---|")
    ours = pybpf_median_ms(obj, attach=True)
    cache = KernelBTF()
    cache.spec
    cached = pybpf_median_ms(obj, CollectionOptions(kernel_btf=cache), attach=True)
    theirs = libbpf_median_ms(loader, obj, attach=True) if loader else float("nan")
    print(f"| {obj.name} | {ours:.1f} | {cached:.1f} | {theirs:.1f} | {ours / theirs:.1f}x |")


def _pybpf_fresh_ms(spec, use_index: bool) -> float:
    """Median ms of open + load + close with vmlinux parsed anew each run."""
    from pybpf.btf import load_kernel_spec

    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        kernel_btf = KernelBTF(spec=load_kernel_spec(use_cache=use_index))
        with load(spec, options=CollectionOptions(kernel_btf=kernel_btf)):
            pass
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def libbpf_tools_table(limit: int | None) -> list[float]:
    """The libbpf-tools table; returns the "indexed" ratios."""
    from tests import libbpf_tools

    objects = libbpf_tools.objects()[:limit]
    print(f"\nopen + load + close of Debian's libbpf-tools objects (the programs libbpf loads "
          f"here), median of {RUNS} runs (ms)\n")
    print("| object | programs | pybpf, walk | pybpf, indexed | libbpf (C) | ratio walk | "
          "ratio indexed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ratios = []
    with tempfile.TemporaryDirectory(prefix="pybpf-bench-load-") as tmp:
        runner = libbpf_tools.build_libbpf_runner(Path(tmp))
        for obj in objects:
            keep = [n for n, ok in libbpf_tools.libbpf_loads(runner, obj).items() if ok]
            if not keep:
                continue
            spec = libbpf_tools.only(load_collection_spec(str(obj)), keep)
            out = subprocess.run([str(runner), "time", str(obj), "," + ",".join(keep) + ",",
                                  str(RUNS)], check=True, capture_output=True, text=True)
            theirs = statistics.median(float(x) for x in out.stdout.split())
            # the ELF is read inside the timing too, as libbpf's open does
            walk = _pybpf_fresh_ms(spec, use_index=False) + _elf_ms(obj)
            indexed = _pybpf_fresh_ms(spec, use_index=True) + _elf_ms(obj)
            ratios.append(indexed / theirs)
            print(f"| {obj.name} | {len(keep)} | {walk:.1f} | {indexed:.1f} | {theirs:.1f} | "
                  f"{walk / theirs:.2f}x | {indexed / theirs:.2f}x |")
    print(f"\nmedian ratio (indexed): {statistics.median(ratios):.2f}x over {len(ratios)} "
          f"objects; geometric mean {statistics.geometric_mean(ratios):.2f}x")
    return ratios


def _elf_ms(obj: Path) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        load_collection_spec(str(obj))
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    if "--libbpf-tools" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--libbpf-tools") + 1])
        libbpf_tools_table(limit or None)
        return
    with tempfile.TemporaryDirectory(prefix="pybpf-bench-load-") as tmp:
        loader = build_c_loader(Path(tmp))
        print(f"open + load + close, median of {RUNS} runs (ms)\n")
        print("| object | programs | pybpf, vmlinux BTF parsed (index on disk) | "
              "pybpf, KernelBTF kept | libbpf 1.1 (C) | ratio (parsed) |")
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
        attach_table(loader)
    libbpf_tools_table(None)


if __name__ == "__main__":
    main()
