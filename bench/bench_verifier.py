"""Verification time per program: pybpf's verifier beside the kernel's own.

For every clang-built program of tests/bpf/ that loads standalone, and the pybpf.lang
programs of pybpf.net (xdp_filter, flowcount): pybpf's CPU time (median of 5) and instructions
processed, beside the kernel's "verification time N usec" and "processed N insns" read from
a log_level 4 (BPF_LOG_STATS) load. Needs root for the kernel column. Prints a markdown
table. ``--runs N`` changes the 5 (a slow old verifier: ``--runs 1``); ``--only WORD``
keeps the rows whose name contains WORD.

``--corpus NAME`` (repeatable: selftests, handwritten, libbpf-tools, test-objects,
pybpf.lang; see tests/verifier/kernel_corpus) measures instead every program of those
corpora that both verifiers accept, one run each (CPU time): per corpus, our processed
instructions per second, our processed counts beside the kernel's (ratio), the programs over 100 ms,
and the slowest programs; also how long we take on the programs the kernel rejects at its
1M-instruction limit. ``--max-insns``/``--timeout`` are our verifier's budget per program.

``--limits`` times instead small loops written here that walk up to the 1M-instruction
limit (a counter in a register, in a stack slot, a bound the verifier cannot know) and
cond_break-style loops (``may_goto``), beside the kernel's verdict, time and count.
"""

from __future__ import annotations

import dataclasses
import os
import re
import statistics
import sys
import tempfile
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
        # CPU time: on a machine shared with other work, wall time measures the others too
        start = time.process_time()
        result = verify(prog, maps=maps)
        times.append(time.process_time() - start)
    return statistics.median(times), result


def _kernel(spec, name):  # type: ignore[no-untyped-def]
    from pybpf.kernel import CollectionOptions, ensure_bpffs, load
    usecs = []
    processed = None
    alone = dataclasses.replace(spec, programs={name: spec.programs[name]})
    for _ in range(RUNS):
        # maps pinned by name (LIBBPF_PIN_BY_NAME) go to a directory of our own, removed
        # after each load: the bench must leave nothing in /sys/fs/bpf
        pin_dir = tempfile.mkdtemp(prefix="pybpf-bench-verifier-", dir=ensure_bpffs())
        try:
            with load(alone, options=CollectionOptions(log_level=4, pin_path=pin_dir)) as coll:
                log = "\n".join(coll.programs[name].verifier_log)
                coll.unpin_maps()
        finally:
            os.rmdir(pin_dir)
        m = _TIME.search(log)
        p = _PROCESSED.search(log)
        if m:
            usecs.append(int(m.group(1)))
        if p:
            processed = int(p.group(1))
    return (statistics.median(usecs) if usecs else None), processed


def _lang_specs():  # type: ignore[no-untyped-def]
    """(label, spec) of the pybpf.lang programs that pybpf.net ships."""
    out = []
    for module in ("xdp_filter", "flowcount"):
        try:
            mod = __import__(f"pybpf.net.{module}", fromlist=["compile_program"])
            out.append((f"lang:{module}", mod.compile_program().spec))
        except Exception:  # noqa: BLE001 - a module another engineer is changing
            continue
    return out


def _corpus_tables(corpora: list[str], only: str, max_insns: int, timeout: float) -> None:
    from tests.verifier.kernel_corpus.corpora import CORPORA
    from tests.verifier.kernel_corpus.judge import Budget
    budget = Budget(max_insns, timeout)
    print("| corpus | programs both accept | pybpf processed insns | pybpf s | pybpf insns/s | "
          "processed ratio pybpf/kernel: median / max | over 100 ms | kernel µs total |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    slow = []
    limits = []
    for corpus in corpora:
        both = []
        for row in CORPORA[corpus](budget, only):
            k, o = row.kernel, row.ours
            if k.verdict == "reject" and k.fault == "too complex":
                limits.append((row.name, o.verdict, o.seconds))
            if k.verdict == "accept" and o.verdict == "accept" and o.processed:
                both.append(row)
        if not both:
            continue
        processed = sum(r.ours.processed or 0 for r in both)
        seconds = sum(r.ours.seconds for r in both)
        ratios = sorted((r.ours.processed or 0) / r.kernel.processed for r in both
                        if r.kernel.processed)
        over = [r for r in both if r.ours.seconds > 0.1]
        k_us = sum(r.kernel.usec or 0 for r in both)
        ratio = (f"{statistics.median(ratios):.2f} / {ratios[-1]:.2f}" if ratios else "-")
        print(f"| {corpus} | {len(both)} | {processed} | {seconds:.2f} | "
              f"{processed / seconds if seconds else 0:,.0f} | {ratio} | {len(over)} | "
              f"{k_us} |")
        slow += [(r.ours.seconds, corpus, r) for r in both]
    slow.sort(key=lambda t: -t[0])
    print("\nslowest programs both accept:\n")
    print("| corpus | program | pybpf ms | pybpf processed | kernel processed | kernel µs |")
    print("|---|---|---:|---:|---:|---:|")
    for secs, corpus, r in slow[:15]:
        print(f"| {corpus} | {r.name} | {secs * 1e3:.0f} | {r.ours.processed} | "
              f"{r.kernel.processed} | {r.kernel.usec} |")
    if limits:
        print("\nprograms the kernel rejects as too complex (its 1M-instruction limit):\n")
        print("| program | our verdict | pybpf s |")
        print("|---|---|---:|")
        for name, verdict, secs in limits:
            print(f"| {name} | {verdict} | {secs:.1f} |")


# loops that make a verifier walk long: the kernel rejects the first three at its 1M limit
_LIMIT_PROGRAMS = {
    "counter loop to 2^28 (1M limit)": """
        r1 = 0
    top:
        r1 += 1
        if r1 < 0x10000000 goto top
        r0 = 0
        exit""",
    "stack counter loop to 2^24 (1M limit)": """
        r1 = 0
        *(u64 *)(r10 - 8) = r1
    top:
        r1 = *(u64 *)(r10 - 8)
        r1 += 1
        *(u64 *)(r10 - 8) = r1
        if r1 < 0x1000000 goto top
        r0 = 0
        exit""",
    "loop to an unknown bound (1M limit)": """
        r2 = *(u32 *)(r1 + 0)
        r0 = 0
    top:
        r0 += 1
        if r0 != r2 goto top
        exit""",
    "cond_break, unknown bound": """
        r6 = *(u32 *)(r1 + 0)
        r1 = 0
        r2 = 0
    top:
        if r1 >= r6 goto out
        may_goto out
        r2 += r1
        r1 += 1
        goto top
    out:
        r0 = 0
        exit""",
    "cond_break, 100000 iterations": """
        r1 = 0
        r2 = 0
    top:
        if r1 >= 100000 goto out
        may_goto out
        r2 += r1
        r1 += 1
        goto top
    out:
        r0 = 0
        exit""",
}


def _limit_table(only: str) -> None:
    from pybpf.asm.assembler import assemble
    from pybpf.spec import ProgramType
    from tests.verifier.kernel_side import kernel_verdict
    runs = max(1, min(RUNS, 3))
    print("| program | pybpf verdict | pybpf s | pybpf processed | pybpf insns/s | "
          "kernel verdict | kernel s | kernel processed |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for label, text in _LIMIT_PROGRAMS.items():
        if only not in label:
            continue
        insns = assemble(text)
        times = []
        verdict, processed = "accept", 0
        for _ in range(runs):
            start = time.process_time()
            try:
                processed = verify(insns, prog_type=ProgramType.SOCKET_FILTER).insns_processed
            except VerifierError as err:
                verdict = "reject: " + str(err).splitlines()[0].split(": ", 2)[-1][:60]
                m = re.search(r"more than (\d+) instructions", str(err))
                processed = int(m.group(1)) if m else 0
            times.append(time.process_time() - start)
        ours = statistics.median(times)
        k = kernel_verdict(insns, ProgramType.SOCKET_FILTER, {}, log_level=4)
        log = "\n".join(k.log or [])
        k_us = _TIME.search(log)
        k_processed = _PROCESSED.search(log)
        rate = f"{processed / ours:,.0f}" if processed and ours else "-"
        print(f"| {label} | {verdict} | {ours:.2f} | {processed or '-'} | {rate} | "
              f"{k.verdict} | {int(k_us.group(1)) / 1e6 if k_us else 0:.2f} | "
              f"{k_processed.group(1) if k_processed else '-'} |")
    print(f"\npybpf: CPU time, median of {runs} runs (the whole verify() with its error "
          f"message); kernel: its log's verification time")


def main() -> None:
    import argparse

    from pybpf.btf.core import relocate_collection
    from pybpf.elf import load_collection_spec
    from pybpf.kernel.kernel_btf import KernelBTF
    global RUNS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--only", default="")
    parser.add_argument("--corpus", action="append", default=[])
    parser.add_argument("--max-insns", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--limits", action="store_true")
    args = parser.parse_args()
    RUNS = args.runs
    if args.limits:
        _limit_table(args.only)
        return
    if args.corpus:
        _corpus_tables(args.corpus, args.only, args.max_insns, args.timeout)
        return
    kbtf = KernelBTF()
    rows = []
    sources = []
    for obj in all_sources():
        try:
            sources.append((obj, load_collection_spec(build_object(obj))))
        except Exception:
            continue
    sources += _lang_specs()
    for obj, spec in sources:
        relocated = spec
        if any(p.core_relos for p in spec.programs.values()):
            relocated, _ = relocate_collection(spec, kbtf.spec)
        for name, prog in relocated.programs.items():
            if args.only not in f"{obj}/{name}":
                continue
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
    print("| program | insns | pybpf µs | pybpf insns processed | pybpf insns/s | pybpf states | "
          "kernel µs | kernel processed insns |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        k_us = "-" if r[5] is None else f"{r[5]:.0f}"
        rate = r[3] / (r[2] / 1e6) if r[2] else 0
        print(f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]} | {rate:,.0f} | {r[4]} | {k_us} | "
              f"{r[6]} |")
    total_ours = sum(r[2] for r in rows)
    total_kernel = sum(r[5] or 0 for r in rows)
    total_processed = sum(r[3] for r in rows)
    print(f"\n{len(rows)} programs; total pybpf {total_ours / 1e3:.1f} ms "
          f"({total_processed / (total_ours / 1e6):,.0f} processed insns/s), slowest "
          f"{max((r[2] for r in rows), default=0) / 1e3:.1f} ms; kernel "
          f"{total_kernel / 1e3:.1f} ms (medians of {RUNS} runs)")


if __name__ == "__main__":
    main()
