"""pcap filters in the VM's llvm tier beside libpcap's ``bpf_filter``, nanoseconds per packet.

Runnable alone: ``.venv/bin/python bench/bench_vm_filter_llvm.py [--packets N] [--runs R]``.
Each expression is compiled by pybpf (``compile_filter``), translated to eBPF (``to_ebpf``)
and run in the llvm tier over the same frames (the test corpus of tests/cbpf, repeated):

* ``run_packets``: one native call runs the whole batch (:mod:`pybpf.vm.llvmtier`), each
  packet a fresh run (packet swapped in, memory copied back, stack zeroed);
* one at a time: ``VMProgram.run(ctx, packet=frame)`` per packet, for scale;
* libpcap: a C program built here at bench time (gcc, linked against the libpcap.so that
  tcpdump brings; prototypes declared in it, so libpcap-dev is not needed) compiles the
  expression with ``pcap_compile`` (optimised, Ethernet) and calls ``bpf_filter`` on every
  packet held in memory; the same C loop also runs pybpf's own cBPF program, so the last
  columns compare the engines on one program.

Medians of R runs, in the CPU time of the running thread on both sides (the machine may be
shared: wall time would count other programs' turns). Verdicts are checked equal between the llvm tier and libpcap first.
"""

from __future__ import annotations

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

from benchlib import FILTER_EXPRESSIONS, filter_frames, packets_and_runs  # noqa: E402

from pybpf import vm  # noqa: E402
from pybpf.cbpf import compile_filter, encode_program, to_ebpf  # noqa: E402

EXPRESSIONS = FILTER_EXPRESSIONS

# argv: packets file (u32 length, bytes; repeated), runs, expression or "-" and a program
# file (struct bpf_insn[]). Prints the median ns per packet and the accepted count.
C_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
struct bpf_insn { unsigned short code; unsigned char jt, jf; unsigned int k; };
struct bpf_program { unsigned int bf_len; struct bpf_insn *bf_insns; };
void *pcap_open_dead(int linktype, int snaplen);
int pcap_compile(void *p, struct bpf_program *fp, const char *str, int optimize,
                 unsigned int netmask);
char *pcap_geterr(void *p);
unsigned int bpf_filter(const struct bpf_insn *pc, const unsigned char *p,
                        unsigned int wirelen, unsigned int buflen);

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
    unsigned char *blob = malloc(size);
    if (fread(blob, 1, size, f) != (size_t)size) return 2;
    long count = 0;
    for (long at = 0; at < size; count++) at += 4 + *(unsigned int *)(blob + at);
    const unsigned char **pkt = malloc(count * sizeof *pkt);
    unsigned int *len = malloc(count * sizeof *len);
    for (long at = 0, i = 0; at < size; i++) {
        len[i] = *(unsigned int *)(blob + at); pkt[i] = blob + at + 4; at += 4 + len[i];
    }
    struct bpf_program prog;
    if (strcmp(argv[3], "-") != 0) {
        void *dead = pcap_open_dead(1 /* DLT_EN10MB */, 262144);
        if (pcap_compile(dead, &prog, argv[3], 1, 0xffffffff) != 0) {
            fprintf(stderr, "%s\n", pcap_geterr(dead)); return 1;
        }
    } else {
        FILE *pf = fopen(argv[4], "rb");
        fseek(pf, 0, SEEK_END); long psize = ftell(pf); fseek(pf, 0, SEEK_SET);
        prog.bf_insns = malloc(psize); prog.bf_len = psize / 8;
        if (fread(prog.bf_insns, 1, psize, pf) != (size_t)psize) return 2;
    }
    int runs = atoi(argv[2]);
    double *ns = malloc(runs * sizeof *ns);
    long accepted = 0;
    for (int r = 0; r < runs; r++) {
        struct timespec t0, t1;
        accepted = 0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (long i = 0; i < count; i++)
            accepted += bpf_filter(prog.bf_insns, pkt[i], len[i], len[i]) != 0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        ns[r] = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / count;
    }
    qsort(ns, runs, sizeof *ns, cmp);
    printf("%.2f %ld\n", ns[runs / 2], accepted);
    return 0;
}
"""


class LibpcapLoop:
    """The C reference, built in ``workdir``; None when gcc or libpcap is missing."""

    def __init__(self, workdir: Path, frames: list[bytes]):
        self.exe = workdir / "pcap_loop"
        self.packets = workdir / "packets.bin"
        self.packets.write_bytes(b"".join(struct.pack("<I", len(f)) + f for f in frames))
        self.workdir = workdir

    @classmethod
    def build(cls, workdir: Path, frames: list[bytes]) -> LibpcapLoop | None:
        gcc = shutil.which("gcc") or shutil.which("cc")
        library = _libpcap_path()
        if gcc is None or library is None:
            return None
        loop = cls(workdir, frames)
        source = workdir / "pcap_loop.c"
        source.write_text(C_SOURCE)
        subprocess.run([gcc, "-O2", str(source), "-o", str(loop.exe), library], check=True)
        return loop

    def run(self, runs: int, expression: str | None = None, program: bytes = b""
            ) -> tuple[float, int]:
        """(median ns per packet, accepted packets) for ``expression`` compiled by
        libpcap, or for the cBPF ``program`` given."""
        args = [str(self.exe), str(self.packets), str(runs)]
        if expression is not None:
            args.append(expression)
        else:
            code = self.workdir / "program.bin"
            code.write_bytes(program)
            args += ["-", str(code)]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
        return float(out[0]), int(out[1])


def _libpcap_path() -> str | None:
    """The libpcap shared object to link against (the .so symlink needs libpcap-dev)."""
    name = ctypes.util.find_library("pcap")
    if name is None:
        return None
    for directory in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib",
                      "/lib/x86_64-linux-gnu"):
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return None


def median_ns(fn, count: int, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.thread_time_ns()
        fn()
        times.append(time.thread_time_ns() - start)
    return statistics.median(times) / count


def main(argv: list[str] | None = None) -> int:
    from pybpf.vm.llvmtier import PacketBatch, available, run_packets

    count, runs = packets_and_runs(argv, __doc__, packets=100_000, quick_packets=10_000)
    if not available():
        print("the llvm tier needs llvmlite (the jit extra)")
        return 1
    frames = filter_frames(count)
    batch = PacketBatch(frames)
    one_count = min(count, 2_000)
    ctx = bytes(192)  # a raw __sk_buff, len 0: the expressions here do not read it
    with tempfile.TemporaryDirectory() as tmp:
        libpcap = LibpcapLoop.build(Path(tmp), frames)
        print(f"## pcap filters: the VM's llvm tier beside libpcap's bpf_filter ({count:,} "
              f"packets, median of {runs}, ns per packet)\n")
        print("| expression | llvm run_packets | llvm run() one at a time | libpcap "
              "bpf_filter (C, libpcap's program) | llvm / libpcap | libpcap bpf_filter on "
              "pybpf's program | llvm / that |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for expression in EXPRESSIONS:
            cbpf = compile_filter(expression)
            prog = vm.load(to_ebpf(cbpf), tier="llvm")
            verdicts = run_packets(prog, batch, ctx)
            accepted = sum(1 for v in verdicts if v)
            ours = median_ns(lambda: run_packets(prog, batch, ctx), count, runs)
            one = median_ns(lambda: [prog.run(ctx, packet=f) for f in frames[:one_count]],
                            one_count, runs)
            cells = ["n/a (gcc or libpcap missing)", "n/a", "n/a", "n/a"]
            if libpcap is not None:
                theirs, their_accepted = libpcap.run(runs, expression)
                same, same_accepted = libpcap.run(runs, program=encode_program(cbpf))
                assert accepted == their_accepted == same_accepted, (
                    f"{expression}: llvm accepts {accepted}, libpcap {their_accepted}, "
                    f"libpcap on our program {same_accepted}")
                cells = [f"{theirs:.1f}", f"{ours / theirs:.2f}x", f"{same:.1f}",
                         f"{ours / same:.2f}x"]
            print(f"| `{expression}` | {ours:.1f} | {one:,.0f} | {' | '.join(cells)} |")
    print("\nrun_packets includes its per-call set-up (a machine, the result list); the "
          "packets are packed once (PacketBatch), as the C loop holds them in memory.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
