"""setuids: trace the set*uid and set*gid syscalls (privilege changes), like BCC's setuids.

``raw_syscalls`` enter/exit for setuid, setgid, setreuid, setregid, setresuid,
setresgid, setfsuid and setfsgid (:mod:`pybpf.tools.sysevents`)::

    TIME     PID     COMM             UID    SYSCALL  ARGS (RET)
    23:04:28 27453   sudo             1000   setresuid ruid=-1 euid=1000 suid=-1 (0)
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import bpf
from . import common
from .sysevents import SyscallEvent, call_events, remember_call, select_calls, send_call

__all__ = ["parse_args", "build", "run", "main", "SYSCALLS"]

# x86_64 numbers -> (name, argument names)
SYSCALLS: dict[int, tuple[str, tuple[str, ...]]] = {
    105: ("setuid", ("uid",)), 106: ("setgid", ("gid",)),
    113: ("setreuid", ("ruid", "euid")), 114: ("setregid", ("rgid", "egid")),
    117: ("setresuid", ("ruid", "euid", "suid")),
    119: ("setresgid", ("rgid", "egid", "sgid")),
    122: ("setfsuid", ("fsuid",)), 123: ("setfsgid", ("fsgid",)),
}


@bpf.tracepoint("raw_syscalls/sys_enter")
def setuids_enter(ctx):
    return remember_call(ctx)


@bpf.tracepoint("raw_syscalls/sys_exit")
def setuids_exit(ctx):
    return send_call(ctx)


EXAMPLES = """\
    ./setuids           # trace all set*uid/set*gid syscalls
    ./setuids -p 181    # only trace PID 181
    ./setuids -x        # only show failed calls
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("setuids", "Trace the setuid syscalls: privilege escalation",
                           EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed calls")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(setuids_enter, setuids_exit)


def _id(value: int) -> int:
    """A uid/gid argument as the C int it is (-1: leave unchanged)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)

    def show(ev: Any) -> None:
        if opts.failed and ev.ret >= 0:
            return
        name, arg_names = SYSCALLS.get(ev.nr, (str(ev.nr), ()))
        values = [_id(v) for v in (ev.arg0, ev.arg1, ev.arg2)[:len(arg_names)]]
        args = " ".join(f"{a}={v}" for a, v in zip(arg_names, values, strict=True))
        comm = common.decode_str(ev.comm)
        writer.event({"pid": ev.pid, "comm": comm, "uid": ev.uid, "syscall": name,
                      "args": dict(zip(arg_names, values, strict=True)), "ret": ev.ret},
                     f"{common.wall_clock_hms():<8} {ev.pid:<7d} {comm:<16} {ev.uid:<6d} "
                     f"{name:<8} {args} ({ev.ret})")

    with build(opts).load() as coll:
        select_calls(coll, list(SYSCALLS), opts.pid)
        coll.attach()
        with common.ring_reader(coll, call_events, SyscallEvent, show, writer=writer) as rd:
            writer.header(f"{'TIME':<8} {'PID':<7} {'COMM':<16} {'UID':<6} {'SYSCALL':<8} "
                          "ARGS (RET)")
            common.poll_until_stopped([rd], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("setuids", parse_args, run, argv)
