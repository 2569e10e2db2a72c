"""capable: trace security capability checks (cap_capable) with the verdict.

BCC puts a kprobe on cap_capable(); this kernel has no kprobes but has the
``capability:cap_capable`` tracepoint, fired after the check with its result, so each line
also says whether the capability was granted. The tracepoint does not carry the audit
option BCC shows in its AUDIT column, so that column is replaced by VERDICT (allow/deny).
Without the tracepoint (older kernels) the tool says so in one line and exits 1.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from pybpf.lang import (
    Const,
    RingBuf,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid_tgid,
    s32,
    struct,
    u32,
    u64,
    uid,
)
from pybpf.tools import common

__all__ = ["parse_args", "build", "run", "main", "CAPABILITIES"]

# include/uapi/linux/capability.h, in number order
CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]


class CapEvent(struct):
    ts: u64
    pid: u32
    tid: u32
    uid: u32
    cap: s32
    ret: s32
    pad: u32
    task: bytes16


cap_events = RingBuf(max_entries=1 << 18)
target_pid = Const(u32, 0)
self_pid = Const(u32, 0)


@bpf.tracepoint("capability/cap_capable")
def capable_check(ctx):
    id_ = pid_tgid()
    tgid = id_ >> 32
    if tgid == self_pid:
        return 0                 # our own bpf() calls check CAP_BPF/CAP_PERFMON
    if target_pid != 0 and tgid != target_pid:
        return 0
    now = ktime_ns()
    ev = cap_events.reserve(CapEvent)
    if ev:
        ev.ts = now
        ev.pid = tgid
        ev.tid = id_ & 0xFFFFFFFF
        ev.uid = uid()
        ev.cap = ctx.cap
        ev.ret = ctx.ret
        ev.task = comm()
        cap_events.submit(ev)
    return 0


EXAMPLES = """
    ./capable             # trace capability checks
    ./capable -p 181      # only trace PID 181
    ./capable -x          # extra fields: show TID
    ./capable --unique    # don't repeat stacks for the same pid or cgroup
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("capable", "Trace security capability checks", EXAMPLES)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="include non-audit checks (every check is shown here: the "
                             "tracepoint carries no audit flag)")
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    parser.add_argument("-x", "--extra", action="store_true", help="show extra fields in "
                        "TID column")
    parser.add_argument("--unique", action="store_true",
                        help="don't repeat the same capability for the same pid")
    return parser.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    """The compiled collection (``.spec`` is its CollectionSpec)."""
    import os  # noqa: PLC0415
    return bpf.compile(capable_check).with_constants({
        target_pid: opts.pid or 0,
        self_pid: os.getpid(),
    })


class _Printer:
    def __init__(self, opts: argparse.Namespace, out: TextIO):
        self.opts = opts
        self.writer = common.EventWriter(out, as_json=opts.json)
        self.seen: set[tuple[int, int]] = set()

    def header(self) -> None:
        tid = "%-6s " % "TID" if self.opts.extra else ""
        self.writer.header("%-9s %-6s %-6s %s%-16s %-4s %-20s %-7s" % (
            "TIME", "UID", "PID", tid, "COMM", "CAP", "NAME", "VERDICT"))

    def __call__(self, ev: Any) -> None:
        if self.opts.unique:
            if (ev.pid, ev.cap) in self.seen:
                return
            self.seen.add((ev.pid, ev.cap))
        name = CAPABILITIES[ev.cap] if 0 <= ev.cap < len(CAPABILITIES) else f"CAP_{ev.cap}"
        task = common.decode_str(ev.task)
        verdict = "allow" if ev.ret == 0 else "deny"
        now = common.wall_clock_hms()
        fields = dict(time=now, uid=ev.uid, pid=ev.pid, tid=ev.tid, comm=task, cap=ev.cap,
                      name=name, verdict=verdict)
        tid = "%-6d " % ev.tid if self.opts.extra else ""
        self.writer.event(fields, "%-9s %-6d %-6d %s%-16s %-4d %-20s %-7s" % (
            now, ev.uid, ev.pid, tid, task, ev.cap, name, verdict))


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop`` is set (or a signal unwinds us); returns the exit status."""
    printer = _Printer(opts, out)
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, cap_events, CapEvent, printer,
                               as_json=opts.json) as reader:
        printer.header()
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("capable", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
