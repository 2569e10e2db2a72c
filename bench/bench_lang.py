"""pybpf.lang: compile time, and instructions emitted beside clang -O2 for the same program.

Run alone: ``.venv/bin/python bench/bench_lang.py``. Prints a markdown table: median of 5
compile times (ms, in-process, kernel BTF already parsed) and instruction counts (slots)
of pybpf and of clang -O2 -target bpf for the same program written in C.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

from pybpf.lang import compile_source

PROGRAMS = {
    "xdp counter": ('''
from pybpf.lang import *
counts = Array(u64, max_entries=1)
@bpf.xdp
def prog(ctx):
    counts.increment(0)
    return XDP_PASS
''', '''
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64);
         __uint(max_entries, 1); } counts SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
    __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k);
    if (v) __sync_fetch_and_add(v, 1);
    else { __u64 one = 1; bpf_map_update_elem(&counts, &k, &one, BPF_NOEXIST); }
    return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
'''),
    "exec counter (hash)": ('''
from pybpf.lang import *
counts = Hash(u32, u64, max_entries=1024)
@bpf.tracepoint("syscalls/sys_enter_execve")
def prog(ctx):
    pid = pid_tgid() >> 32
    counts[pid] = counts.get(pid, 0) + 1
    return 0
''', '''
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64);
         __uint(max_entries, 1024); } counts SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __u64 *v = bpf_map_lookup_elem(&counts, &pid);
    __u64 n = (v ? *v : 0) + 1;
    bpf_map_update_elem(&counts, &pid, &n, BPF_ANY);
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
'''),
    "exec events (ringbuf)": ('''
from pybpf.lang import *
class Event(struct):
    pid: u32
    comm: bytes16
events = RingBuf(max_entries=1 << 16)
@bpf.tracepoint("syscalls/sys_enter_execve")
def prog(ctx):
    ev = events.reserve(Event)
    if ev:
        ev.pid = pid_tgid() >> 32
        ev.comm = comm()
        events.submit(ev)
    return 0
''', '''
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct event { __u32 pid; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } events SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
    struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
    if (ev) {
        ev->pid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(ev->comm, sizeof(ev->comm));
        bpf_ringbuf_submit(ev, 0);
    }
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
'''),
    "loop + branches (xdp)": ('''
from pybpf.lang import *
class In(struct):
    a: u64
@bpf.xdp
def prog(ctx):
    data = ctx.data
    if data + 8 > ctx.data_end:
        return XDP_DROP
    p = cast(In, data)
    total = 0
    for i in range(16):
        if p.a & (1 << i):
            total += i
    return total
''', '''
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int prog(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data + 8 > end) return XDP_DROP;
    __u64 a = *(__u64 *)data; long total = 0;
    #pragma clang loop unroll(disable)
    for (int i = 0; i < 16; i++) if (a & (1ULL << i)) total += i;
    return total;
}
char LICENSE[] SEC("license") = "GPL";
'''),
}


def clang_insns(c_source: str) -> int | None:
    """Instruction slots of the program clang -O2 builds (None without clang)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = os.path.join(tmp, "p.bpf.c"), os.path.join(tmp, "p.bpf.o")
        with open(src, "w") as f:
            f.write(textwrap.dedent(c_source))
        try:
            subprocess.run(["clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3",
                            "-I/usr/include/x86_64-linux-gnu", "-c", src, "-o", obj],
                           check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as err:
            print(f"clang failed: {getattr(err, 'stderr', err)!r}", file=sys.stderr)
            return None
        from pybpf.elf import load_collection_spec
        spec = load_collection_spec(obj)
        return sum(i.slots for i in spec.programs["prog"].instructions)


def main() -> None:
    compile_source(PROGRAMS["xdp counter"][0])  # parse the kernel BTF once, outside timing
    print("| program | pybpf compile (ms, median of 5) | pybpf insns | clang -O2 insns | ratio |")
    print("|---|---|---|---|---|")
    for name, (py_src, c_src) in PROGRAMS.items():
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            compiled = compile_source(py_src, f"<{name}>")
            times.append((time.perf_counter() - t0) * 1000)
        ours = sum(i.slots for i in compiled.instructions())
        theirs = clang_insns(c_src)
        ratio = f"{ours / theirs:.2f}x" if theirs else "n/a"
        print(f"| {name} | {statistics.median(times):.2f} | {ours} | {theirs or 'n/a'} | "
              f"{ratio} |")


if __name__ == "__main__":
    main()
