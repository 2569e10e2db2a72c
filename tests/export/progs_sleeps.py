"""A pybpf.lang module for the export tests: execs counted by command name, and the time
each clock_nanosleep took, as a log2 histogram per command name (nanoseconds)."""

from pybpf.lang import BPF_NOEXIST, Hash, bpf, bytes16, comm, ktime_ns, pid_tgid, struct, u64
from pybpf.tools.histkit import log2_slot


class SleepKey(struct):
    comm: bytes16
    slot: u64


execs = Hash(bytes16, u64, max_entries=1024)
slept_at = Hash(u64, u64, max_entries=10240)
sleeps = Hash(SleepKey, u64, max_entries=4096)


@bpf.tracepoint("sched/sched_process_exec")
def pxt_exec(ctx):
    name = comm()
    seen = execs.lookup(name)
    if seen:
        seen[0] += 1
    else:
        execs.update(name, 1, BPF_NOEXIST)
    return 0


@bpf.tracepoint("syscalls/sys_enter_clock_nanosleep")
def pxt_sleep_enter(ctx):
    slept_at[pid_tgid()] = ktime_ns()
    return 0


@bpf.tracepoint("syscalls/sys_exit_clock_nanosleep")
def pxt_sleep_exit(ctx):
    tid = pid_tgid()
    start = slept_at.lookup(tid)
    if not start:
        return 0
    delta = ktime_ns() - start[0]
    slept_at.delete(tid)
    key = SleepKey()
    key.comm = comm()
    key.slot = log2_slot(delta)
    seen = sleeps.lookup(key)
    if seen:
        seen[0] += 1
    else:
        sleeps.update(key, 1, BPF_NOEXIST)
    return 0
