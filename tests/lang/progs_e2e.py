"""Programs the end-to-end tests compile (a module, so inspect finds their source)."""

from pybpf.lang import (
    XDP_PASS,
    Array,
    Const,
    Global,
    Hash,
    PerfEventArray,
    RingBuf,
    bpf,
    bytes16,
    comm,
    current_task,
    pid_tgid,
    struct,
    u32,
    u64,
)


class Event(struct):
    pid: u32
    ppid: u32
    comm: bytes16


events = RingBuf(max_entries=1 << 16)
exec_counts = Hash(u32, u64, max_entries=1024)
packets = Array(u64, max_entries=4)
total_bytes = Global(u64)


@bpf.tracepoint("syscalls/sys_enter_execve")
def on_exec(ctx):
    pid = pid_tgid() >> 32
    ev = events.reserve(Event)
    if ev:
        ev.pid = pid
        ev.ppid = current_task().real_parent.tgid
        ev.comm = comm()
        events.submit(ev)
    exec_counts[pid] = exec_counts.get(pid, 0) + 1
    return 0


def at_least(ctx, size):
    # the verifier lets a program compare packet pointers, not subtract data_end
    return ctx.data + size <= ctx.data_end


@bpf.xdp
def count_packets(ctx):
    global total_bytes
    if at_least(ctx, 100):
        packets.increment(1)
        total_bytes += 100
    else:
        packets.increment(0)
        total_bytes += 1
    return XDP_PASS


class TaggedEvent(struct):
    pid: u32
    tag: u32


tagged = RingBuf(max_entries=1 << 16)
tag = Const(u32, 0)          # set per load: each load stamps its events with its own tag
tag_counts = Hash(u32, u64, max_entries=64)   # tag -> execs seen by this load


@bpf.tracepoint("syscalls/sys_enter_execve")
def on_exec_tagged(ctx):
    ev = tagged.reserve(TaggedEvent)
    if ev:
        ev.pid = pid_tgid() >> 32
        ev.tag = tag
        tagged.submit(ev)
    tag_counts.increment(tag)
    return 0


class Sample(struct):
    length: u32
    stamp: u32


samples = PerfEventArray()
stamp = Const(u32, 0)


@bpf.xdp
def sample_packets(ctx):
    s = Sample()
    s.length = ctx.data_end - ctx.data
    s.stamp = stamp
    samples.output(ctx, s)
    return XDP_PASS
