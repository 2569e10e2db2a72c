"""numasched: trace task migrations between NUMA nodes, like BCC's numasched.

The ``tp_btf`` form of ``sched:sched_migrate_task`` hands the task and the CPU it moves
to; the CPU it leaves is the task's ``thread_info.cpu``. CPUs are mapped to nodes from
/sys/devices/system/node; migrations within one node are left out unless ``-a``::

    TIME     COMM             PID     TID     SRC_NID DST_NID
    12:05:31 stress-ng        12093   12093   0       1
"""

from __future__ import annotations

import argparse
import glob
import os
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Const, RingBuf, bpf, bytes16, kernel_struct, struct, u32
from . import common

__all__ = ["parse_args", "build", "run", "main", "cpu_nodes"]


class MigrateEvent(struct):
    pid: u32
    tid: u32
    src_cpu: u32
    dst_cpu: u32
    comm: bytes16


events = RingBuf(max_entries=1 << 18)
only_pid = Const(u32, 0)


@bpf.tp_btf("sched_migrate_task")
def numasched_migrate(ctx):
    # sched_migrate_task(struct task_struct *p, int dest_cpu)
    task = kernel_struct("task_struct", ctx.arg0)
    if only_pid != 0 and task.tgid != only_pid:
        return 0
    ev = events.reserve(MigrateEvent)
    if ev:
        ev.pid = task.tgid
        ev.tid = task.pid
        ev.src_cpu = task.thread_info.cpu
        ev.dst_cpu = u32(ctx.arg1)
        ev.comm = task.comm
        events.submit(ev)
    return 0


def _cpus(text: str) -> list[int]:
    cpus: list[int] = []
    for part in filter(None, text.strip().split(",")):
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def cpu_nodes(root: str = "/sys/devices/system/node") -> dict[int, int]:
    """CPU number -> NUMA node (every CPU on node 0 without NUMA information)."""
    nodes: dict[int, int] = {}
    for path in glob.glob(os.path.join(root, "node[0-9]*", "cpulist")):
        node = int(os.path.basename(os.path.dirname(path))[4:])
        with open(path) as f:
            for cpu in _cpus(f.read()):
                nodes[cpu] = node
    return nodes


EXAMPLES = """\
    ./numasched           # trace task migrations between NUMA nodes
    ./numasched -p 185    # PID 185 only
    ./numasched -a        # every migration, within a node too
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("numasched", "Trace task NUMA switch", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-a", "--all", action="store_true",
                   help="also show migrations within one node")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(numasched_migrate).with_constants({only_pid: opts.pid or 0})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    nodes = cpu_nodes()

    def show(ev: Any) -> None:
        src, dst = nodes.get(ev.src_cpu, 0), nodes.get(ev.dst_cpu, 0)
        if src == dst and not opts.all:
            return
        name = common.decode_str(ev.comm)
        writer.event({"comm": name, "pid": ev.pid, "tid": ev.tid, "src_nid": src,
                      "dst_nid": dst, "src_cpu": ev.src_cpu, "dst_cpu": ev.dst_cpu},
                     f"{common.wall_clock_hms():<8} {name:<16} {ev.pid:<7d} {ev.tid:<7d} "
                     f"{src:<7d} {dst}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, MigrateEvent, show, writer=writer) as reader:
        writer.header(f"{'TIME':<8} {'COMM':<16} {'PID':<7} {'TID':<7} {'SRC_NID':<7} DST_NID")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("numasched", parse_args, run, argv)
