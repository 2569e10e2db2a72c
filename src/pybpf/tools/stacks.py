"""Counted stacks, as profile and offcputime collect and print them.

Their BPF halves count into a ``Hash`` keyed by (pid, user stack id, kernel stack id,
comm) beside a STACK_TRACE map; :func:`collect_stacks` reads both into symbolised stacks
(:mod:`pybpf.tools.symbols`), and :func:`write_stack_report` prints them as BCC does
(stacks with counts, least frequent first), folded, as JSON, and/or as a flame graph SVG.
"""

from __future__ import annotations

import errno
from typing import Any, TextIO

from pybpf.tools import common
from pybpf.tools.symbols import Symbolizer

__all__ = ["StackCounts", "collect_stacks", "folded_frames", "write_folded", "write_stacks",
           "write_stack_report"]


# one counted stack: (comm, pid, user frames leaf first, kernel frames leaf first, count),
# a frame list None when its stack id was an error (the stack was lost)
StackCounts = list[tuple[str, int, "list[str] | None", "list[str] | None", int]]


# bpf_get_stackid's -EFAULT: no stack of that kind at the sample (a kernel stack while
# in user mode): an empty stack, not a lost one (BCC treats it the same way)
_NO_STACK = -errno.EFAULT


def _frames(stacks: Any, stack_id: int, name: Any) -> list[str] | None:
    if stack_id == _NO_STACK:
        return []
    if stack_id < 0:
        return None
    try:
        addresses = stacks[stack_id]
    except Exception:   # noqa: BLE001 - evicted by a later hash collision
        return None
    # every frame but the leaf is a return address: look up the byte before it, so a call
    # that never returns (the last instruction of a function) names its caller
    return [name(a if i == 0 else a - 1) for i, a in enumerate(addresses)]


def collect_stacks(counts: Any, stacks: Any, symbols: Symbolizer, *,
                   user: bool = True, kernel: bool = True,
                   skip_kernel_prefixes: tuple[str, ...] = ()) -> StackCounts:
    """Read a (key -> count) hash and its stack map into symbolised stacks, least
    frequent first (BCC's order). Leading kernel frames whose names start with one of
    ``skip_kernel_prefixes`` (the BPF program and tracepoint glue) are dropped."""
    merged: dict[tuple[Any, ...], int] = {}
    for key, count in counts.items():
        if user and key.pid:
            symbols.remember(key.pid)
        ustack = _frames(stacks, key.user_stack_id,
                         lambda a, pid=key.pid: symbols.user_name(pid, a)) if user else []
        kstack = _frames(stacks, key.kernel_stack_id, symbols.kernel_name) if kernel else []
        while kstack and skip_kernel_prefixes and kstack[0].startswith(skip_kernel_prefixes):
            kstack.pop(0)
        # stacks that differ only in addresses inside the same functions print as one
        ident = (common.decode_str(key.name), key.pid,
                 None if ustack is None else tuple(ustack),
                 None if kstack is None else tuple(kstack))
        merged[ident] = merged.get(ident, 0) + int(count)
    result: StackCounts = [(name, pid, None if u is None else list(u),
                            None if k is None else list(k), n)
                           for (name, pid, u, k), n in merged.items()]
    result.sort(key=lambda item: item[4])
    return result


def folded_frames(item: tuple[str, int, Any, Any, int], *, delimited: bool = False,
                  annotate: bool = False, user: bool = True, kernel: bool = True
                  ) -> list[str]:
    """A stack as folded frames, root first: comm, user frames, then kernel frames."""
    name, _pid, ustack, kstack, _count = item
    line = [name]
    if user:
        line.extend(["[Missed User Stack]"] if ustack is None else reversed(ustack))
    if kernel:
        if delimited and ustack and kstack:
            line.append("-")
        suffix = "_[k]" if annotate else ""
        line.extend(["[Missed Kernel Stack]"] if kstack is None else
                    (f + suffix for f in reversed(kstack)))
    return line


def write_folded(stacks: StackCounts, out: TextIO, **options: Any) -> None:
    for item in stacks:
        out.write(";".join(folded_frames(item, **options)) + f" {item[4]}\n")


def write_stacks(stacks: StackCounts, out: TextIO, *, delimited: bool = False,
                 annotate: bool = False, user: bool = True, kernel: bool = True) -> None:
    """BCC's multi-line form: kernel frames, ``--``, user frames (leaf first), then
    ``-  comm (pid)`` and the count."""
    for name, pid, ustack, kstack, count in stacks:
        if kernel:
            if kstack is None:
                out.write("    [Missed Kernel Stack]\n")
            else:
                for frame in kstack:
                    out.write(f"    {frame}{'_[k]' if annotate else ''}\n")
        if user:
            if delimited and kernel and ustack and kstack:
                out.write("    --\n")
            if ustack is None:
                out.write("    [Missed User Stack]\n")
            else:
                for frame in ustack:
                    out.write(f"    {frame}\n")
        out.write("    %-16s %s (%d)\n" % ("-", name, pid))
        out.write(f"        {count}\n\n")


def write_stack_report(stacks: StackCounts, out: TextIO, *, as_json: bool, folded: bool,
                       svg_path: str | None, svg_title: str, svg_unit: str, count_field: str,
                       **shape: Any) -> None:
    """Print ``stacks`` as JSON lines (``count_field`` names the count), folded lines, or
    BCC's multi-line form, and write a flame graph to ``svg_path`` when given; ``shape``
    is :func:`folded_frames`' options (delimited, annotate, user, kernel)."""
    if svg_path:
        from pybpf.tools.flamegraph import write_svg  # noqa: PLC0415
        write_svg([(folded_frames(s, **shape), s[4]) for s in stacks], svg_path,
                  title=svg_title, unit=svg_unit)
    if as_json:
        writer = common.EventWriter(out, as_json=True)
        for item in stacks:
            writer.event({"comm": item[0], "pid": item[1], "user_stack": item[2],
                          "kernel_stack": item[3], count_field: item[4]}, "")
    elif folded:
        write_folded(stacks, out, **shape)
    else:
        write_stacks(stacks, out, **shape)
    out.flush()
