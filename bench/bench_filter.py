"""pcap-filter compile time and filtering speed beside libpcap (tcpdump).

Runnable alone: ``.venv/bin/python bench/bench_filter.py [PACKETS] [--runs N] [--quick]
[--compile-only]``.
Medians of 5 runs.

* compile (CPU time of this process): our ``compile_filter`` per expression (optimised, and with ``optimize=False``,
  both uncached; and a call its cache answers) beside libpcap's ``pcap_compile`` called in-process through ctypes (libpcap.so, which
  tcpdump brings), and the program lengths beside libpcap's optimised ones; the mean
  length ratio over the test corpora (tests/cbpf) closes the table;
* filter: packets/s of the compiled filter over the same pcap (default 100k packets) in
  our cBPF interpreter (a program run many times runs as its Python translation),
  translated to eBPF in the pybpf VM, and libpcap's ``bpf_filter``
  via ``tcpdump -r FILE -w /dev/null EXPR`` (minus a run with an empty filter, so file
  reading and start-up are taken out).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import FILTER_EXPRESSIONS  # noqa: E402

from pybpf import vm  # noqa: E402
from pybpf.cbpf import FilterProgram, compile_filter, to_ebpf  # noqa: E402
from pybpf.pcap import PcapPacket, write_pcap  # noqa: E402
from tests.cbpf.packets import build_packets  # noqa: E402

RUNS = 5
EXPRESSIONS = FILTER_EXPRESSIONS
TCPDUMP = shutil.which("tcpdump")


def median_time(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


def libpcap_compiler():  # type: ignore[no-untyped-def]
    """pcap_compile on a dead Ethernet handle: expression -> program length (None: no
    libpcap here)."""
    name = ctypes.util.find_library("pcap")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_BpfProgram),
                                 ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32]
    lib.pcap_freecode.argtypes = [ctypes.POINTER(_BpfProgram)]
    handle = lib.pcap_open_dead(1, 262144)

    def compile_one(expression: str) -> int:
        program = _BpfProgram()
        if lib.pcap_compile(handle, ctypes.byref(program), expression.encode(), 1,
                            0xFFFFFFFF) != 0:
            return 0
        length = program.bf_len
        lib.pcap_freecode(ctypes.byref(program))
        return int(length)
    return compile_one


def repeat_time(fn, times: int = 50) -> float:  # type: ignore[no-untyped-def]
    """Median over RUNS of the mean CPU time of ``times`` calls (this process's CPU time:
    what other work on the machine takes of the core does not count, as wall time would)."""
    runs = []
    for _ in range(RUNS):
        start = time.process_time()
        for _ in range(times):
            fn()
        runs.append(time.process_time() - start)
    return statistics.median(runs) / times


def tcpdump(*args: str) -> None:
    assert TCPDUMP is not None
    subprocess.run([TCPDUMP, *args], capture_output=True, check=True)


def main() -> None:
    global RUNS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packets", nargs="?", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per median (5)")
    parser.add_argument("--quick", action="store_true", help="10k packets, 3 runs")
    parser.add_argument("--compile-only", action="store_true",
                        help="the compile table alone (no filtering)")
    args = parser.parse_args()
    RUNS = 3 if args.quick else args.runs
    count = 10_000 if args.quick else args.packets
    frames = [(d, w) for _, d, w in build_packets() if len(d) == w and d]
    packets = [frames[i % len(frames)] for i in range(count)]
    pcap_compile = libpcap_compiler()
    print(f"## compile (median of {RUNS}, CPU microseconds per expression; instructions)\n")
    print("Uncached: each call compiles (`cache=False`); cached: compile_filter's memory of "
          "its last 64 programs.\n")
    print("| expression | compile_filter | optimize=False | cached | libpcap pcap_compile | "
          "ratio (optimised / unoptimised) | length: ours / libpcap |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for expression in EXPRESSIONS:
        ours = repeat_time(lambda: compile_filter(expression, cache=False), 20)
        plain = repeat_time(lambda: compile_filter(expression, optimize=False, cache=False),
                            20)
        cached = repeat_time(lambda: compile_filter(expression), 200)
        if pcap_compile is None:
            theirs_text, ratio, lengths = "n/a", "n/a", f"{len(compile_filter(expression))}"
        else:
            theirs = repeat_time(lambda: pcap_compile(expression), 200)
            theirs_text = f"{theirs * 1e6:.1f}"
            ratio = f"{ours / theirs:.0f}x / {plain / theirs:.0f}x"
            lengths = f"{len(compile_filter(expression))} / {pcap_compile(expression)}"
        print(f"| `{expression}` | {ours * 1e6:,.0f} | {plain * 1e6:,.0f} | "
              f"{cached * 1e6:.1f} | {theirs_text} | {ratio} | {lengths} |")
    if pcap_compile is not None:
        from tests.cbpf.expressions import EXPRESSIONS as CORPUS
        from tests.cbpf.linktypes import LANGUAGE
        ratios, plain_ratios, chainless = [], [], []
        for expression in CORPUS + LANGUAGE:
            theirs_len = pcap_compile(expression)
            if not theirs_len:
                continue  # refused, or proven to reject everything
            try:
                ratios.append(len(compile_filter(expression)) / theirs_len)
                plain_ratios.append(len(compile_filter(expression, optimize=False))
                                    / theirs_len)
            except Exception:  # noqa: BLE001 - refused by us: not in the mean
                continue
            if "protochain" not in expression:
                chainless.append(ratios[-1])
        print(f"\nMean program length over {len(ratios)} corpus expressions, relative to "
              f"libpcap's optimised program: optimised {statistics.mean(ratios):.2f}x, "
              f"unoptimised {statistics.mean(plain_ratios):.2f}x; without the "
              f"{len(ratios) - len(chainless)} protochain expressions (libpcap's loop jumps "
              f"backwards, which the kernel refuses; ours is unrolled) "
              f"{statistics.mean(chainless):.2f}x.")

    if args.compile_only:
        return
    print(f"\n## filter {count} packets (median of {RUNS}, packets/s)\n")
    print("| expression | pybpf cBPF interpreter | pybpf VM (to_ebpf) | libpcap: whole tcpdump -r |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        pcap = Path(tmp) / "bench.pcap"
        write_pcap(pcap, (PcapPacket(d, w, i) for i, (d, w) in enumerate(packets)))
        baseline = (median_time(lambda: tcpdump("-r", str(pcap), "-w", "/dev/null"))
                    if TCPDUMP else None)
        vm_count = min(count, 10_000)  # the VM is slower: time a slice, report the rate
        for expression in EXPRESSIONS:
            program = compile_filter(expression)
            interp = FilterProgram(program)
            ebpf = vm.load(to_ebpf(program))
            contexts = [struct.pack("<I", w) + bytes(188) for _, w in packets[:vm_count]]

            def run_interp() -> None:
                for data, wirelen in packets:
                    interp.run(data, wirelen)

            def run_vm() -> None:
                for (data, _), ctx in zip(packets, contexts):
                    ebpf.run(ctx, packet=data)
            t_interp = median_time(run_interp)
            t_vm = median_time(run_vm)
            libpcap = "n/a"
            if TCPDUMP and baseline is not None:
                t_lib = median_time(lambda: tcpdump("-r", str(pcap), "-w", "/dev/null", "--",
                                                    expression))
                net = t_lib - baseline
                # whole tcpdump -r run; the filter alone when it rises above the noise
                alone = f"{count / net:,.0f}" if net > 0.05 * baseline else "below noise"
                libpcap = f"{count / t_lib:,.0f} (filter alone: {alone})"
            print(f"| `{expression}` | {count / t_interp:,.0f} | {vm_count / t_vm:,.0f} | "
                  f"{libpcap} |")


if __name__ == "__main__":
    main()
