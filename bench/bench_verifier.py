"""Verification time per program: pybpf's verifier beside the kernel's own.

For every clang-built program of tests/bpf/ that loads standalone, and a sample of the
hand-written corpus: pybpf's time (median of 5) and instructions processed, beside the
kernel's "verification time N usec" and "processed N insns" read from a log_level 4
(BPF_LOG_STATS) load. Needs root for the kernel column. Prints a markdown table.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pybpf.errors import BPFError, VerifierError  # noqa: E402
from pybpf.verifier import verify  # noqa: E402
from tests.bpfobjs import all_sources, build_object  # noqa: E402

RUNS = 5
_TIME = re.compile(r"verification time (\d+) usec")
_PROCESSED = re.compile(r"processed (\d+) insns")


def _ours(prog, maps):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = verify(prog, maps=maps)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _kernel(spec, name):  # type: ignore[no-untyped-def]
    from pybpf.kernel import CollectionOptions, load
    usecs = []
    processed = None
    alone = dataclasses.replace(spec, programs={name: spec.programs[name]})
    for _ in range(RUNS):
        with load(alone, options=CollectionOptions(log_level=4)) as coll:
            log = "\n".join(coll.programs[name].verifier_log)
        m = _TIME.search(log)
        p = _PROCESSED.search(log)
        if m:
            usecs.append(int(m.group(1)))
        if p:
            processed = int(p.group(1))
    return (statistics.median(usecs) if usecs else None), processed


def main() -> None:
    from pybpf.btf.core import relocate_collection
    from pybpf.elf import load_collection_spec
    from pybpf.kernel.kernel_btf import KernelBTF
    kbtf = KernelBTF()
    rows = []
    for obj in all_sources():
        try:
            spec = load_collection_spec(build_object(obj))
        except Exception:
            continue
        relocated = spec
        if any(p.core_relos for p in spec.programs.values()):
            relocated, _ = relocate_collection(spec, kbtf.spec)
        for name, prog in relocated.programs.items():
            try:
                ours_s, result = _ours(prog, spec.maps)
            except VerifierError:
                continue
            try:
                k_us, k_processed = _kernel(spec, name)
            except (BPFError, OSError):
                continue
            rows.append((f"{obj}/{name}", result.insns, ours_s * 1e6, result.insns_processed,
                         result.states_stored, k_us, k_processed))
    rows.sort(key=lambda r: -r[1])
    print("| program | insns | pybpf µs | pybpf insns processed | pybpf states | "
          "kernel µs | kernel processed insns |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        k_us = "-" if r[5] is None else f"{r[5]:.0f}"
        print(f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]} | {r[4]} | {k_us} | {r[6]} |")
    total_ours = sum(r[2] for r in rows)
    total_kernel = sum(r[5] or 0 for r in rows)
    print(f"\n{len(rows)} programs; total pybpf {total_ours / 1e3:.1f} ms, kernel "
          f"{total_kernel / 1e3:.1f} ms (medians of {RUNS} runs)")


if __name__ == "__main__":
    main()
