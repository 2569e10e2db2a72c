"""Names a compiled function can call, and the helper prototypes they are checked against.

In Python these are stubs (calling one outside compiled code raises BPFError); in compiled
code :mod:`.codegen` turns each into BPF helper calls. :data:`HELPERS` lists the kernel
helpers used, by uapi id (``enum bpf_func_id`` in linux/bpf.h) with their argument kinds;
every call is checked against it at compile time (count and kind of arguments).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BPFError

__all__ = ["Helper", "HELPERS", "BUILTIN_NAMES",
           "pid_tgid", "pid", "tid", "uid_gid", "uid", "gid", "comm", "ktime_ns",
           "ktime_boot_ns", "smp_processor_id", "prandom", "cgroup_id", "current_task",
           "kernel_struct", "probe_read_kernel", "probe_read_user", "probe_read_kernel_str",
           "probe_read_user_str", "send_signal", "tail_call", "redirect", "skb_load_bytes",
           "skb_store_bytes", "xdp_adjust_head", "xdp_adjust_tail", "l3_csum_replace",
           "l4_csum_replace", "csum_diff", "cast", "sizeof", "addressof", "attach_cookie",
           "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
           "TC_ACT_OK", "TC_ACT_SHOT", "TC_ACT_REDIRECT", "BPF_ANY", "BPF_NOEXIST",
           "BPF_EXIST", "BPF_F_CURRENT_CPU", "BPF_F_USER_STACK"]


@dataclass(frozen=True)
class Helper:
    """A kernel helper: uapi ``id``, argument kinds, what it returns.

    Kinds: ``int`` (any integer), ``const`` (a compile-time integer), ``ptr`` (a pointer:
    stack, map value, packet, ring buffer record), ``addr`` (an integer or pointer naming
    unsafe memory for probe reads), ``map``, ``ctx``.
    """

    name: str
    id: int
    params: tuple[str, ...]
    returns: str = "s64"   # "s64", "u64", "u32", "ptr"


HELPERS: dict[str, Helper] = {h.name: h for h in [
    Helper("map_lookup_elem", 1, ("map", "ptr"), "ptr"),
    Helper("map_update_elem", 2, ("map", "ptr", "ptr", "int")),
    Helper("map_delete_elem", 3, ("map", "ptr")),
    Helper("ktime_get_ns", 5, (), "u64"),
    Helper("trace_printk", 6, ("ptr", "const", "int", "int", "int")),
    Helper("get_prandom_u32", 7, (), "u32"),
    Helper("get_smp_processor_id", 8, (), "u32"),
    Helper("skb_store_bytes", 9, ("ctx", "int", "ptr", "const", "int")),
    Helper("l3_csum_replace", 10, ("ctx", "int", "int", "int", "int")),
    Helper("l4_csum_replace", 11, ("ctx", "int", "int", "int", "int")),
    Helper("tail_call", 12, ("ctx", "map", "int")),
    Helper("get_current_pid_tgid", 14, (), "u64"),
    Helper("get_current_uid_gid", 15, (), "u64"),
    Helper("get_current_comm", 16, ("ptr", "const")),
    Helper("redirect", 23, ("int", "int")),
    Helper("perf_event_output", 25, ("ctx", "map", "int", "ptr", "const")),
    Helper("skb_load_bytes", 26, ("ctx", "int", "ptr", "const")),
    Helper("get_stackid", 27, ("ctx", "map", "int")),
    Helper("csum_diff", 28, ("ptr", "int", "ptr", "int", "int")),
    Helper("get_current_task", 35, (), "u64"),
    Helper("xdp_adjust_head", 44, ("ctx", "int")),
    Helper("xdp_adjust_tail", 65, ("ctx", "int")),
    Helper("get_current_cgroup_id", 80, (), "u64"),
    Helper("send_signal", 109, ("int",)),
    Helper("probe_read_user", 112, ("ptr", "const", "addr")),
    Helper("probe_read_kernel", 113, ("ptr", "const", "addr")),
    Helper("probe_read_user_str", 114, ("ptr", "const", "addr")),
    Helper("probe_read_kernel_str", 115, ("ptr", "const", "addr")),
    Helper("ktime_get_boot_ns", 125, (), "u64"),
    Helper("get_attach_cookie", 174, ("ctx",), "u64"),
    Helper("ringbuf_output", 130, ("map", "ptr", "const", "int")),
    Helper("ringbuf_reserve", 131, ("map", "const", "int"), "ptr"),
    Helper("ringbuf_submit", 132, ("ptr", "int"), "void"),
    Helper("ringbuf_discard", 133, ("ptr", "int"), "void"),
]}

XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = range(5)
TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT = 0, 2, 7
BPF_ANY, BPF_NOEXIST, BPF_EXIST = 0, 1, 2
BPF_F_CURRENT_CPU = 0xFFFFFFFF
BPF_F_USER_STACK = 1 << 8


def _stub(name: str, doc: str) -> Any:
    def stub(*args: Any, **kwargs: Any) -> Any:
        raise BPFError(f"{name}() only works inside a compiled BPF function")
    stub.__name__ = name
    stub.__doc__ = doc
    stub.__pybpf_builtin__ = name  # type: ignore[attr-defined]
    return stub


pid_tgid = _stub("pid_tgid", "u64: tgid << 32 | pid of the current task "
                             "(bpf_get_current_pid_tgid).")
pid = _stub("pid", "u32: the process id (tgid) of the current task.")
tid = _stub("tid", "u32: the thread id of the current task.")
uid_gid = _stub("uid_gid", "u64: gid << 32 | uid (bpf_get_current_uid_gid).")
uid = _stub("uid", "u32: the current uid.")
gid = _stub("gid", "u32: the current gid.")
comm = _stub("comm", "char[16]: the current task's command name (bpf_get_current_comm).")
ktime_ns = _stub("ktime_ns", "u64: CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns).")
ktime_boot_ns = _stub("ktime_boot_ns", "u64: CLOCK_BOOTTIME nanoseconds.")
smp_processor_id = _stub("smp_processor_id", "u32: the current CPU.")
prandom = _stub("prandom", "u32: a pseudo-random number.")
cgroup_id = _stub("cgroup_id", "u64: the current task's cgroup v2 id.")
current_task = _stub("current_task", "struct task_struct* (kernel pointer) of the current "
                                     "task; fields read with bpf_probe_read_kernel.")
kernel_struct = _stub("kernel_struct", "kernel_struct('name', addr): a kernel pointer to "
                                       "struct name at integer address addr.")
probe_read_kernel = _stub("probe_read_kernel", "probe_read_kernel(T, addr): a T read from "
                                               "kernel address addr (0 on fault).")
probe_read_user = _stub("probe_read_user", "probe_read_user(T, addr): a T read from user "
                                           "memory.")
probe_read_kernel_str = _stub("probe_read_kernel_str", "probe_read_kernel_str(N, addr): "
                                                       "char[N], NUL-terminated.")
probe_read_user_str = _stub("probe_read_user_str", "probe_read_user_str(N, addr): char[N] "
                                                   "from user memory.")
send_signal = _stub("send_signal", "send_signal(sig): signal the current process.")
tail_call = _stub("tail_call", "tail_call(ctx, prog_array, index): jump to another "
                               "program; falls through when the slot is empty.")
redirect = _stub("redirect", "redirect(ifindex, flags=0): XDP/tc redirect verdict.")
skb_load_bytes = _stub("skb_load_bytes", "skb_load_bytes(ctx, offset, dst): copy packet "
                                         "bytes into the local aggregate dst.")
skb_store_bytes = _stub("skb_store_bytes", "skb_store_bytes(ctx, offset, src, flags=0).")
xdp_adjust_head = _stub("xdp_adjust_head", "xdp_adjust_head(ctx, delta).")
xdp_adjust_tail = _stub("xdp_adjust_tail", "xdp_adjust_tail(ctx, delta).")
l3_csum_replace = _stub("l3_csum_replace", "l3_csum_replace(ctx, offset, old, new, "
                                           "size_or_flags).")
l4_csum_replace = _stub("l4_csum_replace", "l4_csum_replace(ctx, offset, old, new, flags).")
csum_diff = _stub("csum_diff", "csum_diff(from_ptr, from_size, to_ptr, to_size, seed).")
cast = _stub("cast", "cast(T, value): an integer conversion, or a pointer to T from a "
                     "pointer/address.")
sizeof = _stub("sizeof", "sizeof(T): the size of a type in bytes (a constant).")
attach_cookie = _stub("attach_cookie", "attach_cookie(ctx): u64 the attachment was given "
                                       "(bpf_get_attach_cookie; Linux 5.15).")
addressof = _stub("addressof", "addressof(local): a pointer to a local aggregate.")

BUILTIN_NAMES = {name for name in __all__ if name.islower() and name not in
                 ("helper", "helpers")}
