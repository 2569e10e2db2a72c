"""funccount: count tracepoint hits or user function calls, ``funccount 't:sched:sched_*'``
or ``funccount 'c:str*'`` style, BCC's output.

This kernel has no kprobes, so the patterns name tracepoints, ``t:CATEGORY:EVENT`` (also
``tracepoint:``), or user functions, ``LIB:FUNC`` (also ``u:``/``p:LIB:FUNC``; ``c`` is
libc), shell wildcards in both parts, or ``-r`` for a regular expression on the event or
function. One program counts every tracepoint (or function): each attachment's cookie
(``bpf_get_attach_cookie``, Linux 5.15) is the tracefs event id (the function's index),
the key of the count map.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import sys
import threading
import time
from typing import Any, TextIO

from pybpf.errors import InvalidInputError
from pybpf.lang import Const, Hash, attach_cookie, bpf, pid_tgid, struct, u8, u16, u32, u64
from pybpf.tools import common

__all__ = ["parse_args", "build", "run", "main", "match_tracepoints"]


class TraceEntry(struct):
    """The header every tracepoint record starts with (tracefs ``common_*`` fields)."""

    common_type: u16
    common_flags: u8
    common_preempt_count: u8
    common_pid: u32


only_pid = Const(u32, 0)
hits = Hash(u32, u64, max_entries=4096)     # tracefs event id -> hits


@bpf.uprobe()
def funccount_uhit(ctx):
    if only_pid and (pid_tgid() >> 32) != only_pid:
        return 0
    index: u32 = attach_cookie(ctx)
    hits.increment(index)
    return 0


@bpf.tracepoint("sched/sched_switch", ctx=TraceEntry)
def funccount_hit(ctx):
    if only_pid and (pid_tgid() >> 32) != only_pid:
        return 0
    # each attachment carries its tracepoint's tracefs id as cookie (the record's own
    # common_type is overwritten by the kernel before BPF programs run)
    event_id: u32 = attach_cookie(ctx)
    hits.increment(event_id)
    return 0


def _events_dir() -> str:
    # the same root tracepoint_id() reads ids under (the debugfs view when only it exists)
    from pybpf.kernel.tracefs import tracefs_root
    return os.path.join(tracefs_root(), "events")


def match_tracepoints(pattern: str, *, regexp: bool = False) -> list[tuple[str, str]]:
    """The (category, event) pairs ``pattern`` names. Raises InvalidInputError for a
    pattern that is not a tracepoint one or matches nothing."""
    kind, _, rest = pattern.partition(":")
    if kind not in ("t", "tracepoint") or ":" not in rest:
        raise InvalidInputError(f"pattern {pattern!r}: only tracepoints can be counted here "
                                "(no kprobes): use t:CATEGORY:EVENT, e.g. 't:sched:sched_*'")
    category, _, event = rest.partition(":")
    root = _events_dir()
    found = []
    for cat in sorted(os.listdir(root)):
        if not os.path.isdir(os.path.join(root, cat)) or not fnmatch.fnmatchcase(cat, category):
            continue
        for ev in sorted(os.listdir(os.path.join(root, cat))):
            if not os.path.exists(os.path.join(root, cat, ev, "id")):
                continue
            ok = re.search(event, ev) if regexp else fnmatch.fnmatchcase(ev, event)
            if ok:
                found.append((cat, ev))
    if not found:
        raise InvalidInputError(f"pattern {pattern!r} matches no tracepoint")
    return found


def _event_id(category: str, event: str) -> int:
    with open(os.path.join(_events_dir(), category, event, "id")) as f:
        return int(f.read())


EXAMPLES = """
    ./funccount 't:sched:sched_*'      # count scheduler tracepoints
    ./funccount -i 1 't:syscalls:*open*'  # print counts every second
    ./funccount -p 185 't:sched:*'     # count in PID 185 only
    ./funccount -r 't:block:^block_rq' # a regular expression on the event names
    ./funccount -d 5 't:irq:*'         # trace for 5 seconds
    ./funccount 'c:str*'               # count libc functions starting with "str"
    ./funccount -p 185 c:malloc        # count malloc() calls of PID 185
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = common.make_parser("funccount", "Count tracepoint events and user function "
                                "calls (kprobes are not supported here)", EXAMPLES)
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    parser.add_argument("-i", "--interval", type=common.positive_int,
                        help="summary interval, seconds")
    parser.add_argument("-d", "--duration", type=common.positive_int,
                        help="total duration of trace, seconds")
    parser.add_argument("-T", "--timestamp", action="store_true",
                        help="include timestamp on output")
    parser.add_argument("-r", "--regexp", action="store_true",
                        help="use regular expressions. Default is \"*\" wildcards only.")
    parser.add_argument("pattern", help="search expression for events")
    return parser.parse_args(argv)


def is_tracepoint_pattern(pattern: str) -> bool:
    return pattern.partition(":")[0] in ("t", "tracepoint")


def build(opts: argparse.Namespace) -> Any:
    program = funccount_hit if is_tracepoint_pattern(opts.pattern) else funccount_uhit
    return bpf.compile(program).with_constants({only_pid: opts.pid or 0})


def print_counts(coll: Any, opts: argparse.Namespace, out: TextIO,
                 names: dict[int, str]) -> None:
    view = coll.maps[hits]
    counts = sorted(((names.get(k, str(k)), v) for k, v in view.items()), key=lambda r: r[1])
    view.clear()
    if opts.json:
        for name, n in counts:
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps({"ts": time.strftime("%H:%M:%S"), "func": name, "count": n},
                                 separators=(",", ":")) + "\n")
        out.flush()
        return
    out.write("\n")
    if opts.timestamp:
        out.write(time.strftime("%H:%M:%S") + "\n")
    out.write(f"{'FUNC':<36} {'COUNT':>8}\n")
    for name, n in counts:
        out.write(f"{name:<36} {n:8d}\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    """Count until ``stop``, Ctrl-C or ``-d``; print every ``-i`` seconds and at the end."""
    from pybpf.kernel.links import attach_tracepoint
    from pybpf.tools.uprobes import PendingUprobes, match_functions, split_probe_spec

    tracing = is_tracepoint_pattern(opts.pattern)
    points: list[tuple[str, str]] = []
    offsets: list[int] = []
    probes = PendingUprobes(pid=opts.pid)
    if tracing:
        points = match_tracepoints(opts.pattern, regexp=opts.regexp)
        names = {_event_id(c, e): f"{c}:{e}" for c, e in points}
    else:
        binary, func_pattern = split_probe_spec(opts.pattern)
        functions = match_functions(binary, func_pattern, regexp=opts.regexp)
        names = dict(enumerate(functions))
        offsets = list(functions.values())
        probes.add("funccount_uhit", binary, offsets)
    with probes, probes.load(build(opts)) as coll:
        if tracing:
            program = coll.programs["funccount_hit"]
            for category, event in points:
                coll.links.append(attach_tracepoint(program, category, event,
                                                    cookie=_event_id(category, event)))
        else:
            probes.attach(coll)
        if not opts.json:
            out.write(f'Tracing {len(points) + len(offsets)} functions for '
                      f'"{opts.pattern}"... '
                      "Hit Ctrl-C to end.\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration,
                                      interval_s=opts.interval,
                                      on_interval=(lambda: print_counts(coll, opts, out, names))
                                      if opts.interval else None)
        except KeyboardInterrupt:
            print_counts(coll, opts, out, names)
            if not opts.json:
                out.write("Detaching...\n")
            raise
        print_counts(coll, opts, out, names)
        if not opts.json:
            out.write("Detaching...\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return common.tool_main("funccount", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
