"""pybpf.lang: start-up to first event beside bpftrace, compile time, and instructions
emitted beside clang -O2 for the same program.

Run alone (as root): ``.venv/bin/python bench/bench_lang.py`` (``--no-startup``: only the
second table). Prints markdown tables:

1. start-up to first event of an execsnoop-like tool, median of 5: a fresh ``python``
   process that imports pybpf.lang, compiles, loads and attaches a sys_enter_execve program
   and prints the first ring buffer record of a ``/bin/true`` (the bench runs one every
   5 ms from launch), beside ``bpftrace -e`` with the equivalent one-liner, measured the
   same way; plus the tool's own phase times;
2. compile times (ms, in-process, kernel BTF already parsed) and instruction counts (slots)
   of pybpf and of clang -O2 -target bpf for the same program written in C.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
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
/* pybpf.lang counts the records it could not reserve: the same here */
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, __u64);
         __uint(max_entries, 1); } events_drops SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
    struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
    if (!ev) {
        __u32 zero = 0; __u64 *n = bpf_map_lookup_elem(&events_drops, &zero);
        if (n) __sync_fetch_and_add(n, 1);
    }
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
    "subprogram + map parameter": ("""
from pybpf.lang import *
counts = Hash(u32, u64, max_entries=1024)
def bump(m, k):
    m[k] += 1
@bpf.tracepoint("syscalls/sys_enter_execve")
def prog(ctx):
    bump(counts, pid_tgid() >> 32)
    return 0
""", """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64);
         __uint(max_entries, 1024); } counts SEC(".maps");
static __noinline int bump(__u32 k) {
    __u64 *v = bpf_map_lookup_elem(&counts, &k);
    if (v) __sync_fetch_and_add(v, 1);
    else { __u64 one = 1; bpf_map_update_elem(&counts, &k, &one, BPF_NOEXIST); }
    return 0;
}
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
    bump(bpf_get_current_pid_tgid() >> 32);
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
"""),
    "tuple key + comm() == b'bash'": ("""
from pybpf.lang import *
counts = Hash((u32, bytes16), u64, max_entries=1024)
@bpf.tracepoint("syscalls/sys_enter_execve")
def prog(ctx):
    c = comm()
    if c == b"bash":
        return 0
    counts[pid_tgid() >> 32, c] += 1
    return 0
""", """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct key { __u32 pid; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct key); __type(value, __u64);
         __uint(max_entries, 1024); } counts SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
    struct key k = {};
    bpf_get_current_comm(k.comm, sizeof(k.comm));
    if (__builtin_memcmp(k.comm, "bash", 5) == 0) return 0;
    k.pid = bpf_get_current_pid_tgid() >> 32;
    __u64 *v = bpf_map_lookup_elem(&counts, &k);
    if (v) __sync_fetch_and_add(v, 1);
    else { __u64 one = 1; bpf_map_update_elem(&counts, &k, &one, BPF_NOEXIST); }
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
"""),
    "variable index into a map array": ("""
from pybpf.lang import *
class Slots(struct):
    vals: u64[16]
slots = Array(Slots, max_entries=1)
@bpf.xdp
def prog(ctx):
    i = (ctx.data_end - ctx.data) & 31
    s = slots.lookup(0)
    if s:
        s.vals[i] += 1
    return XDP_PASS
""", """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct slots { __u64 vals[16]; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct slots);
         __uint(max_entries, 1); } slots SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
    __u32 i = (ctx->data_end - ctx->data) & 31, zero = 0;
    struct slots *s = bpf_map_lookup_elem(&slots, &zero);
    if (s && i < 16) s->vals[i] += 1;
    return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"""),
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


EXECSNOOP_TOOL = '''
import sys, time
t0 = time.perf_counter()
from pybpf.lang import RingBuf, bpf, bytes16, comm, pid_tgid, probe_read_user_str, string, \\
    struct, u32
t_import = time.perf_counter()

class Event(struct):
    pid: u32
    comm: bytes16
    filename: string(32)

events = RingBuf(max_entries=1 << 16)

@bpf.tracepoint("syscalls/sys_enter_execve")
def on_exec(ctx):
    ev = events.reserve(Event)
    if ev:
        ev.pid = pid_tgid() >> 32
        ev.comm = comm()
        ev.filename = probe_read_user_str(32, ctx.filename)
        events.submit(ev)
    return 0

compiled = bpf.compile(on_exec)
t_compile = time.perf_counter()
coll = compiled.load()
t_load = time.perf_counter()
coll.attach()
t_attach = time.perf_counter()
found = []
def seen(ev):
    if ev.filename.startswith(b"/bin/true") and not found:
        found.append(time.perf_counter())
        print(f"{ev.pid} {ev.filename.decode()}", flush=True)
reader = coll.ring_reader(events, seen, Event)
while not found:
    reader.poll(50)
ms = lambda a, b: (b - a) * 1000
print(f"phases {ms(t0, t_import):.1f} {ms(t_import, t_compile):.1f} {ms(t_compile, t_load):.1f} "
      f"{ms(t_load, t_attach):.1f} {ms(t_attach, found[0]):.1f}", flush=True)
coll.close()
'''

BPFTRACE_ONE_LINER = ('tracepoint:syscalls:sys_enter_execve { printf("%d %s\\n", pid, '
                      'str(args->filename)); }')


def time_to_first_event(argv: list[str], env: dict[str, str] | None = None
                        ) -> tuple[float, list[str]]:
    """Milliseconds from launching ``argv`` until it prints a line naming /bin/true, while
    /bin/true runs every 5 ms; and the lines it printed after that one."""
    stop = threading.Event()

    def spawn_true() -> None:
        while not stop.is_set():
            subprocess.run(["/bin/true"])
            stop.wait(0.005)

    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    spawner = threading.Thread(target=spawn_true)
    spawner.start()
    elapsed = float("nan")
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "/bin/true" in line:
                elapsed = (time.perf_counter() - t0) * 1000
                break
    finally:
        stop.set()
        spawner.join()
    try:
        rest, _ = proc.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        proc.terminate()
        rest, _ = proc.communicate()
    return elapsed, rest.splitlines()


def startup_table() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tool = os.path.join(tmp, "execsnoop_bench.py")
        with open(tool, "w") as f:
            f.write(EXECSNOOP_TOOL)
        # an installed pybpf has its bytecode cached: cache it (outside the tree) and warm
        # it up once, so the runs measure start-up rather than compiling .py to .pyc
        env = dict(os.environ, PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        time_to_first_event([sys.executable, tool], env)
        ours, phases = [], []
        for _ in range(5):
            ms, rest = time_to_first_event([sys.executable, tool], env)
            ours.append(ms)
            phases += [[float(x) for x in ln.split()[1:]] for ln in rest
                       if ln.startswith("phases")]
    theirs = []
    for _ in range(5):
        try:
            theirs.append(time_to_first_event(["bpftrace", "-e", BPFTRACE_ONE_LINER])[0])
        except OSError:
            break
    print("| start-up to first event (execsnoop-like) | median ms of 5 |")
    print("|---|---|")
    print(f"| pybpf.lang (python start, import, compile, load, attach, first record) | "
          f"{statistics.median(ours):.0f} |")
    print(f"| bpftrace one-liner | {statistics.median(theirs):.0f} |" if theirs else
          "| bpftrace one-liner | not installed |")
    if phases:
        cols = [statistics.median(p[i] for p in phases) for i in range(5)]
        print()
        print("| pybpf phase (median ms) | import | compile | load | attach | first record |")
        print("|---|---|---|---|---|---|")
        print("| | " + " | ".join(f"{c:.1f}" for c in cols) + " |")
    print()


def main() -> None:
    if os.geteuid() == 0 and "--no-startup" not in sys.argv:
        startup_table()
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
