"""pcap filters run in the pybpf VM's Python tier: one run at a time beside batches.

Runnable alone: ``.venv/bin/python bench/bench_filter_vm.py [--packets N] [--runs R]``.
Each expression is compiled (``compile_filter``), translated to eBPF (``to_ebpf``) and run
over the same frames (the test corpus of tests/cbpf, repeated), packets/s as the median of
R runs:

* one at a time: ``VMProgram.run(ctx, packet=frame)`` per packet (a fresh machine each);
* ``run_many``: the same runs as a batch on one reused machine;
* ``test_run_many``: the socket target in a tc classifier, and the XDP target, with the
  context a BPF_PROG_TEST_RUN would build for each packet;
* libpcap's ``bpf_filter`` on the same frames called through ctypes (when libpcap is
  here): the reference, ctypes' cost per call included.

Verdicts of every column are checked equal before timing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import FILTER_EXPRESSIONS, filter_frames, packets_and_runs  # noqa: E402

from pybpf import vm  # noqa: E402
from pybpf.cbpf import compile_filter, encode_program, to_ebpf  # noqa: E402
from pybpf.spec import ProgramType  # noqa: E402

EXPRESSIONS = FILTER_EXPRESSIONS
ACCEPT = {"socket": 262144, "xdp": 2}  # compile_filter's snap length; XDP_PASS


def rate(fn: Callable[[], object], count: int, runs: int) -> float:
    """Packets/s: ``count`` over the median time of ``runs`` calls of ``fn``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def libpcap_filter() -> Callable[[str, list[bytes]], Callable[[], list[int]]] | None:
    """bpf_filter from libpcap.so through ctypes, or None without libpcap."""
    name = ctypes.util.find_library("pcap")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.bpf_filter.restype = ctypes.c_uint
    lib.bpf_filter.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint,
                               ctypes.c_uint]

    def prepare(expression: str, frames: list[bytes]) -> Callable[[], list[int]]:
        code = encode_program(compile_filter(expression))  # struct bpf_insn, host order
        insns = ctypes.create_string_buffer(code, len(code))
        address = ctypes.addressof(insns)
        run = lib.bpf_filter

        def all_frames() -> list[int]:
            _keep = insns  # noqa: F841 - the program lives as long as this closure
            return [run(address, f, len(f), len(f)) for f in frames]
        return all_frames
    return prepare


def main(argv: list[str] | None = None) -> int:
    count, runs = packets_and_runs(argv, __doc__, packets=20_000, quick_packets=2_000)
    frames = filter_frames(count)
    one_count = min(count, 2_000)  # one run at a time is slow: time a slice
    libpcap = libpcap_filter()
    print(f"## pcap filters in the VM's Python tier ({count:,} packets; one at a time: "
          f"{one_count:,}; median of {runs}, packets/s)\n")
    print("| expression | one at a time: run() | run_many (raw, socket target) | "
          "test_run_many (tc, socket target) | test_run_many (XDP target) | "
          "libpcap bpf_filter via ctypes | run_many / one at a time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for expression in EXPRESSIONS:
        cbpf = compile_filter(expression)
        raw = vm.load(to_ebpf(cbpf), tier="python")
        tc = vm.load(to_ebpf(cbpf), type=ProgramType.SCHED_CLS, tier="python")
        xdp = vm.load(to_ebpf(cbpf, target="xdp"), type=ProgramType.XDP, tier="python")
        ctx = [struct.pack("<I", len(f)) + bytes(188) for f in frames[:one_count]]
        ctx0 = bytes(192)
        # the verdicts first: every path agrees (a length-free filter: ctx.len unused)
        want = [raw.run(c, packet=f).r0 for c, f in zip(ctx, frames[:one_count])]
        assert raw.run_many(frames[:one_count], ctx0) == want, expression
        assert tc.test_run_many(frames[:one_count]) == want, expression
        assert xdp.test_run_many(frames[:one_count]) == [
            ACCEPT["xdp"] if w else 1 for w in want], expression
        one = rate(lambda: [raw.run(c, packet=f) for c, f in zip(ctx, frames)], one_count,
                   runs)
        many = rate(lambda: raw.run_many(frames, ctx0), count, runs)
        skb = rate(lambda: tc.test_run_many(frames), count, runs)
        xdp_rate = rate(lambda: xdp.test_run_many(frames), count, runs)
        reference = "n/a"
        if libpcap is not None:
            run_all = libpcap(expression, frames)
            assert run_all()[:one_count] == want, expression
            reference = f"{rate(run_all, count, runs):,.0f}"
        print(f"| `{expression}` | {one:,.0f} | {many:,.0f} | {skb:,.0f} | {xdp_rate:,.0f} | "
              f"{reference} | {many / one:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
