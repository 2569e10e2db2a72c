"""The kernel half of the guard: programs that decide, in the kernel, whether an event
breaks a rule, and act on it.

Every rule has one bit (``rules[i]`` is bit ``i``); every table maps what it matches on to
the mask of the rules that match it, and an event's verdict is the AND of one mask per
matcher (a rule that does not constrain a matcher sits in that matcher's ``*_free`` mask).
All keys carry a generation (0 or 1) and ``active[0]`` says which one is live: a reload
writes the other generation whole, then flips ``active`` with one map update, so at every
instant one complete policy is in force (no unprotected window).

Matching: exec by the executed file's (device, inode), by the inodes of its parent
directories (``binary_prefix``) and by the file name as executed (a script's own file: the
kernel has swapped it for its interpreter by then); open by an LPM trie over path strings
(exact paths are entries that include the terminating NUL); connect/bind by an LPM trie
over IPv6 and IPv4-mapped addresses and a port table; and uid, comm and cgroup (the task's
cgroup and its ancestors) for every kind.

Acting: ``kill`` is ``bpf_send_signal(SIGKILL)``. At ``sched_process_exec`` the signal is
pending before the new image returns to user space, so it never runs an instruction. At
``sys_enter_open*`` a pending SIGKILL would still let the open (and an ``O_TRUNC``) run, so
the guard also holds a fanotify open-permission gate on the protected files (gate.py): the
kernel fails a permission wait at once for a task with a fatal signal pending, so the open
fails before it truncates, and the process dies. (``bpf_probe_write_user`` on the path
would do it in the program, but kernel lockdown "integrity", as here, forbids it.)
``deny`` of connect/bind/sendmsg is a cgroup sock_addr program returning 0 (EPERM).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Annotated, Any

from ..lang import (
    Array,
    CompiledCollection,
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    cgroup_id,
    comm,
    current_task,
    kernel_struct,
    ktime_ns,
    pid_tgid,
    probe_read_user,
    probe_read_user_str,
    send_signal,
    string,
    struct,
    u8,
    u16,
    u32,
    u64,
    uid_gid,
)
from ..lang.maps import MapDecl
from ..spec import MapFlags, MapType

__all__ = ["build", "Hit", "Proc", "Config", "PathKey", "NetKey", "InodeKey", "IdKey",
           "CommKey", "CgroupKey", "KIND_BITS", "PATH_BYTES", "ARGS_BYTES", "EXEC_PATHS"]

PATH_BYTES = 252      # an LPM key holds 256 bytes: the generation and 252 of the path
ARGS_BYTES = 256
CGROUP_DEPTH = 8      # cgroup ancestors compared (the task's own cgroup is the first)
DIR_DEPTH = 24        # parent directories of an executed file compared
SIGKILL = 9
# process-tree records do not wake the reader: it reads them in batches, and always before
# the hits (which do wake it), so a hit's ancestry is up to date
BPF_RB_NO_WAKEUP = 1

K_EXEC, K_OPEN, K_CONNECT, K_BIND, K_PTRACE, K_SETUID, K_MODULE, K_BPF, K_MOUNT, K_KILL = \
    range(10)
KIND_BITS = {"exec": K_EXEC, "open": K_OPEN, "connect": K_CONNECT, "bind": K_BIND,
             "ptrace": K_PTRACE, "setuid": K_SETUID, "module_load": K_MODULE, "bpf": K_BPF,
             "mount": K_MOUNT, "kill": K_KILL, "sysctl": 10}   # sysctl: see sysctl.py

# Hit.acted bits
ACT_KILLED, ACT_DENIED, ACT_BLOCKED = 1, 2, 4
# Proc.kind
P_FORK, P_EXEC, P_EXIT = 1, 2, 3

O_ACCMODE, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 3, 1, 2, 0o100, 0o1000
AF_INET, AF_INET6 = 2, 10
V4_MAPPED = 0xFFFF0000   # bytes 8..11 of ::ffff:a.b.c.d, as the low word's first half
NO_PREALLOC = int(MapFlags.NO_PREALLOC)
EXEC_PATHS = 2   # added to the generation in ``paths`` keys: exec file names, not opens


class LpmTrie(MapDecl[Any, Any]):
    """``BPF_MAP_TYPE_LPM_TRIE``: the key is a u32 prefix length in bits, then the data."""

    map_type = MapType.LPM_TRIE


class Config(struct):
    binary_free: u64   # rules that name no binary / binary_prefix
    path_free: u64
    cidr_free: u64
    port_free: u64
    uid_free: u64
    comm_free: u64
    cgroup_free: u64
    need_flags: u64    # open rules with flags: read_ok / write_ok say which
    read_ok: u64
    write_ok: u64
    dir_rules: u64     # exec rules with binary_prefix (the parent-directory walk)
    kill: u64          # rules whose action is kill (deny falls back here where no hook denies)
    deny: u64          # rules denied by a cgroup hook (connect/bind)


class IdKey(struct):
    gen: u32
    id: u32


class CommKey(struct):
    gen: u32
    comm: bytes16


class CgroupKey(struct):
    gen: u64
    id: u64


class InodeKey(struct):
    gen: u32
    dev: u32
    ino: u64


class PathKey(struct):
    prefixlen: u32
    gen: u32          # 32 bits: keeps path aligned for copies
    path: Annotated[bytes, string(PATH_BYTES)]


class NetKey(struct):
    prefixlen: u32
    gen: u32
    # IPv6, or IPv4 mapped (::ffff:a.b.c.d): the 16 bytes in memory order, as two
    # little-endian words (u64 fields also give the key the stack alignment copies need)
    addr_hi: u64
    addr_lo: u64


class SockAddr(struct):   # sockaddr_in / sockaddr_in6 as the caller passed it
    family: u16
    port: u16             # network order
    v4: u32               # sin_addr (or sin6_flowinfo)
    v6_hi: u64            # sin6_addr
    v6_lo: u64
    scope: u32


class Hit(struct):
    """A rule hit (``mask``: the rules that matched), sent on ``hits``."""

    ts_ns: u64
    mask: u64
    cgroup: u64
    arg: u64          # open flags, target pid, new uid, bpf command, mount flags
    kind: u32
    pid: u32
    tid: u32
    ppid: u32
    uid: u32
    acted: u32
    port: u32
    family: u32
    args_len: u32
    gen: u32          # the generation whose rules ``mask`` names
    comm: bytes16
    addr_hi: u64      # as NetKey
    addr_lo: u64
    path: Annotated[bytes, string(PATH_BYTES)]
    args: Annotated[list[int], u8[ARGS_BYTES]]


class Proc(struct):
    """A fork, exec or exit, for the process tree, sent on ``procs``."""

    cgroup: u64
    kind: u32
    pid: u32
    ppid: u32
    uid: u32
    comm: bytes16
    path: Annotated[bytes, string(PATH_BYTES)]


active = Array(u32, max_entries=1)
config = Array(Config, max_entries=2)
kinds = Array(u64, max_entries=32)      # gen * 16 + KIND_BITS[kind] -> its rules
uids = Hash(IdKey, u64, max_entries=1024)
comms = Hash(CommKey, u64, max_entries=1024)
cgroups = Hash(CgroupKey, u64, max_entries=4096)
binaries = Hash(InodeKey, u64, max_entries=1024)
directories = Hash(InodeKey, u64, max_entries=1024)
ports = Hash(IdKey, u64, max_entries=1024)
paths = LpmTrie(PathKey, u64, max_entries=4096, flags=NO_PREALLOC)
nets = LpmTrie(NetKey, u64, max_entries=4096, flags=NO_PREALLOC)
hits = RingBuf(max_entries=1 << 20)
procs = RingBuf(max_entries=1 << 22)
guard_tgid = Const(u32, 0)   # the guard itself is never matched (its own bpf() calls...)


# -- matching shared by every program (inlined) --------------------------------------------

def _common(gen, cfg, mask):
    """``mask`` narrowed by the uid, comm and cgroup tables."""
    if mask & ~cfg.uid_free:
        key = IdKey()
        key.gen = gen
        key.id = u32(uid_gid())
        mask &= cfg.uid_free | uids.get(key, 0)
    if mask & ~cfg.comm_free:
        ckey = CommKey()
        ckey.gen = gen
        ckey.comm = comm()
        mask &= cfg.comm_free | comms.get(ckey, 0)
    if mask & ~cfg.cgroup_free:
        found: u64 = 0
        gkey = CgroupKey()
        gkey.gen = gen
        cg = current_task().cgroups.dfl_cgrp
        for _ in range(CGROUP_DEPTH):
            if cg != 0:
                gkey.id = cg.kn.id
                found |= cgroups.get(gkey, 0)
                cg = kernel_struct("cgroup", cg.self.parent)
        mask &= cfg.cgroup_free | found
    return mask


def _report(gen, kind, mask, acted, arg):
    ev = hits.reserve(Hit)
    if ev:
        ids = pid_tgid()
        ev.ts_ns = ktime_ns()
        ev.mask = mask
        ev.gen = gen
        ev.kind = kind
        ev.acted = acted
        ev.arg = arg
        ev.pid = u32(ids >> 32)
        ev.tid = u32(ids)
        ev.uid = u32(uid_gid())
        ev.cgroup = cgroup_id()
        ev.comm = comm()
        ev.ppid = current_task().real_parent.tgid
        hits.submit(ev)
    return 0


# -- exec, fork, exit ----------------------------------------------------------------------

@bpf.tracepoint("sched/sched_process_exec")
def guard_exec(ctx):
    task = current_task()
    mm = task.mm
    proc = procs.reserve(Proc)
    if proc:
        proc.kind = P_EXEC
        proc.pid = u32(pid_tgid() >> 32)
        proc.ppid = task.real_parent.tgid
        proc.uid = u32(uid_gid())
        proc.cgroup = cgroup_id()
        proc.comm = comm()
        # exec pushes the file name first: it sits right above the environment strings
        proc.path = probe_read_user_str(PATH_BYTES, mm.env_end)
        procs.submit(proc, BPF_RB_NO_WAKEUP)
    if u32(pid_tgid() >> 32) == guard_tgid:
        return 0
    gen = active.get(0, 0)
    cfg = config.lookup(gen)
    if not cfg:
        return 0
    mask = kinds.get(gen * 16 + K_EXEC, 0)
    if mask == 0:
        return 0
    found = cfg.binary_free
    if mask & ~found:
        inode = mm.exe_file.f_inode
        key = InodeKey()
        key.gen = gen
        key.dev = inode.i_sb.s_dev
        key.ino = inode.i_ino
        found |= binaries.get(key, 0)
        if mask & cfg.dir_rules:
            dentry = mm.exe_file.f_path.dentry
            for _ in range(DIR_DEPTH):
                parent = dentry.d_parent
                if parent != dentry:
                    dentry = kernel_struct("dentry", parent)
                    key.ino = dentry.d_inode.i_ino
                    found |= directories.get(key, 0)
        # the file name as executed: a script's own file (its interpreter is exe_file)
        pkey = PathKey()
        pkey.prefixlen = 8 * (PATH_BYTES + 4)
        pkey.gen = gen + EXEC_PATHS
        pkey.path = probe_read_user_str(PATH_BYTES, mm.env_end)
        found |= paths.get(pkey, 0)
    mask = _common(gen, cfg, mask & found)
    if mask == 0:
        return 0
    acted: u32 = 0
    if mask & cfg.kill:
        send_signal(SIGKILL)
        acted = ACT_KILLED
    ev = hits.reserve(Hit)
    if ev:
        ids = pid_tgid()
        ev.ts_ns = ktime_ns()
        ev.mask = mask
        ev.gen = gen
        ev.kind = K_EXEC
        ev.acted = acted
        ev.arg = 0
        ev.pid = u32(ids >> 32)
        ev.tid = u32(ids)
        ev.uid = u32(uid_gid())
        ev.cgroup = cgroup_id()
        ev.comm = comm()
        ev.ppid = task.real_parent.tgid
        ev.path = probe_read_user_str(PATH_BYTES, mm.env_end)
        ev.args_len = u32(mm.arg_end - mm.arg_start)
        ev.args = probe_read_user(u8[ARGS_BYTES], mm.arg_start)  # type: ignore[misc, valid-type]
        hits.submit(ev)
    return 0


@bpf.tp_btf("sched_process_fork")
def guard_fork(ctx):
    child = kernel_struct("task_struct", ctx.arg1)
    if child.pid != child.tgid:
        return 0   # a new thread, not a new process
    proc = procs.reserve(Proc)
    if proc:
        proc.kind = P_FORK
        proc.pid = child.tgid
        proc.ppid = u32(pid_tgid() >> 32)
        proc.uid = u32(uid_gid())
        proc.cgroup = cgroup_id()
        proc.comm = comm()
        procs.submit(proc, BPF_RB_NO_WAKEUP)
    return 0


@bpf.tracepoint("sched/sched_process_exit")
def guard_exit(ctx):
    ids = pid_tgid()
    if u32(ids) != u32(ids >> 32):
        return 0   # a thread ends; the process lives on
    proc = procs.reserve(Proc)
    if proc:
        proc.kind = P_EXIT
        proc.pid = u32(ids >> 32)
        proc.ppid = 0
        proc.uid = 0
        proc.cgroup = 0
        proc.comm = comm()
        procs.submit(proc, BPF_RB_NO_WAKEUP)
    return 0


# -- open ----------------------------------------------------------------------------------

def _open(name_addr, flags):
    if u32(pid_tgid() >> 32) == guard_tgid:
        return 0
    gen = active.get(0, 0)
    cfg = config.lookup(gen)
    if not cfg:
        return 0
    mask = kinds.get(gen * 16 + K_OPEN, 0)
    if mask == 0:
        return 0
    key = PathKey()
    key.prefixlen = 8 * (PATH_BYTES + 4)
    key.gen = gen
    key.path = probe_read_user_str(PATH_BYTES, name_addr)
    mask &= cfg.path_free | paths.get(key, 0)
    if mask == 0:
        return 0
    allowed = ~cfg.need_flags
    mode = flags & O_ACCMODE
    if mode != O_WRONLY:
        allowed |= cfg.read_ok
    if mode != 0 or flags & (O_CREAT | O_TRUNC):
        allowed |= cfg.write_ok
    mask = _common(gen, cfg, mask & allowed)
    if mask == 0:
        return 0
    ev = hits.reserve(Hit)
    if ev:
        ids = pid_tgid()
        ev.ts_ns = ktime_ns()
        ev.mask = mask
        ev.gen = gen
        ev.kind = K_OPEN
        ev.acted = 0
        ev.arg = flags
        ev.pid = u32(ids >> 32)
        ev.tid = u32(ids)
        ev.uid = u32(uid_gid())
        ev.cgroup = cgroup_id()
        ev.comm = comm()
        ev.ppid = current_task().real_parent.tgid
        ev.path = probe_read_user_str(PATH_BYTES, name_addr)
        if mask & cfg.kill:
            ev.acted = ACT_KILLED | ACT_BLOCKED
        hits.submit(ev)
    if mask & cfg.kill:
        send_signal(SIGKILL)   # pending now: the open gate (gate.py) fails the open itself
    return 0


@bpf.tracepoint("syscalls/sys_enter_open")
def guard_open(ctx):
    return _open(ctx.filename, ctx.flags)


@bpf.tracepoint("syscalls/sys_enter_openat")
def guard_openat(ctx):
    return _open(ctx.filename, ctx.flags)


@bpf.tracepoint("syscalls/sys_enter_openat2")
def guard_openat2(ctx):
    # struct open_how starts with the u64 flags
    return _open(ctx.filename, probe_read_user(u64, ctx.how))


# -- connect and bind ----------------------------------------------------------------------

def _net_match(gen, cfg, mask, key, port):
    mask &= cfg.cidr_free | nets.get(key, 0)
    if mask & ~cfg.port_free:
        pkey = IdKey()
        pkey.gen = gen
        pkey.id = port
        mask &= cfg.port_free | ports.get(pkey, 0)
    return _common(gen, cfg, mask)


def _net_report(kind, mask, acted, key, port, family):
    ev = hits.reserve(Hit)
    if ev:
        ids = pid_tgid()
        ev.ts_ns = ktime_ns()
        ev.mask = mask
        ev.gen = key.gen
        ev.kind = kind
        ev.acted = acted
        ev.arg = 0
        ev.pid = u32(ids >> 32)
        ev.tid = u32(ids)
        ev.uid = u32(uid_gid())
        ev.cgroup = cgroup_id()
        ev.comm = comm()
        ev.ppid = current_task().real_parent.tgid
        ev.addr_hi = key.addr_hi
        ev.addr_lo = key.addr_lo
        ev.port = port
        ev.family = family
        hits.submit(ev)
    return 0


def _sys_net(kind, addr_ptr):
    """connect()/bind() at syscall entry: the log and kill rules (deny is the cgroup's)."""
    if u32(pid_tgid() >> 32) == guard_tgid:
        return 0
    gen = active.get(0, 0)
    cfg = config.lookup(gen)
    if not cfg:
        return 0
    mask = kinds.get(gen * 16 + kind, 0) & ~cfg.deny
    if mask == 0:
        return 0
    sa = probe_read_user(SockAddr, addr_ptr)
    key = NetKey()
    key.prefixlen = 32 + 128
    key.gen = gen
    if sa.family == AF_INET:
        key.addr_hi = 0
        key.addr_lo = (u64(sa.v4) << 32) | V4_MAPPED
    elif sa.family == AF_INET6:
        key.addr_hi = sa.v6_hi
        key.addr_lo = sa.v6_lo
    else:
        return 0
    port = u32(((sa.port & 0xFF) << 8) | (sa.port >> 8))
    mask = _net_match(gen, cfg, mask, key, port)
    if mask == 0:
        return 0
    acted: u32 = 0
    if mask & cfg.kill:
        send_signal(SIGKILL)
        acted = ACT_KILLED
    return _net_report(kind, mask, acted, key, port, sa.family)


@bpf.tracepoint("syscalls/sys_enter_connect")
def guard_connect(ctx):
    return _sys_net(K_CONNECT, ctx.uservaddr)


@bpf.tracepoint("syscalls/sys_enter_bind")
def guard_bind(ctx):
    return _sys_net(K_BIND, ctx.umyaddr)


def _sock_deny(ctx, kind, v6):
    """A cgroup sock_addr hook: 0 (EPERM) when a deny rule matches, else 1. A kill rule is
    refused here too: its SIGKILL, sent at syscall entry, is only pending, and the
    connection must not go out meanwhile (its event comes from the tracepoint)."""
    gen = active.get(0, 0)
    cfg = config.lookup(gen)
    if not cfg:
        return 1
    mask = kinds.get(gen * 16 + kind, 0) & (cfg.deny | cfg.kill)
    if mask == 0:
        return 1
    key = NetKey()
    key.prefixlen = 32 + 128
    key.gen = gen
    if v6:
        key.addr_hi = u64(ctx.user_ip6[0]) | (u64(ctx.user_ip6[1]) << 32)
        key.addr_lo = u64(ctx.user_ip6[2]) | (u64(ctx.user_ip6[3]) << 32)
    else:
        key.addr_hi = 0
        key.addr_lo = (u64(ctx.user_ip4) << 32) | V4_MAPPED
    p = ctx.user_port
    port = u32(((p & 0xFF) << 8) | ((p >> 8) & 0xFF))
    mask = _net_match(gen, cfg, mask, key, port)
    if mask == 0:
        return 1
    if mask & cfg.deny:
        _net_report(kind, mask & cfg.deny, ACT_DENIED, key, port, AF_INET6 if v6 else AF_INET)
    return 0


@bpf.cgroup_sock_addr("connect4")
def guard_connect4(ctx):
    return _sock_deny(ctx, K_CONNECT, 0)


@bpf.cgroup_sock_addr("connect6")
def guard_connect6(ctx):
    return _sock_deny(ctx, K_CONNECT, 1)


@bpf.cgroup_sock_addr("sendmsg4")
def guard_sendmsg4(ctx):
    return _sock_deny(ctx, K_CONNECT, 0)


@bpf.cgroup_sock_addr("sendmsg6")
def guard_sendmsg6(ctx):
    return _sock_deny(ctx, K_CONNECT, 1)


@bpf.cgroup_sock_addr("bind4")
def guard_bind4(ctx):
    return _sock_deny(ctx, K_BIND, 0)


@bpf.cgroup_sock_addr("bind6")
def guard_bind6(ctx):
    return _sock_deny(ctx, K_BIND, 1)


# -- the other syscalls: who does it is all there is to match ------------------------------

def _sys(kind, arg):
    if u32(pid_tgid() >> 32) == guard_tgid:
        return 0
    gen = active.get(0, 0)
    cfg = config.lookup(gen)
    if not cfg:
        return 0
    mask = kinds.get(gen * 16 + kind, 0)
    if mask == 0:
        return 0
    mask = _common(gen, cfg, mask)
    if mask == 0:
        return 0
    acted: u32 = 0
    if mask & cfg.kill:
        send_signal(SIGKILL)
        acted = ACT_KILLED
    return _report(gen, kind, mask, acted, arg)


@bpf.tracepoint("syscalls/sys_enter_ptrace")
def guard_ptrace(ctx):
    return _sys(K_PTRACE, ctx.pid)


@bpf.tracepoint("syscalls/sys_enter_setuid")
def guard_setuid(ctx):
    return _sys(K_SETUID, ctx.uid)


@bpf.tracepoint("syscalls/sys_enter_setreuid")
def guard_setreuid(ctx):
    return _sys(K_SETUID, ctx.euid)


@bpf.tracepoint("syscalls/sys_enter_setresuid")
def guard_setresuid(ctx):
    return _sys(K_SETUID, ctx.euid)


@bpf.tracepoint("syscalls/sys_enter_init_module")
def guard_init_module(ctx):
    return _sys(K_MODULE, 0)


@bpf.tracepoint("syscalls/sys_enter_finit_module")
def guard_finit_module(ctx):
    return _sys(K_MODULE, ctx.fd)


@bpf.tracepoint("syscalls/sys_enter_bpf")
def guard_bpf(ctx):
    return _sys(K_BPF, ctx.cmd)


@bpf.tracepoint("syscalls/sys_enter_mount")
def guard_mount(ctx):
    return _sys(K_MOUNT, ctx.flags)


@bpf.tracepoint("syscalls/sys_enter_fsmount")
def guard_fsmount(ctx):
    return _sys(K_MOUNT, ctx.flags)


@bpf.tracepoint("syscalls/sys_enter_kill")
def guard_kill(ctx):
    return _sys(K_KILL, ctx.pid)


@bpf.tracepoint("syscalls/sys_enter_tkill")
def guard_tkill(ctx):
    return _sys(K_KILL, ctx.pid)


@bpf.tracepoint("syscalls/sys_enter_tgkill")
def guard_tgkill(ctx):
    return _sys(K_KILL, ctx.tgid)


# program -> the tracepoint it needs (a kernel without it, e.g. no CONFIG_MODULES, has no
# hook for that kind: the rules of that kind are reported inert)
SYSCALL_PROGRAMS = (
    (guard_open, "sys_enter_open"),
    (guard_openat, "sys_enter_openat"),
    (guard_openat2, "sys_enter_openat2"),
    (guard_connect, "sys_enter_connect"),
    (guard_bind, "sys_enter_bind"),
    (guard_ptrace, "sys_enter_ptrace"),
    (guard_setuid, "sys_enter_setuid"),
    (guard_setreuid, "sys_enter_setreuid"),
    (guard_setresuid, "sys_enter_setresuid"),
    (guard_init_module, "sys_enter_init_module"),
    (guard_finit_module, "sys_enter_finit_module"),
    (guard_bpf, "sys_enter_bpf"),
    (guard_mount, "sys_enter_mount"),
    (guard_fsmount, "sys_enter_fsmount"),
    (guard_kill, "sys_enter_kill"),
    (guard_tkill, "sys_enter_tkill"),
    (guard_tgkill, "sys_enter_tgkill"),
)
CGROUP_DENY = {"connect": (guard_connect4, guard_connect6, guard_sendmsg4, guard_sendmsg6),
               "bind": (guard_bind4, guard_bind6)}
KIND_TRACEPOINTS = {
    "open": ("sys_enter_open", "sys_enter_openat", "sys_enter_openat2"),
    "connect": ("sys_enter_connect",), "bind": ("sys_enter_bind",),
    "ptrace": ("sys_enter_ptrace",),
    "setuid": ("sys_enter_setuid", "sys_enter_setreuid", "sys_enter_setresuid"),
    "module_load": ("sys_enter_init_module", "sys_enter_finit_module"),
    "bpf": ("sys_enter_bpf",), "mount": ("sys_enter_mount", "sys_enter_fsmount"),
    "kill": ("sys_enter_kill", "sys_enter_tkill", "sys_enter_tgkill"),
}


def _have_syscall_tracepoint(name: str) -> bool:
    from ..kernel.tracefs import tracefs_root
    return os.path.exists(os.path.join(tracefs_root(), "events", "syscalls", name))


def missing_kinds() -> frozenset[str]:
    """Kinds this kernel has no system call tracepoint for (no CONFIG_MODULES: module_load)."""
    return frozenset(kind for kind, tps in KIND_TRACEPOINTS.items()
                     if not any(_have_syscall_tracepoint(tp) for tp in tps))


def build(kinds: Iterable[str] = tuple(KIND_BITS),
          deny_kinds: Iterable[str] = tuple(CGROUP_DENY)) -> CompiledCollection:
    """The programs a policy needs, compiled for this kernel: the process tree's always,
    the tracepoints of ``kinds`` (those this kernel has) and the cgroup hooks that deny
    ``deny_kinds`` (connect, bind). Compiling is most of a start: only what is used."""
    wanted = {tp for kind in kinds for tp in KIND_TRACEPOINTS.get(kind, ())}
    chosen = [guard_exec, guard_fork, guard_exit]
    chosen += [p for p, tp in SYSCALL_PROGRAMS if tp in wanted and _have_syscall_tracepoint(tp)]
    chosen += [p for kind in deny_kinds for p in CGROUP_DENY.get(kind, ())]
    compiled = bpf.compile(*chosen)
    for prog in compiled.spec.programs.values():
        prog.license = "GPL"   # bpf_send_signal is GPL-only
    return compiled
