"""Programs the object-file tests compile (a module, so inspect finds their source)."""

from pybpf.lang import Array, Const, Global, Hash, bpf, current_task, u32, u64

execs_by_parent = Hash(u32, u64, max_entries=10240)
exec_total = Global(u64)
step = Const(u64, 1)
slots = Array(u64, max_entries=2)


@bpf.tracepoint("syscalls/sys_enter_execve")
def count_execs_by_parent(ctx):
    global exec_total
    ppid = current_task().real_parent.tgid
    execs_by_parent.increment(ppid)
    exec_total += step
    return 0


@bpf.xdp
def xdp_count(ctx):
    slots.increment(0)
    return 2
