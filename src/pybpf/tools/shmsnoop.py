"""shmsnoop: trace System V shared memory syscalls, like BCC's shmsnoop.

``raw_syscalls`` enter/exit for shmget, shmat, shmdt and shmctl
(:mod:`pybpf.tools.sysevents`)::

    PID    COMM                SYS              RET ARGs
    19813  server           SHMGET            10000 key: 0x78020001, size: 20, shmflg: ...
    19813  server            SHMAT     7f1cf8b1f000 shmid: 0x10000, shmaddr: 0x0, ...
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import bpf
from . import common
from .sysevents import SyscallEvent, call_events, remember_call, select_calls, send_call

__all__ = ["parse_args", "build", "run", "main", "describe"]

SHMGET, SHMAT, SHMCTL, SHMDT = 29, 30, 31, 67   # x86_64 syscall numbers

_GET_FLAGS = ((0o1000, "IPC_CREAT"), (0o2000, "IPC_EXCL"), (0o4000, "SHM_HUGETLB"),
              (0o10000, "SHM_NORESERVE"))
_AT_FLAGS = ((0o10000, "SHM_RDONLY"), (0o20000, "SHM_RND"), (0o40000, "SHM_REMAP"),
             (0o100000, "SHM_EXEC"))


@bpf.tracepoint("raw_syscalls/sys_enter")
def shmsnoop_enter(ctx):
    return remember_call(ctx)


@bpf.tracepoint("raw_syscalls/sys_exit")
def shmsnoop_exit(ctx):
    return send_call(ctx)


def _flags(value: int, names: tuple[tuple[int, str], ...], mode: bool) -> str:
    parts = [name for bit, name in names if value & bit]
    if mode:
        parts.append(f"0{value & 0o777:o}")
    return "|".join(parts)


def describe(nr: int, a0: int, a1: int, a2: int) -> tuple[str, str]:
    """(SYS column, ARGs text) of one call, BCC's wording."""
    if nr == SHMGET:
        return "SHMGET", (f"key: {a0:#x}, size: {a1}, shmflg: {a2:#x} "
                          f"({_flags(a2, _GET_FLAGS, True)})")
    if nr == SHMAT:
        return "SHMAT", (f"shmid: {a0:#x}, shmaddr: {a1:#x}, shmflg: {a2:#x} "
                         f"({_flags(a2, _AT_FLAGS, False)})")
    if nr == SHMDT:
        return "SHMDT", f"shmaddr: {a0:#x}"
    return "SHMCTL", f"shmid: {a0:#x}, cmd: {a1}, buf: {a2:#x}"


EXAMPLES = """\
    ./shmsnoop           # trace all shm*() syscalls
    ./shmsnoop -T        # include timestamps
    ./shmsnoop -p 181    # only trace PID 181
    ./shmsnoop -n main   # only print process names containing "main"
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("shmsnoop", "Trace shm*() syscalls", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(shmsnoop_enter, shmsnoop_exit)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()

    def show(ev: Any) -> None:
        comm = common.decode_str(ev.comm)
        if opts.name and opts.name not in comm:
            return
        sys_name, args = describe(ev.nr, ev.arg0, ev.arg1, ev.arg2)
        ret = ev.ret & 0xFFFFFFFFFFFFFFFF if ev.ret >= 0 else ev.ret
        text = f"{clock.seconds(ev.ts_ns):<14.6f}" if opts.timestamp else ""
        text += f"{ev.pid:<6d} {comm:<16} {sys_name:>6} {ret:>16x} {args}"
        writer.event({"pid": ev.pid, "comm": comm, "sys": sys_name, "ret": ev.ret,
                      "args": args}, text)

    with build(opts).load() as coll:
        select_calls(coll, [SHMGET, SHMAT, SHMCTL, SHMDT], opts.pid)
        coll.attach()
        with common.ring_reader(coll, call_events, SyscallEvent, show, writer=writer) as rd:
            writer.header((f"{'TIME(s)':<14}" if opts.timestamp else "")
                          + f"{'PID':<6} {'COMM':<16} {'SYS':>6} {'RET':>16} ARGs")
            common.poll_until_stopped([rd], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("shmsnoop", parse_args, run, argv)
