"""Listing the kernel's programs and maps: pybpf beside bpftool (medians of 5 runs).

Loads 20 copies of a small object first so the listings have something to walk, then times
``inventory.programs()``/``maps()`` in-process, and the whole commands (``pybpf prog list
-j`` vs ``bpftool -j prog list``, process start included). Needs root, clang and bpftool.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pybpf.kernel import inventory, load  # noqa: E402
from tests.bpfobjs import build_object  # noqa: E402

RUNS = 5


def median_s(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    if shutil.which("bpftool") is None:
        sys.exit("needs bpftool")
    obj = build_object("cli_exec")
    with contextlib.ExitStack() as stack:
        for _ in range(20):
            stack.enter_context(load(obj))
        n_progs, n_maps = len(inventory.program_ids()), len(inventory.map_ids())
        pybpf = [sys.executable, "-m", "pybpf"]
        rows = [
            ("programs, in-process", median_s(inventory.programs), None),
            ("maps, in-process", median_s(inventory.maps), None),
            ("prog list -j (command)", median_s(lambda: command([*pybpf, "prog", "list", "-j"])),
             median_s(lambda: command(["bpftool", "-j", "prog", "list"]))),
            ("map list -j (command)", median_s(lambda: command([*pybpf, "map", "list", "-j"])),
             median_s(lambda: command(["bpftool", "-j", "map", "list"]))),
        ]
    print(f"Kernel inventory ({n_progs} programs, {n_maps} maps loaded), medians of {RUNS}:\n")
    print("| listing | pybpf | bpftool |")
    print("|---|---|---|")
    for what, ours, theirs in rows:
        ref = f"{theirs * 1000:.1f} ms" if theirs is not None else "-"
        print(f"| {what} | {ours * 1000:.1f} ms | {ref} |")


if __name__ == "__main__":
    main()
