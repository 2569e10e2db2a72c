"""Names a compiled function can call, and the helper prototypes they are checked against.

In Python these are stubs (calling one outside compiled code raises BPFError); in compiled
code :mod:`.codegen` turns each into BPF helper calls. :data:`HELPERS` gives each kernel
helper (by name, from the one helper table :mod:`pybpf.helpers`) in the terms the compiler
checks a call against (count and kind of arguments, result type).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from ..dataclass_compat import FrozenValue
from ..errors import BPFError

if TYPE_CHECKING:
    from ..helpers import HelperTable

__all__ = ["Helper", "HELPERS", "BUILTIN_NAMES", "HELPER_BUILTINS", "POINTER_BUILTINS",
           "pid_tgid", "pid", "tid", "uid_gid", "uid", "gid", "comm", "ktime_ns",
           "ktime_boot_ns", "smp_processor_id", "prandom", "cgroup_id", "current_task",
           "kernel_struct", "probe_read_kernel", "probe_read_user", "probe_read_kernel_str",
           "probe_read_user_str", "send_signal", "tail_call", "redirect", "skb_load_bytes",
           "skb_store_bytes", "xdp_adjust_head", "xdp_adjust_tail", "l3_csum_replace",
           "l4_csum_replace", "csum_diff", "cast", "sizeof", "addressof", "attach_cookie",
           "bpf_loop", "bpf_for", "seq_print", "seq_write",
           "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
           "TC_ACT_OK", "TC_ACT_SHOT", "TC_ACT_REDIRECT", "BPF_ANY", "BPF_NOEXIST",
           "BPF_EXIST", "BPF_F_CURRENT_CPU", "BPF_F_USER_STACK"]


class Helper(FrozenValue):
    """A kernel helper as the compiler checks a call: uapi ``id``, argument kinds, result.

    Kinds: ``int`` (any integer), ``const`` (a compile-time integer), ``ptr`` (a pointer:
    stack, map value, packet, ring buffer record), ``addr`` (an integer or pointer naming
    unsafe memory for probe reads), ``map``, ``ctx``.
    """

    name: str
    id: int
    params: tuple[str, ...]
    returns: str  # "s64", "u64", "u32", "ptr", "void"

    __match_args__ = ("name", "id", "params", "returns")

    def __init__(self, name: str, id: int, params: tuple[str, ...],
                       returns: str = "s64") -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "returns", returns)


_RETURNS = {"u64": "u64", "u32": "u32", "void": "void"}


def _table() -> HelperTable:
    # the helper table (~4 ms to import) is for compiling: a tool whose programs come from
    # the compile cache never loads it
    from ..helpers import helpers  # noqa: PLC0415

    return helpers()


@cache
def _kinds() -> dict[Any, str]:
    from ..helpers import ArgType  # noqa: PLC0415 - see _table

    return {ArgType.CONST_MAP_PTR: "map", ArgType.PTR_TO_CTX: "ctx",
            ArgType.CONST_ALLOC_SIZE_OR_ZERO: "const", ArgType.ANYTHING: "int",
            ArgType.SCALAR: "int", ArgType.CONST_SIZE: "int", ArgType.CONST_SIZE_OR_ZERO: "int"}


@cache
def _helper(name: str) -> Helper:
    h = _table().by_name(name)
    if h.proto is None:
        raise KeyError(name)
    params = []
    kinds = _kinds()
    for arg, pname in zip(h.proto.args, h.param_names + ("",) * 5):
        kind = kinds.get(arg.type, "ptr")
        if kind == "int" and pname == "unsafe_ptr":
            kind = "addr"  # an address the helper reads safely: integer or pointer
        params.append(kind)
    if h.variadic:  # bpf_trace_printk's values after the format
        params += ["int"] * (5 - len(params))
    returns = _RETURNS.get(h.c_return, "ptr" if h.c_return.endswith("*") else "s64")
    return Helper(h.name, h.id, tuple(params), returns)


class _Helpers(Mapping[str, Helper]):
    """Every helper of the table, by name without ``bpf_``, decoded on first use."""

    def __getitem__(self, name: str) -> Helper:
        return _helper(name)

    def __iter__(self) -> Iterator[str]:
        return (h.name for i, h in _table().items() if i and h.proto is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


HELPERS: Mapping[str, Helper] = _Helpers()

# builtins that are one helper call on their values: builtin -> helper
HELPER_BUILTINS = {"pid_tgid": "get_current_pid_tgid", "uid_gid": "get_current_uid_gid",
                   "ktime_ns": "ktime_get_ns", "ktime_boot_ns": "ktime_get_boot_ns",
                   "smp_processor_id": "get_smp_processor_id", "prandom": "get_prandom_u32",
                   "cgroup_id": "get_current_cgroup_id", "attach_cookie": "get_attach_cookie",
                   "send_signal": "send_signal"}
# builtins that are the helper of the same name, local aggregates passed by address
POINTER_BUILTINS = frozenset({"xdp_adjust_head", "xdp_adjust_tail", "l3_csum_replace",
                              "l4_csum_replace", "csum_diff"})

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
bpf_for = _stub("bpf_for", "for i in bpf_for(start, stop): an open-coded numeric iterator "
                           "(bpf_iter_num kfuncs, Linux 6.4; the kernel only): the verifier "
                           "checks the body once, whatever the bounds.")
seq_print = _stub("seq_print", "seq_print(ctx, ...): an iterator's output line, as print() "
                               "formats it (bpf_seq_printf).")
seq_write = _stub("seq_write", "seq_write(ctx, value): the bytes of a struct, array or "
                               "integer to an iterator's output (bpf_seq_write).")
bpf_loop = _stub("bpf_loop", "bpf_loop(n, fn, data=None): call fn(i) or fn(i, data) for i "
                             "in 0..n-1 (bpf_loop, Linux 5.17; up to 8M rounds); fn returns "
                             "1 to stop early. data, a local struct, is shared by reference; "
                             "the number of calls made comes back.")

BUILTIN_NAMES = {name for name in __all__ if name.islower() and name not in
                 ("helper", "helpers")}
