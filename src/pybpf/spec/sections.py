"""Program type, attach type and attach target from a SEC() name, as libbpf names them.

The table follows libbpf's documented convention ("Program Types and ELF Sections" in the
kernel's Documentation/bpf/libbpf/program_types.rst), plus the names newer libbpf added
(tcx/, netkit/, netfilter, uprobe.multi, kprobe.session, cgroup/*_unix):

* ``name`` matches exactly (``SEC("socket")``);
* ``name+`` matches exactly or as ``name/extras``, and the extras say where to attach
  (``SEC("tracepoint/syscalls/sys_enter_openat")`` -> ``syscalls/sys_enter_openat``).

An unknown name gives ``ProgramType.UNSPEC`` (the loader refuses it, the spec still shows it).
"""

from __future__ import annotations

from ..dataclass_compat import FrozenValue
from .flags import ProgFlags
from .model import AttachType as A
from .model import ProgramType as P

__all__ = ["SectionKind", "classify_section"]

# flags of BPF_PROG_LOAD (uapi linux/bpf.h) implied by a section name
BPF_F_SLEEPABLE = ProgFlags.SLEEPABLE
BPF_F_XDP_HAS_FRAGS = ProgFlags.XDP_HAS_FRAGS


class SectionKind(FrozenValue):
    """What a section name says about the programs in it."""

    type: P
    attach_type: A | None
    flags: int
    attach_to: str

    __slots__ = ("type", "attach_type", "flags", "attach_to")
    __match_args__ = ("type", "attach_type", "flags", "attach_to")

    def __init__(self, type: P, attach_type: A | None = None, flags: int = 0,
                       attach_to: str = "") -> None:
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "attach_type", attach_type)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "attach_to", attach_to)


_S = BPF_F_SLEEPABLE
_FRAGS = BPF_F_XDP_HAS_FRAGS

# name -> (type, attach type, flags, extras allowed ("+"))
_TABLE: list[tuple[str, P, A | None, int, bool]] = [
    ("socket", P.SOCKET_FILTER, None, 0, False),
    ("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, 0, False),
    ("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, 0, False),
    ("kprobe", P.KPROBE, None, 0, True),
    ("kretprobe", P.KPROBE, None, 0, True),
    ("uprobe", P.KPROBE, None, 0, True),
    ("uprobe.s", P.KPROBE, None, _S, True),
    ("uretprobe", P.KPROBE, None, 0, True),
    ("uretprobe.s", P.KPROBE, None, _S, True),
    ("kprobe.multi", P.KPROBE, A.TRACE_KPROBE_MULTI, 0, True),
    ("kretprobe.multi", P.KPROBE, A.TRACE_KPROBE_MULTI, 0, True),
    ("kprobe.session", P.KPROBE, A.TRACE_KPROBE_SESSION, 0, True),
    ("uprobe.multi", P.KPROBE, A.TRACE_UPROBE_MULTI, 0, True),
    ("uretprobe.multi", P.KPROBE, A.TRACE_UPROBE_MULTI, 0, True),
    ("uprobe.multi.s", P.KPROBE, A.TRACE_UPROBE_MULTI, _S, True),
    ("uretprobe.multi.s", P.KPROBE, A.TRACE_UPROBE_MULTI, _S, True),
    ("ksyscall", P.KPROBE, None, 0, True),
    ("kretsyscall", P.KPROBE, None, 0, True),
    ("usdt", P.KPROBE, None, 0, True),
    ("usdt.s", P.KPROBE, None, _S, True),
    ("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS, 0, False),
    ("tc/egress", P.SCHED_CLS, A.TCX_EGRESS, 0, False),
    ("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS, 0, False),
    ("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS, 0, False),
    ("tc", P.SCHED_CLS, None, 0, False),
    ("classifier", P.SCHED_CLS, None, 0, False),
    ("action", P.SCHED_ACT, None, 0, False),
    ("netkit/primary", P.SCHED_CLS, A.NETKIT_PRIMARY, 0, False),
    ("netkit/peer", P.SCHED_CLS, A.NETKIT_PEER, 0, False),
    ("tracepoint", P.TRACEPOINT, None, 0, True),
    ("tp", P.TRACEPOINT, None, 0, True),
    ("raw_tracepoint", P.RAW_TRACEPOINT, None, 0, True),
    ("raw_tp", P.RAW_TRACEPOINT, None, 0, True),
    ("raw_tracepoint.w", P.RAW_TRACEPOINT_WRITABLE, None, 0, True),
    ("raw_tp.w", P.RAW_TRACEPOINT_WRITABLE, None, 0, True),
    ("tp_btf", P.TRACING, A.TRACE_RAW_TP, 0, True),
    ("fentry", P.TRACING, A.TRACE_FENTRY, 0, True),
    ("fmod_ret", P.TRACING, A.MODIFY_RETURN, 0, True),
    ("fexit", P.TRACING, A.TRACE_FEXIT, 0, True),
    ("fentry.s", P.TRACING, A.TRACE_FENTRY, _S, True),
    ("fmod_ret.s", P.TRACING, A.MODIFY_RETURN, _S, True),
    ("fexit.s", P.TRACING, A.TRACE_FEXIT, _S, True),
    ("freplace", P.EXT, None, 0, True),
    ("lsm", P.LSM, A.LSM_MAC, 0, True),
    ("lsm.s", P.LSM, A.LSM_MAC, _S, True),
    ("lsm_cgroup", P.LSM, A.LSM_CGROUP, 0, True),
    ("iter", P.TRACING, A.TRACE_ITER, 0, True),
    ("iter.s", P.TRACING, A.TRACE_ITER, _S, True),
    ("syscall", P.SYSCALL, None, _S, False),
    ("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP, _FRAGS, False),
    ("xdp/devmap", P.XDP, A.XDP_DEVMAP, 0, False),
    ("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP, _FRAGS, False),
    ("xdp/cpumap", P.XDP, A.XDP_CPUMAP, 0, False),
    ("xdp.frags", P.XDP, A.XDP, _FRAGS, False),
    ("xdp", P.XDP, A.XDP, 0, False),
    ("perf_event", P.PERF_EVENT, None, 0, False),
    ("lwt_in", P.LWT_IN, None, 0, False),
    ("lwt_out", P.LWT_OUT, None, 0, False),
    ("lwt_xmit", P.LWT_XMIT, None, 0, False),
    ("lwt_seg6local", P.LWT_SEG6LOCAL, None, 0, False),
    ("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, 0, False),
    ("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER, 0, False),
    ("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, 0, False),
    ("sk_skb/verdict", P.SK_SKB, A.SK_SKB_VERDICT, 0, False),
    ("sk_skb", P.SK_SKB, None, 0, False),
    ("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, 0, False),
    ("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2, 0, False),
    ("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, 0, False),
    ("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, 0, False),
    ("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, 0, False),
    ("cgroup/skb", P.CGROUP_SKB, None, 0, False),
    ("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, 0, False),
    ("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, 0, False),
    ("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, 0, False),
    ("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, 0, False),
    ("cgroup/post_bind6", P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, 0, False),
    ("cgroup/bind4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, 0, False),
    ("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, 0, False),
    ("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, 0, False),
    ("cgroup/connect6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, 0, False),
    ("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, 0, False),
    ("cgroup/sendmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, 0, False),
    ("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, 0, False),
    ("cgroup/sendmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG, 0, False),
    ("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, 0, False),
    ("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, 0, False),
    ("cgroup/recvmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG, 0, False),
    ("cgroup/getpeername4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, 0, False),
    ("cgroup/getpeername6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, 0, False),
    ("cgroup/getpeername_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME, 0, False),
    ("cgroup/getsockname4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, 0, False),
    ("cgroup/getsockname6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, 0, False),
    ("cgroup/getsockname_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, 0, False),
    ("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, 0, False),
    ("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, 0, False),
    ("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, 0, False),
    ("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, 0, False),
    ("struct_ops", P.STRUCT_OPS, None, 0, True),
    ("struct_ops.s", P.STRUCT_OPS, None, _S, True),
    ("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP, 0, False),
    ("netfilter", P.NETFILTER, A.NETFILTER, 0, False),
]

_EXACT = {row[0]: row[1:] for row in _TABLE}
_WITH_EXTRAS = {row[0]: row[1:] for row in _TABLE if row[4]}


def classify_section(section_name: str) -> SectionKind:
    """What the programs of section ``section_name`` are, and where they attach.

    ``tracepoint/syscalls/sys_enter_openat`` gives ``TRACEPOINT`` with attach_to
    ``syscalls/sys_enter_openat``; ``xdp.frags`` gives ``XDP``/``AttachType.XDP`` with
    ``BPF_F_XDP_HAS_FRAGS``; an unknown name gives ``ProgramType.UNSPEC``.
    """
    exact = _EXACT.get(section_name)
    if exact is not None:
        prog_type, attach_type, flags, _extras = exact
        return SectionKind(prog_type, attach_type, flags)
    prefix, slash, extras = section_name.partition("/")
    if slash:
        entry = _WITH_EXTRAS.get(prefix)
        if entry is not None:
            prog_type, attach_type, flags, _extras = entry
            return SectionKind(prog_type, attach_type, flags, extras)
    return SectionKind(P.UNSPEC)
