"""BPF iterators in pybpf.lang: @bpf.iter("task") reads BTF pointers with plain loads
(ctx.task, NULL at the end) and writes lines with seq_print or records with seq_write;
reading the link runs the walk."""

from __future__ import annotations

import os
import struct as pystruct

import pytest

from pybpf.lang import bpf, seq_print, seq_write, struct, u32
from pybpf.spec import AttachType, ProgramType

pytestmark = pytest.mark.kernel


@bpf.iter("task")
def task_lines(ctx):
    task = ctx.task
    if not task:
        return 0
    if task.tgid == task.pid:
        seq_print(ctx, task.pid, task.comm)
    return 0


class Rec(struct):
    pid: u32
    ppid: u32


@bpf.iter("task")
def task_records(ctx):
    task = ctx.task
    if task and task.tgid == task.pid:
        rec = Rec()
        rec.pid = task.pid
        rec.ppid = task.real_parent.tgid
        seq_write(ctx, rec)
    return 0


def _read(decl) -> bytes:  # type: ignore[no-untyped-def]
    compiled = bpf.compile(decl)
    spec = compiled.spec.programs[decl.name]
    assert (spec.section, spec.type, spec.attach_type) == (
        "iter/task", ProgramType.TRACING, AttachType.TRACE_ITER)
    with compiled.load() as coll:
        (link,) = coll.attach()
        out = link.read()
    return out if isinstance(out, bytes) else out.encode()


def test_seq_print_lists_every_process_with_its_name() -> None:
    lines = _read(task_lines).decode().splitlines()
    mine = [ln for ln in lines if ln.split()[0] == str(os.getpid())]
    with open(f"/proc/{os.getpid()}/comm") as f:
        assert mine == [f"{os.getpid()} {f.read().strip()}"]
    assert len(lines) >= 10


def test_seq_write_sends_records() -> None:
    raw = _read(task_records)
    recs = dict(pystruct.iter_unpack("<II", raw))
    assert recs[os.getpid()] == os.getppid()
