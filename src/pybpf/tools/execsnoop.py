"""execsnoop: trace new processes through exec(), like BCC's execsnoop.

The BPF half runs on two tracepoints. ``syscalls:sys_enter_execve`` sends the file name
and the arguments (``argv[1]``...) packed four to a ring buffer record (BCC sends one per
argument; four to a record means one record for most commands, and each record costs the
Python half a decode); ``syscalls:sys_exit_execve`` sends the return value with the
command name the process has after the exec. The argument records do not wake the reader;
the return record does, so a whole exec costs one wake-up. The Python half gathers the
arguments per pid and prints one line when the return record arrives::

    PCOMM            PID     PPID    RET ARGS
    ls               41240   41211     0 /usr/bin/ls -l
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Const,
    RingBuf,
    bpf,
    bytes16,
    comm,
    current_task,
    pid,
    probe_read_user,
    probe_read_user_str,
    s32,
    string,
    struct,
    u32,
    u64,
    uid_gid,
)
from . import common

# the most arguments the BPF half will walk (BCC's default --max-args is 20)
ARGS_LIMIT = 64
ARG_SIZE = 128   # bytes kept of each argument, as BCC's ARGSIZE
ARGS_PER_RECORD = 4  # arg0..arg3 below; the BPF half fills them by constant names

KIND_ARGS = 0        # ``count`` strings in arg0..arg3 (the file name first), in order
KIND_RETURN = 2      # exec() returned ``retval``; ``comm`` is the new command name

# bpf_ringbuf_submit() flag: do not wake the reader. The argument records wait for the
# return record of the same exec, which does wake it: one wake-up per exec, not per
# record.
BPF_RB_NO_WAKEUP = 1


class ExecEvent(struct):
    kind: u32
    pid: u32
    ppid: u32
    uid: u32
    retval: s32
    count: u32       # KIND_ARGS: how many of arg0..arg3 hold arguments
    truncated: u32   # KIND_ARGS: more arguments than --max-args follow: print "..."
    comm: bytes16
    arg0: Annotated[bytes, string(ARG_SIZE)]
    arg1: Annotated[bytes, string(ARG_SIZE)]
    arg2: Annotated[bytes, string(ARG_SIZE)]
    arg3: Annotated[bytes, string(ARG_SIZE)]
events = RingBuf(max_entries=1 << 20)
max_args = Const(u32, 20)
uid_filter = Const(u32, 0xFFFFFFFF)   # all uids


@bpf.tracepoint("syscalls/sys_enter_execve")
def execsnoop_enter(ctx):
    if uid_filter != 0xFFFFFFFF and u32(uid_gid()) != uid_filter:
        return 0
    task_pid = pid()
    # argument index ``base + k`` goes to slot k; index 0 is the file name (BCC prints it
    # in argv[0]'s place). No variable index into a record: four named slots, unrolled.
    for base in range(0, ARGS_LIMIT, ARGS_PER_RECORD):
        ev = events.reserve(ExecEvent)
        if not ev:
            return 0
        ev.kind = KIND_ARGS
        ev.pid = task_pid
        ev.count = 0
        ev.truncated = 0
        addr = ctx.filename
        if base != 0:
            addr = probe_read_user(u64, ctx.argv + base)   # C pointer arithmetic: argv[i]
        if addr != 0 and base <= max_args:
            ev.arg0 = probe_read_user_str(ARG_SIZE, addr)
            ev.count = 1
            addr = probe_read_user(u64, ctx.argv + (base + 1))
            if addr != 0 and base + 1 <= max_args:
                ev.arg1 = probe_read_user_str(ARG_SIZE, addr)
                ev.count = 2
                addr = probe_read_user(u64, ctx.argv + (base + 2))
                if addr != 0 and base + 2 <= max_args:
                    ev.arg2 = probe_read_user_str(ARG_SIZE, addr)
                    ev.count = 3
                    addr = probe_read_user(u64, ctx.argv + (base + 3))
                    if addr != 0 and base + 3 <= max_args:
                        ev.arg3 = probe_read_user_str(ARG_SIZE, addr)
                        ev.count = 4
        # a record short of four slots ends the command line: by its end (argv[i] NULL)
        # or by --max-args (argv[i] is there but not wanted)
        last = ev.count < ARGS_PER_RECORD
        if last and addr != 0:
            ev.truncated = 1
        events.submit(ev, BPF_RB_NO_WAKEUP)
        if last:
            return 0
    return 0


@bpf.tracepoint("syscalls/sys_exit_execve")
def execsnoop_exit(ctx):
    ids = uid_gid()
    if uid_filter != 0xFFFFFFFF and u32(ids) != uid_filter:
        return 0
    ev = events.reserve(ExecEvent)
    if ev:
        ev.kind = KIND_RETURN
        ev.pid = pid()
        ev.ppid = current_task().real_parent.tgid
        ev.uid = u32(ids)
        ev.retval = ctx.ret
        ev.comm = comm()
        ev.count = 0
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./execsnoop           # trace all exec() syscalls
    ./execsnoop -x        # include failed exec()s
    ./execsnoop -T        # include time (HH:MM:SS)
    ./execsnoop -U        # include UID
    ./execsnoop -P 181    # only trace new processes whose parent PID is 181
    ./execsnoop -t        # include timestamps
    ./execsnoop -q        # add "quotemarks" around arguments
    ./execsnoop -n main   # only print command lines containing "main"
    ./execsnoop -l tpkg   # only print command where arguments contains "tpkg"
    ./execsnoop -u 1000   # only trace UID 1000
    ./execsnoop --json    # one JSON object per exec
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """BCC's execsnoop options (plus ``--json``); exits 2 with usage on bad input."""
    p = common.make_parser("execsnoop", "Trace exec() syscalls", EXAMPLES)
    p.add_argument("-T", "--time", action="store_true", help="include time column on output "
                   "(HH:MM:SS)")
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp on output")
    p.add_argument("-x", "--fails", action="store_true", help="include failed exec()s")
    p.add_argument("-q", "--quote", action="store_true",
                   help='Add quotemarks (") around arguments.')
    p.add_argument("-n", "--name", type=_regex, metavar="NAME",
                   help="only print commands matching this name (regex), any arg")
    p.add_argument("-l", "--line", type=_regex, metavar="LINE",
                   help="only print commands where arg contains this line (regex)")
    p.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    p.add_argument("-u", "--uid", type=_uid, metavar="USER",
                   help="trace this UID only")
    p.add_argument("-P", "--ppid", type=common.positive_int,
                   help="trace this parent PID only")
    p.add_argument("--max-args", type=_max_args, default=20, metavar="MAX_ARGS",
                   help=f"maximum number of arguments parsed and displayed, defaults to 20 "
                   f"(at most {ARGS_LIMIT})")
    return p.parse_args(argv)


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as err:
        raise argparse.ArgumentTypeError(f"bad regular expression {text!r}: {err}") from None


def _uid(text: str) -> int:
    if text.isdigit():
        return int(text)
    import pwd  # noqa: PLC0415 - only for a user name
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise argparse.ArgumentTypeError(f"no such user {text!r}") from None


def _max_args(text: str) -> int:
    value = common.positive_int(text)
    if value > ARGS_LIMIT:
        raise argparse.ArgumentTypeError(f"at most {ARGS_LIMIT} arguments are supported")
    return value


def build(opts: argparse.Namespace) -> Any:
    """The compiled BPF half (a CompiledCollection) with the options' constants set."""
    return bpf.compile(execsnoop_enter, execsnoop_exit).with_constants({
        max_args: opts.max_args,
        uid_filter: 0xFFFFFFFF if opts.uid is None else opts.uid,
    })


class _Printer:
    """Gathers argument records per pid; prints a line when the return record comes."""

    def __init__(self, opts: argparse.Namespace, writer: common.EventWriter):
        self.opts = opts
        self.writer = writer
        self.pending: dict[int, list[str]] = {}
        self.start_s = time.time()

    def header(self) -> None:
        cols = ""
        if self.opts.time:
            cols += f"{'TIME':<9}"
        if self.opts.timestamp:
            cols += f"{'TIME(s)':<8}"
        if self.opts.print_uid:
            cols += f"{'UID':<6}"
        self.writer.header(cols + f"{'PCOMM':<16} {'PID':<7} {'PPID':<7} {'RET':>3} ARGS")

    def __call__(self, ev: Any) -> None:
        if ev.kind == KIND_ARGS:
            args = self.pending.setdefault(ev.pid, [])
            for raw in (ev.arg0, ev.arg1, ev.arg2, ev.arg3)[:ev.count]:
                arg = common.decode_str(raw)
                if self.opts.quote:
                    arg = '"' + arg.replace('"', '\\"') + '"'
                args.append(arg)
            if ev.truncated:
                args.append("...")
            return
        args = self.pending.pop(ev.pid, [])
        self.show(ev, args)

    def show(self, ev: Any, args: list[str]) -> None:
        opts = self.opts
        name = common.decode_str(ev.comm)
        argv_text = " ".join(args)
        if ev.retval != 0 and not opts.fails:
            return
        if opts.ppid is not None and ev.ppid != opts.ppid:
            return
        if opts.name is not None and not opts.name.search(name):
            return
        if opts.line is not None and not opts.line.search(argv_text):
            return
        now = time.time()
        text = ""
        if opts.time:
            text += f"{time.strftime('%H:%M:%S', time.localtime(now)):<9}"
        if opts.timestamp:
            text += f"{now - self.start_s:<8.3f}"
        if opts.print_uid:
            text += f"{ev.uid:<6d}"
        text += f"{name:<16} {ev.pid:<7d} {ev.ppid:<7d} {ev.retval:>3d} {argv_text}"
        fields = {"time": round(now, 6), "uid": ev.uid, "pcomm": name, "pid": ev.pid,
                  "ppid": ev.ppid, "ret": ev.retval, "args": args}
        self.writer.event(fields, text)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Trace until ``stop`` is set (or a signal arrives as KeyboardInterrupt)."""
    printer = _Printer(opts, common.EventWriter(out, as_json=opts.json))
    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, ExecEvent, printer, writer=printer.writer) as reader:
        printer.header()
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("execsnoop", parse_args, run, argv)
