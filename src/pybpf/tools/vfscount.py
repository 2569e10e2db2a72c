"""vfscount: count calls of the kernel's VFS functions (vfs_read, vfs_write, vfs_open...),
like BCC's vfscount.

One kprobe program is attached to each ``vfs_*`` function the kernel exports in
/proc/kallsyms, its bpf cookie the function's index, and counts calls per function.
Kernel functions need kprobes: on a kernel without them the tool says so at start (the
system calls behind the VFS are counted by ``vfsstat`` and ``syscount``)::

    ADDR             FUNC                          COUNT
    ffffffffa1304d21 vfs_write                        18
    ffffffffa13048a1 vfs_read                        132
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Hash, attach_cookie, bpf, u32, u64
from . import common
from .kprobes import require_kprobes

__all__ = ["parse_args", "build", "run", "main", "vfs_functions"]

calls = Hash(u32, u64, max_entries=1024)


@bpf.kprobe("vfs_read")
def vfscount_call(ctx):
    index: u32 = attach_cookie(ctx)
    calls.increment(index)
    return 0


def vfs_functions(path: str = "/proc/kallsyms") -> list[tuple[int, str]]:
    """(address, name) of the kernel's global ``vfs_*`` text symbols."""
    found = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in ("T", "t") and parts[2].startswith("vfs_") \
                    and len(parts) == 3:
                found.append((int(parts[0], 16), parts[2]))
    return sorted(set(found), key=lambda f: f[1])


EXAMPLES = """\
    ./vfscount        # count VFS calls until Ctrl-C
    ./vfscount 10     # for 10 seconds
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("vfscount", "Count VFS calls (vfs_* kernel functions)", EXAMPLES)
    p.add_argument("duration", nargs="?", type=common.positive_int,
                   help="duration of trace, in seconds")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(vfscount_call)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    functions = vfs_functions()
    require_kprobes([f"vfs_* ({len(functions)} functions)"])
    from ..kernel.links.kprobe import attach_kprobe  # noqa: PLC0415 - kernel on use

    with build(opts).load() as coll:
        program = coll.programs["vfscount_call"]
        for i, (_, name) in enumerate(functions):
            coll.links.append(attach_kprobe(program, name, cookie=i))
        if not opts.json:
            out.write("Tracing... Ctrl-C to end.\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration)
        finally:
            counts = sorted(coll.maps[calls].items(), key=lambda kv: kv[1])
            if not opts.json:
                out.write(f"\n{'ADDR':<16} {'FUNC':<26} {'COUNT':>8}\n")
            for index, n in counts:
                address, name = functions[index] if index < len(functions) else (0, "?")
                if opts.json:
                    import json  # noqa: PLC0415 - only --json needs it
                    out.write(json.dumps({"addr": f"{address:x}", "func": name, "count": n},
                                         separators=(",", ":")) + "\n")
                else:
                    out.write(f"{address:016x} {name:<26} {n:8d}\n")
            out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("vfscount", parse_args, run, argv)
