"""Time to ready of every pybpf tool, with cached bytecode, beside bpftrace's equivalent
one-liner: issue 14's goal is every tool ready in <= 100 ms (issue 19's was 150 ms).

"Ready" is the first line a tool prints once its programs are attached (its header or
banner), read from a pipe; wall time from spawning ``python -m pybpf TOOL`` to that line,
and the tool's CPU time meanwhile (all threads, /proc/PID/task/*/schedstat). Bytecode is
cached as a pip-installed pybpf runs (PYTHONPYCACHEPREFIX, warmed by one run first). The
bpftrace column is the wall time to its "Attaching N probes" line for a one-liner on the
same probes. Medians of ``--runs`` runs (default 5). On a machine other work keeps busy,
"less run-queue wait" (the wall time less the time the tool's main thread was runnable
but waiting for a CPU) estimates what an idle machine gives; the goal is judged on the
wall time of a quiet run.

Left out, with the reason printed under the table: the tools whose probes this kernel
lacks (they stop at once, saying so) and the ones that print nothing until an event or
an interval (ttysnoop, argdist: BCC's do the same).

Run as root: .venv/bin/python bench/bench_tools_startup.py [--only a,b] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tools_overhead import STARTUP_TOOLS, time_to_ready_s  # noqa: E402

PYTHON = sys.executable
GOAL_MS = 100
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
LIBSSL = "/lib/x86_64-linux-gnu/libssl.so.3"

# issue 19's tools: (arguments, the line prefix printed once attached, bpftrace one-liner)
NEW_TOOLS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "sigsnoop": ((), "TIME", ('tracepoint:signal:signal_generate { printf("%d %s %d %d\\n", '
                 "pid, comm, args->sig, args->pid); }")),
    "biosnoop": ((), "TIME(s)", ("tracepoint:block:block_rq_issue { @s[args->dev, "
                 "args->sector] = nsecs; } tracepoint:block:block_rq_complete /@s[args->dev, "
                 'args->sector]/ { printf("%d\\n", nsecs - @s[args->dev, args->sector]); '
                 "delete(@s[args->dev, args->sector]); }")),
    "bitesize": ((), "Tracing", ("tracepoint:block:block_rq_issue { @[comm] = "
                 "hist(args->bytes / 1024); }")),
    "biopattern": ((), "Tracing", ("tracepoint:block:block_rq_complete { @[args->dev] = "
                   "count(); }")),
    "biotop": (("-C",), "Tracing", ("tracepoint:block:block_rq_issue { @[pid, comm] = "
               "count(); }")),
    "threadsnoop": ((), "TIME(ms)", (f'uprobe:{LIBC}:pthread_create {{ printf("%d %s\\n", '
                    "pid, comm); }")),
    "gethostlatency": ((), "TIME", (f"uprobe:{LIBC}:getaddrinfo {{ @s[tid] = nsecs; }} "
                       f"uretprobe:{LIBC}:getaddrinfo /@s[tid]/ {{ "
                       'printf("%d\\n", nsecs - @s[tid]); delete(@s[tid]); }')),
    "setuids": ((), "TIME", ('tracepoint:syscalls:sys_enter_setuid { printf("%d %d\\n", '
                "pid, args->uid); }")),
    "shmsnoop": ((), "PID", 'tracepoint:syscalls:sys_enter_shmget { printf("%d\\n", pid); }'),
    "pidpersec": ((), "Tracing", "tracepoint:sched:sched_process_fork { @ = count(); }"),
    "tcpretrans": ((), "TIME", ('tracepoint:tcp:tcp_retransmit_skb { printf("%d\\n", '
                   "args->state); }")),
    "tcpdrop": ((), "TIME", 'tracepoint:skb:kfree_skb { printf("%d\\n", args->reason); }'),
    "tcpconnlat": ((), "PID", ("tracepoint:sock:inet_sock_set_state /args->newstate == 2/ "
                   "{ @s[args->skaddr] = nsecs; }")),
    "solisten": ((), "PID", ('tracepoint:syscalls:sys_enter_listen { printf("%d %d\\n", '
                 "pid, args->backlog); }")),
    "tcptop": (("-C",), "Tracing", ("tracepoint:sock:sock_send_length { @[pid, comm] = "
               "sum(args->ret); }")),
    "bindsnoop": ((), " ", 'tracepoint:syscalls:sys_enter_bind { printf("%d\\n", pid); }'),
    "runqslower": ((), "Tracing", "tracepoint:sched:sched_wakeup { @[args->pid] = nsecs; }"),
    "funclatency": (("c:getppid",), "Tracing", (f"uprobe:{LIBC}:getppid {{ @s[tid] = nsecs; "
                    f"}} uretprobe:{LIBC}:getppid {{ @ = hist(nsecs - @s[tid]); }}")),
    "funcslower": (("c:usleep",), "Tracing", (f"uprobe:{LIBC}:usleep {{ @s[tid] = nsecs; }} "
                   f'uretprobe:{LIBC}:usleep {{ printf("%d\\n", nsecs - @s[tid]); }}')),
    "stackcount": (("c:getppid",), "Tracing", (f"uprobe:{LIBC}:getppid {{ @[ustack] = "
                   "count(); }")),
    "memleak": ((), "Attaching", ("tracepoint:kmem:kmalloc { @[kstack] = "
                "sum(args->bytes_alloc); }")),
    "sslsniff": ((), "FUNC", f'uprobe:{LIBSSL}:SSL_write {{ printf("%d\\n", arg2); }}'),
    "vfsstat": ((), "TIME", "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }"),
    "mdflush": ((), "Tracing", ('tracepoint:block:block_bio_queue { printf("%s\\n", '
                "args->rwbs); }")),
    "tcprtt": ((), "Tracing", "tracepoint:tcp:tcp_probe { @ = hist(args->srtt); }"),
    "wakeuptime": ((), "Tracing", "tracepoint:sched:sched_waking { @[kstack] = count(); }"),
    "runqlen": ((), "Sampling", "profile:hz:99 { @ = count(); }"),
    "filetop": (("-C",), "Tracing", ("tracepoint:syscalls:sys_exit_read { @[comm] = "
                "sum(args->ret); }")),
    "klockstat": ((), "Tracing", "tracepoint:lock:contention_begin { @[kstack] = count(); }"),
    "compactsnoop": ((), "COMM", "tracepoint:compaction:mm_compaction_begin { @ = count(); }"),
    "tcpsubnet": ((), "Tracing", "tracepoint:sock:sock_send_length { @[comm] = count(); }"),
    "numasched": ((), "TIME", "tracepoint:sched:sched_migrate_task { @ = count(); }"),
    "filegone": ((), "TIME", "tracepoint:syscalls:sys_enter_unlinkat { @ = count(); }"),
    "fileslower": ((), "Tracing", "tracepoint:syscalls:sys_exit_read { @[comm] = count(); }"),
    "slabratetop": (("-C",), "Tracing", ("tracepoint:kmem:kmem_cache_alloc { @[args->name] = "
                    "count(); }")),
}
LEFT_OUT = {
    "vfscount": "kprobes only (absent here)",
    "dirtop": "needs -d directories",
    "netqtop": "prints at intervals (and needs -n)",
    "biolatpcts": "prints at intervals",
    "dcsnoop": "kprobes only (absent here)", "cachestat": "kprobes only (absent here)",
    "tcpsynbl": "kprobes only (absent here)", "swapin": "kprobes only (absent here)",
    "llcstat": "hardware cache events (no CPU PMU here)",
    "ttysnoop": "prints nothing until the tty is written", "argdist": "prints at intervals",
}


def _one_liners() -> dict[str, str]:
    from bench_tools_hist import TOOLS as HIST
    from bench_tools_net_prof import TOOLS as NET_PROF
    from bench_tools_snoop import BPFTRACE as SNOOP
    found = dict(SNOOP)
    found.update({name: script for name, (_, script) in HIST.items()})
    found.update({name: script for name, (_, script) in NET_PROF.items()})
    found.update({name: script for name, (_, _, script) in NEW_TOOLS.items() if script})
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="a comma-separated list of tools")
    parser.add_argument("--runs", type=int, default=5, help="runs per tool (default 5)")
    parser.add_argument("--no-bpftrace", action="store_true", help="skip the bpftrace column")
    parser.add_argument("--quick", action="store_true", help="2 runs per tool")
    args = parser.parse_args()
    if args.quick:
        args.runs = 2
    if os.geteuid() != 0:
        sys.exit("run as root")
    only = set(args.only.split(",")) if args.only else None
    tools = {name: (argv, prefix) for name, (argv, prefix) in STARTUP_TOOLS.items()}
    tools.update({name: (argv, prefix) for name, (argv, prefix, _) in NEW_TOOLS.items()})
    one_liners = _one_liners()
    have_bpftrace = shutil.which("bpftrace") is not None and not args.no_bpftrace
    over = []
    with tempfile.TemporaryDirectory() as tmp:
        cached = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPYCACHEPREFIX=f"{tmp}/pyc")
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        print(f"| tool | pybpf ready, cached .pyc: wall (ms) | CPU (ms) | wall less run-queue "
              f"wait (ms) | <= {GOAL_MS} ms | bpftrace one-liner: wall (ms) |")
        print("|---|---:|---:|---:|:---:|---:|")
        for tool, (argv, prefix) in tools.items():
            if only and tool not in only:
                continue
            command = [PYTHON, "-m", "pybpf", tool, *argv]
            time_to_ready_s(command, prefix, cached)   # warm the bytecode cache
            runs = [time_to_ready_s(command, prefix, cached) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs) * 1000
            cpu = statistics.median(r[1] for r in runs) * 1000
            alone = statistics.median(r[2] for r in runs) * 1000
            theirs = "n/a"
            if have_bpftrace and tool in one_liners:
                theirs = "{:.0f}".format(1000 * statistics.median(
                    time_to_ready_s(["bpftrace", "-e", one_liners[tool]], "Attaching",
                                    cached)[0] for _ in range(args.runs)))
            if wall > GOAL_MS:
                over.append(tool)
            print(f"| {tool} | {wall:.0f} | {cpu:.0f} | {alone:.0f} | "
                  f"{'yes' if wall <= GOAL_MS else 'no'} | {theirs} |", flush=True)
    print()
    for tool, why in LEFT_OUT.items():
        if not only or tool in only:
            print(f"- {tool}: not timed ({why})")
    print(f"\nover {GOAL_MS} ms: {', '.join(over) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
