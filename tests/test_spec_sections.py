"""libbpf's SEC() naming convention, table by table (no clang needed)."""

from __future__ import annotations

import pytest

from pybpf.elf import classify_section
from pybpf.spec import AttachType as A
from pybpf.spec import ProgramType as P
from pybpf.spec.sections import BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS


@pytest.mark.parametrize("name, prog_type, attach_type, attach_to, flags", [
    ("socket", P.SOCKET_FILTER, None, "", 0),
    ("kprobe/do_sys_open", P.KPROBE, None, "do_sys_open", 0),
    ("kprobe", P.KPROBE, None, "", 0),
    ("uprobe.s//usr/bin/bash:main", P.KPROBE, None, "/usr/bin/bash:main", BPF_F_SLEEPABLE),
    ("kprobe.multi/tcp_*", P.KPROBE, A.TRACE_KPROBE_MULTI, "tcp_*", 0),
    ("uprobe.multi//lib/libc.so.6:malloc", P.KPROBE, A.TRACE_UPROBE_MULTI,
     "/lib/libc.so.6:malloc", 0),
    ("ksyscall/openat", P.KPROBE, None, "openat", 0),
    ("tracepoint/sched/sched_switch", P.TRACEPOINT, None, "sched/sched_switch", 0),
    ("raw_tp.w/sys_enter", P.RAW_TRACEPOINT_WRITABLE, None, "sys_enter", 0),
    ("tp_btf/task_newtask", P.TRACING, A.TRACE_RAW_TP, "task_newtask", 0),
    ("fmod_ret/security_file_open", P.TRACING, A.MODIFY_RETURN, "security_file_open", 0),
    ("fentry.s/do_unlinkat", P.TRACING, A.TRACE_FENTRY, "do_unlinkat", BPF_F_SLEEPABLE),
    ("freplace/handler", P.EXT, None, "handler", 0),
    ("lsm_cgroup/socket_bind", P.LSM, A.LSM_CGROUP, "socket_bind", 0),
    ("iter.s/task_file", P.TRACING, A.TRACE_ITER, "task_file", BPF_F_SLEEPABLE),
    ("xdp", P.XDP, A.XDP, "", 0),
    ("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP, "", BPF_F_XDP_HAS_FRAGS),
    ("xdp/cpumap", P.XDP, A.XDP_CPUMAP, "", 0),
    ("tc/egress", P.SCHED_CLS, A.TCX_EGRESS, "", 0),
    ("netkit/peer", P.SCHED_CLS, A.NETKIT_PEER, "", 0),
    ("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, "", 0),
    ("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, "", 0),
    ("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, "", 0),
    ("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, "", 0),
    ("cgroup/skb", P.CGROUP_SKB, None, "", 0),
    ("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, "", 0),
    ("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, "", 0),
    ("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, "", 0),
    ("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, "", 0),
    ("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, "", 0),
    ("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, "", 0),
    ("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, "", 0),
    ("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, "", 0),
    ("lwt_seg6local", P.LWT_SEG6LOCAL, None, "", 0),
    ("struct_ops/dctcp_init", P.STRUCT_OPS, None, "dctcp_init", 0),
    ("syscall", P.SYSCALL, None, "", BPF_F_SLEEPABLE),
    ("netfilter", P.NETFILTER, A.NETFILTER, "", 0),
])
def test_known_names(name, prog_type, attach_type, attach_to, flags):
    kind = classify_section(name)
    assert (kind.type, kind.attach_type, kind.attach_to, kind.flags) == (
        prog_type, attach_type, attach_to, flags)


@pytest.mark.parametrize("name", [
    "xdp/foo",          # "xdp" takes no extras (libbpf 1.0 dropped sloppy prefixes)
    "socket/extra",
    "kprobes/x",        # a prefix must end at '/'
    "tracepointx",
    "my_section",
    "",
])
def test_unknown_names_are_unspec(name):
    kind = classify_section(name)
    assert (kind.type, kind.attach_type, kind.attach_to) == (P.UNSPEC, None, "")
