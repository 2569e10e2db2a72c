"""mountsnoop: trace mount() and umount() system-wide, like BCC's mountsnoop.

Entry tracepoints keep the argument pointers and flags per thread; the exits read the
strings, the mount namespace (``task->nsproxy->mnt_ns->ns.inum``, BTF) and the parent,
and send one record::

    COMM             PID     TID     MNT_NS      CALL
    mount            13207   13207   4026531841  mount("/dev/loop0", "tmp-dir/", "ext4", 0x0, "") = 0

The new mount API (fsopen, fsconfig, fsmount, move_mount) is not traced yet.
"""

from __future__ import annotations

import argparse
import errno
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    current_task,
    pid,
    probe_read_user_str,
    s32,
    string,
    struct,
    tid,
    u32,
    u64,
)
from . import common

KIND_MOUNT = 0
KIND_UMOUNT = 1

# MS_* (mount(2), uapi linux/mount.h) and umount2(2) flags, for the CALL column
MOUNT_FLAGS = [("MS_RDONLY", 1), ("MS_NOSUID", 2), ("MS_NODEV", 4), ("MS_NOEXEC", 8),
               ("MS_SYNCHRONOUS", 16), ("MS_REMOUNT", 32), ("MS_MANDLOCK", 64),
               ("MS_DIRSYNC", 128), ("MS_NOSYMFOLLOW", 256), ("MS_NOATIME", 1024),
               ("MS_NODIRATIME", 2048), ("MS_BIND", 4096), ("MS_MOVE", 8192),
               ("MS_REC", 16384), ("MS_SILENT", 32768), ("MS_POSIXACL", 1 << 16),
               ("MS_UNBINDABLE", 1 << 17), ("MS_PRIVATE", 1 << 18), ("MS_SLAVE", 1 << 19),
               ("MS_SHARED", 1 << 20), ("MS_RELATIME", 1 << 21), ("MS_KERNMOUNT", 1 << 22),
               ("MS_I_VERSION", 1 << 23), ("MS_STRICTATIME", 1 << 24),
               ("MS_LAZYTIME", 1 << 25)]
UMOUNT_FLAGS = [("MNT_FORCE", 1), ("MNT_DETACH", 2), ("MNT_EXPIRE", 4),
                ("UMOUNT_NOFOLLOW", 8)]


class MountStart(struct):
    source_addr: u64
    target_addr: u64
    fstype_addr: u64
    data_addr: u64
    flags: u64
    kind: u32


class MountEvent(struct):
    flags: u64
    mnt_ns: u32
    kind: u32
    pid: u32
    tid: u32
    ppid: u32
    ret: s32
    comm: bytes16
    pcomm: bytes16
    source: Annotated[bytes, string(64)]
    target: Annotated[bytes, string(128)]
    fstype: Annotated[bytes, string(32)]
    data: Annotated[bytes, string(64)]
starts = Hash(u32, MountStart, max_entries=1024)
events = RingBuf(max_entries=1 << 18)


@bpf.tracepoint("syscalls/sys_enter_mount")
def mountsnoop_mount(ctx):
    start = MountStart()
    start.kind = KIND_MOUNT
    start.source_addr = ctx.dev_name
    start.target_addr = ctx.dir_name
    start.fstype_addr = ctx.type
    start.data_addr = ctx.data
    start.flags = ctx.flags
    starts[tid()] = start
    return 0


@bpf.tracepoint("syscalls/sys_enter_umount")
def mountsnoop_umount(ctx):
    start = MountStart()
    start.kind = KIND_UMOUNT
    start.target_addr = ctx.name
    start.flags = u64(ctx.flags)
    starts[tid()] = start
    return 0


def _report(ret):
    thread = tid()
    start = starts.lookup(thread)
    if start:
        ev = events.reserve(MountEvent)
        if ev:
            ev.ret = s32(ret)
            ev.tid = thread
            ev.kind = start.kind
            ev.flags = start.flags
            if start.source_addr != 0:
                ev.source = probe_read_user_str(64, start.source_addr)
            ev.target = probe_read_user_str(128, start.target_addr)
            if start.fstype_addr != 0:
                ev.fstype = probe_read_user_str(32, start.fstype_addr)
            if start.data_addr != 0:
                ev.data = probe_read_user_str(64, start.data_addr)
            ev.pid = pid()
            ev.comm = comm()
            task = current_task()
            ev.mnt_ns = task.nsproxy.mnt_ns.ns.inum
            ev.ppid = task.real_parent.tgid
            ev.pcomm = task.real_parent.comm
            events.submit(ev)
        starts.delete(thread)
    return 0


@bpf.tracepoint("syscalls/sys_exit_mount")
def mountsnoop_mount_ret(ctx):
    return _report(ctx.ret)


@bpf.tracepoint("syscalls/sys_exit_umount")
def mountsnoop_umount_ret(ctx):
    return _report(ctx.ret)


PROGRAMS = (mountsnoop_mount, mountsnoop_umount, mountsnoop_mount_ret, mountsnoop_umount_ret)

EXAMPLES = """\
    ./mountsnoop          # trace mount() and umount() system-wide
    ./mountsnoop -P       # also show the parent's command and pid
    ./mountsnoop --json   # one JSON object per call
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("mountsnoop", "trace mount() and umount() syscalls", EXAMPLES)
    p.add_argument("-P", "--parent_process", action="store_true",
                   help="also snoop the parent process")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(*PROGRAMS)


def flag_names(flags: int, table: list[tuple[str, int]]) -> str:
    """``MS_BIND|MS_REC`` for known bits, the rest in hex; ``0x0`` when none."""
    names = [name for name, bit in table if flags & bit]
    rest = flags & ~sum(bit for _, bit in table)
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "0x0"


def describe_call(ev: Any) -> str:
    ret = str(ev.ret) if ev.ret >= 0 else "-" + errno.errorcode.get(-ev.ret, str(-ev.ret))
    target = common.decode_str(ev.target)
    if ev.kind == KIND_UMOUNT:
        return f'umount("{target}", {flag_names(ev.flags, UMOUNT_FLAGS)}) = {ret}'
    return (f'mount("{common.decode_str(ev.source)}", "{target}", '
            f'"{common.decode_str(ev.fstype)}", {flag_names(ev.flags, MOUNT_FLAGS)}, '
            f'"{common.decode_str(ev.data)}") = {ret}')


def header(opts: argparse.Namespace) -> str:
    if opts.parent_process:
        return f"{'COMM':<16} {'PID':<7} {'TID':<7} {'PCOMM':<16} {'PPID':<7} {'MNT_NS':<11} CALL"
    return f"{'COMM':<16} {'PID':<7} {'TID':<7} {'MNT_NS':<11} CALL"


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        call = describe_call(ev)
        text = f"{name:<16} {ev.pid:<7d} {ev.tid:<7d} "
        if opts.parent_process:
            text += f"{common.decode_str(ev.pcomm):<16} {ev.ppid:<7d} "
        text += f"{ev.mnt_ns:<11d} {call}"
        writer.event({"comm": name, "pid": ev.pid, "tid": ev.tid, "ppid": ev.ppid,
                      "pcomm": common.decode_str(ev.pcomm), "mnt_ns": ev.mnt_ns,
                      "call": call, "ret": ev.ret}, text)

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, MountEvent, show, writer=writer) as reader:
        writer.header(header(opts))
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("mountsnoop", parse_args, run, argv)
