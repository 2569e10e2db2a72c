"""Write eBPF programs in Python: a compiler from a restricted Python to eBPF, in-process.

::

    from pybpf.lang import bpf, u32, u64, RingBuf, Hash, pid_tgid, comm, struct, bytes16

    class Event(struct):
        pid: u32
        comm: bytes16

    events = RingBuf(max_entries=1 << 16)
    counts = Hash(u32, u64, max_entries=1024)

    @bpf.tracepoint("syscalls/sys_enter_execve")
    def on_exec(ctx):
        pid = pid_tgid() >> 32
        ev = events.reserve(Event)
        if ev:
            ev.pid = pid
            ev.comm = comm()
            events.submit(ev)
        counts.increment(pid)          # or counts[pid] += 1
        return 0

    prog = bpf.compile(on_exec)        # CompiledCollection: a CollectionSpec + decoders
    with prog.load() as coll:          # live in the kernel (or backend="vm"), its own maps
        coll.attach()
        with coll.ring_reader(events, print, Event):   # owned by coll, closed with it
            ...
        for pid, n in coll.maps[counts].items(): print(pid, n)   # typed view of the map

**Programs**: ``bpf.tracepoint("cat/name")`` (``ctx`` fields from tracefs, or ``ctx=Struct``
offline), ``bpf.raw_tracepoint``, ``bpf.tp_btf`` (``ctx.arg0``..), ``bpf.uprobe`` /
``bpf.uretprobe`` (``ctx.arg1``..``arg6``, ``ctx.ret``), ``bpf.usdt`` (arguments with
:func:`.usdt.usdt_arg`), ``bpf.iter("task")``, ``bpf.perf_event``, ``bpf.xdp``,
``bpf.tc``, ``bpf.socket_filter``, ``bpf.cgroup_skb``, ``bpf.cgroup_sock_addr``;
``bpf.kprobe``/``fentry``/``lsm`` compile (loading says when the kernel lacks them).

**Types** (:mod:`.types`): ``u8``..``u64``, ``s8``..``s64`` with C semantics (casts
``u8(x)``, C's conversions, signed ``sdiv``/``smod``/``arsh``; division by zero gives 0),
``bool_``, arrays ``u32[4]``, strings ``bytes16``/``string(N)``, ``struct`` classes,
``ptr(T)``; kernel structs from BTF through ``current_task()`` and
``kernel_struct("name", addr)`` (fields read with bpf_probe_read_kernel).

**Statements**: assignment (``x: u32 = 0`` to fix a type), augmented assignment,
if/elif/else, ``while`` (must be able to end), ``for i in range(...)`` (constant or
run-time bounds), ``with value.lock:``,
break/continue, return. A plain function a program calls is a BPF-to-BPF subprogram
(compiled once per map/constant it is given; structs go by reference), ``@bpf.inline``
inlines it, ``@bpf.global_function`` has the kernel verify it on its own. Module-level ints are
constants; ``Const(u32, 0)`` is ``.rodata``, set per load (``prog.load(constants={decl:
5})``, on a copy of the spec: two loads can differ); ``Global(u64)`` is ``.data``/``.bss``
(``coll.variables[decl]`` reads it after load).

**Maps** (:mod:`.maps`), used as dicts (``m[k] += 1``, ``del m[k]``, ``k in m``,
``m.get(k, d)``, ``m.setdefault(k, v)``; tuple keys and values ``m[pid(), comm()]``): Hash,
LRUHash, PerCPUHash, Array, PerCPUArray, ArrayOfMaps/HashOfMaps, RingBuf,
PerfEventArray, StackTrace, ProgArray, Log2Hist/LinearHist (``hist.log2_increment(v)``,
``coll.maps[hist].print_log2_hist()``; the text is BCC's, from :func:`.hist.format_log2_hist` and
:func:`.hist.format_linear_hist`, which also take plain lists of counts).

**Helpers** (:mod:`.builtins`): pid/tid/pid_tgid, uid/gid, comm, ktime_ns, probe reads,
``print`` (bpf_trace_printk, bpf_trace_vprintk past three values), send_signal,
``tail_call(ctx, program)``, ``bpf_loop(n, fn, data)``, ``for i in bpf_for(a, b)``,
redirect, skb/xdp helpers, csum, ``seq_print``/``seq_write`` (``bpf.iter``), USDT
arguments (:mod:`.usdt`); checked against prototypes at compile time. Byte strings compare
as C strings (``comm() == b"bash"``, ``name.startswith(b"/tmp/")``); arrays take run-time
indexes (bounds-checked); ``SpinLock`` and ``Timer`` map-value fields. The whole language,
with examples that run: docs/lang.md.

Errors: :class:`CompileError` (file, line, column); a verifier rejection at load is a
:class:`~pybpf.errors.VerifierError` whose ``source_line`` is the Python line.
"""

import typing as _typing

from . import markers as _markers
from . import programs as _programs
from .builtins import (
    BPF_ANY,
    BPF_EXIST,
    BPF_F_CURRENT_CPU,
    BPF_F_USER_STACK,
    BPF_NOEXIST,
    TC_ACT_OK,
    TC_ACT_REDIRECT,
    TC_ACT_SHOT,
    XDP_ABORTED,
    XDP_DROP,
    XDP_PASS,
    XDP_REDIRECT,
    XDP_TX,
    addressof,
    attach_cookie,
    bpf_for,
    bpf_loop,
    cast,
    cgroup_id,
    comm,
    csum_diff,
    current_task,
    gid,
    kernel_struct,
    ktime_boot_ns,
    ktime_ns,
    l3_csum_replace,
    l4_csum_replace,
    pid,
    pid_tgid,
    prandom,
    probe_read_kernel,
    probe_read_kernel_str,
    probe_read_user,
    probe_read_user_str,
    redirect,
    send_signal,
    seq_print,
    seq_write,
    sizeof,
    skb_load_bytes,
    skb_store_bytes,
    smp_processor_id,
    tail_call,
    tid,
    uid,
    uid_gid,
    xdp_adjust_head,
    xdp_adjust_tail,
)
from .compiler import CompiledCollection, CompiledProgram, compile, compile_source
from .contexts import KernelTypes
from .errors import CompileError, SourceLocation
from .loaded import LoadedCollection
from .maps import (
    Array,
    ArrayOfMaps,
    Hash,
    HashOfMaps,
    LinearHist,
    Log2Hist,
    LRUHash,
    LRUPerCPUHash,
    PerCPUArray,
    PerCPUHash,
    PerfEventArray,
    ProgArray,
    RingBuf,
    StackTrace,
)
from .programs import ProgramDecl
from .types import SpinLock, Timer, struct

if _typing.TYPE_CHECKING:
    # to a type checker a scalar type is an int, a byte string bytes, and a Const or Global
    # the value it holds (see ._hints)
    from ._hints import (
        Const,
        Global,
        array,
        bool_,
        bytes16,
        bytes32,
        bytes64,
        bytes128,
        bytes256,
        char,
        ptr,
        s8,
        s16,
        s32,
        s64,
        string,
        u8,
        u16,
        u32,
        u64,
    )
else:
    from .maps import Const, Global
    from .types import (
        array,
        bool_,
        bytes16,
        bytes32,
        bytes64,
        bytes128,
        bytes256,
        char,
        ptr,
        s8,
        s16,
        s32,
        s64,
        string,
        u8,
        u16,
        u32,
        u64,
    )


class _BPF:
    """The ``bpf`` namespace: program decorators and ``compile``."""

    tracepoint = staticmethod(_programs.tracepoint)
    raw_tracepoint = staticmethod(_programs.raw_tracepoint)
    tp_btf = staticmethod(_programs.tp_btf)
    uprobe = staticmethod(_programs.uprobe)
    uretprobe = staticmethod(_programs.uretprobe)
    usdt = staticmethod(_programs.usdt)
    iter = staticmethod(_programs.iter)
    kprobe = staticmethod(_programs.kprobe)
    kretprobe = staticmethod(_programs.kretprobe)
    fentry = staticmethod(_programs.fentry)
    fexit = staticmethod(_programs.fexit)
    lsm = staticmethod(_programs.lsm)
    perf_event = staticmethod(_programs.perf_event)
    xdp = staticmethod(_programs.xdp)
    tc = staticmethod(_programs.tc)
    socket_filter = staticmethod(_programs.socket_filter)
    cgroup_skb = staticmethod(_programs.cgroup_skb)
    cgroup_sock_addr = staticmethod(_programs.cgroup_sock_addr)
    inline = staticmethod(_markers.inline)
    global_function = staticmethod(_markers.global_function)
    compile = staticmethod(compile)
    compile_source = staticmethod(compile_source)


bpf = _BPF()

__all__ = [
    "bpf", "compile", "compile_source", "CompiledCollection", "CompiledProgram",
    "LoadedCollection", "ProgramDecl", "CompileError", "SourceLocation", "KernelTypes",
    "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "bool_", "char", "array", "ptr",
    "string", "struct", "SpinLock", "Timer", "bytes16", "bytes32", "bytes64", "bytes128",
    "bytes256",
    "Hash", "ArrayOfMaps", "HashOfMaps", "LRUHash", "LRUPerCPUHash", "PerCPUHash", "Array",
    "PerCPUArray", "RingBuf",
    "PerfEventArray", "StackTrace", "ProgArray", "Log2Hist", "LinearHist", "Global", "Const",
    "pid_tgid", "pid", "tid", "uid_gid", "uid", "gid", "comm", "ktime_ns", "ktime_boot_ns",
    "smp_processor_id", "prandom", "cgroup_id", "current_task", "kernel_struct",
    "probe_read_kernel", "probe_read_user", "probe_read_kernel_str", "probe_read_user_str",
    "send_signal", "tail_call", "redirect", "skb_load_bytes", "skb_store_bytes",
    "xdp_adjust_head", "xdp_adjust_tail", "l3_csum_replace", "l4_csum_replace", "csum_diff",
    "cast", "sizeof", "addressof", "attach_cookie", "bpf_loop", "bpf_for", "seq_print",
    "seq_write",
    "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT", "TC_ACT_OK",
    "TC_ACT_SHOT", "TC_ACT_REDIRECT", "BPF_ANY", "BPF_NOEXIST", "BPF_EXIST",
    "BPF_F_CURRENT_CPU", "BPF_F_USER_STACK",
]
