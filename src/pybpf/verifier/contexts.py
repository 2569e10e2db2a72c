"""Which bytes of the context (r1 at entry) a program of each type may read and write.

Offsets come from uapi linux/bpf.h (``struct __sk_buff``, ``struct xdp_md``,
``struct bpf_perf_event_data``) and the x86-64 ``struct pt_regs``; the rules follow the
kernel's ``*_is_valid_access`` functions. A context read returns a scalar, except the
packet fields (``data``, ``data_end``, ``data_meta``), which give packet pointers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import AttachType, ProgramType
from .state import RegType

SKB_SIZE = 192
XDP_MD_SIZE = 20  # egress_ifindex (20..23) only for devmap programs
PT_REGS_SIZE = 168           # x86-64 struct pt_regs
PERF_EVENT_DATA_SIZE = 184   # pt_regs, sample_period, addr
RAW_TP_ARGS_SIZE = 8 * 12    # MAX_BPF_FUNC_ARGS u64 arguments
SYSCALL_CTX_MAX = 0xFFFF        # U16_MAX
TRACEPOINT_MAX = 8192        # PERF_MAX_TRACE_SIZE; the first 8 bytes (common fields) hidden

_SKB_CB = (48, 68)
_SKB_PACKET = {76: RegType.PTR_TO_PACKET, 80: RegType.PTR_TO_PACKET_END,
               140: RegType.PTR_TO_PACKET_META}
_SKB_U64 = {152, 184}                       # tstamp, hwtstamp
_SKB_SK = 168                               # struct bpf_sock *sk (8 bytes)
_SKB_HIDDEN = {144, 148, 180, 181, 182, 183}  # flow_keys, tstamp_type, padding
_SKB_SOCKET_FIELDS = (88, 140)              # family .. local_port
_SKB_IP_FIELDS = (92, 132)                  # remote/local ip4 and ip6: read whole
_LWT = (ProgramType.LWT_IN, ProgramType.LWT_OUT, ProgramType.LWT_XMIT,
        ProgramType.LWT_SEG6LOCAL)
# what each skb program type may not touch (the kernel's *_is_valid_access), beyond the above
_TYPE_HIDDEN = {
    ProgramType.SOCKET_FILTER: {72, 76, 80, 140, 152, 160, 184, *range(88, 140, 4)},
    ProgramType.CGROUP_SKB: {72, 140, 160},     # tc_classid, data_meta, wire_len
    ProgramType.SCHED_CLS: set(),
    ProgramType.SCHED_ACT: set(),
    ProgramType.SK_SKB: {72, 140, 152, 160, 184, 8},   # ... and mark
    # lwt: no tc_classid, socket fields, data_meta, tstamp, wire_len, hwtstamp
    **{t: {72, 140, 152, 160, 184, *range(88, 140, 4)} for t in _LWT},
}
_TYPE_WRITABLE = {       # fields each type may write, besides cb[]
    ProgramType.SOCKET_FILTER: set(),
    ProgramType.CGROUP_SKB: {8, 32, 152},       # mark, priority, tstamp
    ProgramType.SCHED_CLS: {8, 44, 32, 72, 152, 12},   # + tc_index, tc_classid,
    ProgramType.SCHED_ACT: {8, 44, 32, 72, 152, 12},   #   queue_mapping
    ProgramType.SK_SKB: {44, 32},               # tc_index, priority (not cb[])
    **{t: {8, 32} for t in _LWT},               # mark, priority
}
_NO_CB_WRITES = (ProgramType.SK_SKB,)
_TC = (ProgramType.SCHED_CLS, ProgramType.SCHED_ACT)

_XDP_PACKET = {0: RegType.PTR_TO_PACKET, 4: RegType.PTR_TO_PACKET_END,
               8: RegType.PTR_TO_PACKET_META}


@dataclass(frozen=True)
class CtxAccess:
    """The verdict on one context access: ``why`` is empty when allowed."""

    why: str = ""
    result: RegType = RegType.SCALAR
    unsupported: bool = False   # ``why`` is a limit of pybpf's verifier, not a refusal
    nullable: bool = False      # the pointer read may be NULL (the kernel's ..._OR_NULL)


def _field_start(off: int, width: int) -> int:
    return off - off % width


def _skb_access(prog_type: ProgramType, off: int, size: int, write: bool) -> CtxAccess:
    if off < 0 or off + size > SKB_SIZE:
        return CtxAccess(f"offset {off} is outside struct __sk_buff ({SKB_SIZE} bytes)")
    if off % size:
        return CtxAccess(f"{size}-byte access at offset {off} is not aligned to its size")
    field = _field_start(off, 8 if _field_start(off, 8) in _SKB_U64 | {_SKB_SK} else 4)
    tc = prog_type in _TC
    if field == _SKB_SK:
        if write or size != 8 or off != _SKB_SK:
            return CtxAccess("__sk_buff->sk is read whole (8 bytes), never written")
        return CtxAccess("unsupported: __sk_buff->sk (a socket pointer, which pybpf's "
                         "verifier does not model)", unsupported=True)
    if off == 180 and tc and size == 1:   # tstamp_type: a byte, for tc programs
        return CtxAccess() if not write else CtxAccess("__sk_buff->tstamp_type is read-only")
    if field in _SKB_HIDDEN or field in _TYPE_HIDDEN.get(prog_type, set()):
        return CtxAccess(f"__sk_buff offset {off} is not accessible in "
                         f"{prog_type.name.lower()} programs")
    if _SKB_SOCKET_FIELDS[0] <= field < _SKB_SOCKET_FIELDS[1]:
        if tc:
            return CtxAccess(f"__sk_buff offset {off} (socket fields) is not accessible in "
                             f"tc programs")
        if _SKB_IP_FIELDS[0] <= field < _SKB_IP_FIELDS[1] and size != 4:
            return CtxAccess(f"__sk_buff address field at {field} is read with 4 bytes")
    in_cb = _SKB_CB[0] <= off < _SKB_CB[1]
    if write:
        allowed = (in_cb and prog_type not in _NO_CB_WRITES) or \
            field in _TYPE_WRITABLE.get(prog_type, set())
        if not allowed or field == 184:
            return CtxAccess(f"__sk_buff offset {off} is read-only")
        width = 8 if field in _SKB_U64 else 4
        if size != width and not in_cb:
            return CtxAccess(f"__sk_buff field at {field} must be written whole "
                             f"({width} bytes)")
        if in_cb and off + size > _SKB_CB[1]:
            return CtxAccess("write runs past cb[4]")
        return CtxAccess()
    if field in _SKB_PACKET:
        if size != 4:
            return CtxAccess(f"__sk_buff packet pointer at {field} must be read with 4 bytes")
        return CtxAccess(result=_SKB_PACKET[field])
    if field in _SKB_U64:
        if size != 8:
            return CtxAccess(f"__sk_buff field at {field} is 8 bytes: read it whole")
        return CtxAccess()
    if size > 4 and not in_cb:
        return CtxAccess(f"{size}-byte read at __sk_buff offset {off} spans two fields")
    if in_cb and off + size > _SKB_CB[1]:
        return CtxAccess("read runs past cb[4]")
    return CtxAccess()


def _xdp_access(off: int, size: int, write: bool) -> CtxAccess:
    if write:
        return CtxAccess("struct xdp_md is read-only")
    if off < 0 or off + size > XDP_MD_SIZE or size != 4 or off % 4:
        return CtxAccess(f"xdp_md is read as aligned 4-byte fields (offset {off}, size "
                         f"{size})")
    return CtxAccess(result=_XDP_PACKET.get(off, RegType.SCALAR))


def _read_only_window(name: str, lo: int, hi: int, off: int, size: int, write: bool,
                      *, whole: int | None = None) -> CtxAccess:
    if write:
        return CtxAccess(f"the {name} context is read-only")
    if off < lo or off + size > hi:
        return CtxAccess(f"offset {off} is outside the {name} context ({lo}..{hi})")
    if off % size:
        return CtxAccess(f"{size}-byte read at offset {off} is not aligned to its size")
    if whole is not None and size != whole:
        return CtxAccess(f"the {name} context is read in {whole}-byte fields")
    return CtxAccess()


def check_ctx_access(prog_type: ProgramType, off: int, size: int, *, write: bool
                     ) -> CtxAccess:
    """May a program of ``prog_type`` access ``size`` bytes at context offset ``off``?"""
    if prog_type in (ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT,
                     ProgramType.CGROUP_SKB, ProgramType.SK_SKB, *_LWT):
        return _skb_access(prog_type, off, size, write)
    if prog_type == ProgramType.XDP:
        return _xdp_access(off, size, write)
    if prog_type == ProgramType.TRACEPOINT:
        return _read_only_window("tracepoint", 8, TRACEPOINT_MAX, off, size, write)
    if prog_type == ProgramType.RAW_TRACEPOINT:
        return _read_only_window("raw tracepoint", 0, RAW_TP_ARGS_SIZE, off, size, write)
    if prog_type == ProgramType.KPROBE:
        return _read_only_window("pt_regs", 0, PT_REGS_SIZE, off, size, write)
    if prog_type == ProgramType.PERF_EVENT:
        if off >= PT_REGS_SIZE:
            return _read_only_window("perf event", PT_REGS_SIZE, PERF_EVENT_DATA_SIZE, off,
                                     size, write)
        return _read_only_window("perf event", 0, PT_REGS_SIZE, off, size, write, whole=8)
    if prog_type == ProgramType.SYSCALL:
        # the caller's BPF_PROG_RUN ctx_in, copied in: any naturally aligned offset below
        # U16_MAX, read or written (the kernel compares the furthest one with ctx_size_in
        # at run time: syscall_prog_is_valid_access)
        if off < 0 or off >= SYSCALL_CTX_MAX or off % size:
            return CtxAccess(f"a syscall program's context is read at aligned offsets below "
                             f"{SYSCALL_CTX_MAX}")
        return CtxAccess()
    return CtxAccess(f"pybpf's verifier does not know the context of "
                     f"{prog_type.name.lower()} programs")


SUPPORTED_TYPES = (ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT,
                   ProgramType.CGROUP_SKB, ProgramType.SK_SKB, ProgramType.XDP,
                   ProgramType.TRACEPOINT, ProgramType.RAW_TRACEPOINT, ProgramType.KPROBE,
                   ProgramType.PERF_EVENT, ProgramType.SYSCALL, *_LWT)

PACKET_TYPES = (ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.XDP,
                ProgramType.SK_SKB)

# R0 at exit must lie in this range (the kernel's check_return_code)
RETURN_RANGES = {ProgramType.CGROUP_SKB: (0, 1)}


def return_range(prog_type: ProgramType, attach_type: AttachType | None
                 ) -> tuple[int, int] | None:
    """The range R0 must lie in at program exit (None: any number). A cgroup_skb egress
    program may also return 2 and 3 (congestion notification)."""
    if prog_type == ProgramType.CGROUP_SKB and attach_type == AttachType.CGROUP_INET_EGRESS:
        return (0, 3)
    return RETURN_RANGES.get(prog_type)
