"""Syscalls with their arguments and result, for the tools that trace a few syscalls
(setuids, shmsnoop): ``raw_syscalls:sys_enter`` keeps the arguments of the wanted
syscall numbers per thread, ``sys_exit`` sends them with the return value.

A tool defines its own two programs (so they carry its name) as one-line calls of
:func:`remember_call` and :func:`send_call`, and, once loaded, says which syscall numbers
(and pid) it wants with :func:`select_calls`.
"""

from __future__ import annotations

from typing import Any

from pybpf.lang import (
    Hash,
    RingBuf,
    bytes16,
    comm,
    ktime_ns,
    pid_tgid,
    s64,
    struct,
    u32,
    u64,
    uid_gid,
)

__all__ = ["SyscallEvent", "calls", "call_events", "wanted_nrs", "pid_filter", "select_calls",
           "remember_call", "send_call"]


class SyscallEvent(struct):
    ts_ns: u64
    nr: s64
    ret: s64
    arg0: u64
    arg1: u64
    arg2: u64
    arg3: u64
    pid: u32
    uid: u32
    comm: bytes16


calls = Hash(u64, SyscallEvent, max_entries=10240)
call_events = RingBuf(max_entries=1 << 18)
# which syscall numbers to keep (-> 1) and, at key 0 of pid_filter, the only pid (0: all);
# maps rather than constants, so each tool fills them for its own load
wanted_nrs = Hash(u32, u32, max_entries=64)
pid_filter = Hash(u32, u32, max_entries=1)


def select_calls(coll: Any, numbers: list[int], pid: int | None = None) -> None:
    """Fill the loaded collection ``coll``'s filters: keep ``numbers`` (and only ``pid``)."""
    view = coll.maps[wanted_nrs]
    for nr in numbers:
        view[nr] = 1
    if pid:
        coll.maps[pid_filter][0] = pid


def remember_call(ctx):  # noqa: ANN001, ANN201 - inlined into a raw_syscalls/sys_enter program
    nr: u32 = ctx.id
    if not wanted_nrs.lookup(nr):
        return 0
    tg = pid_tgid()
    only = pid_filter.lookup(0)
    if only and (tg >> 32) != only[0]:
        return 0
    ev = SyscallEvent()
    ev.ts_ns = ktime_ns()
    ev.nr = nr
    ev.arg0 = ctx.args[0]
    ev.arg1 = ctx.args[1]
    ev.arg2 = ctx.args[2]
    ev.arg3 = ctx.args[3]
    ev.pid = tg >> 32
    ev.uid = u32(uid_gid() & 0xFFFFFFFF)
    ev.comm = comm()
    calls[tg] = ev
    return 0


def send_call(ctx):  # noqa: ANN001, ANN201 - inlined into a raw_syscalls/sys_exit program
    tg = pid_tgid()
    seen = calls.lookup(tg)
    if not seen:
        return 0
    ev = call_events.reserve(SyscallEvent)
    if ev:
        ev.ts_ns = seen[0].ts_ns
        ev.nr = seen[0].nr
        ev.ret = ctx.ret
        ev.arg0 = seen[0].arg0
        ev.arg1 = seen[0].arg1
        ev.arg2 = seen[0].arg2
        ev.arg3 = seen[0].arg3
        ev.pid = seen[0].pid
        ev.uid = seen[0].uid
        ev.comm = seen[0].comm
        call_events.submit(ev)
    calls.delete(tg)
    return 0
