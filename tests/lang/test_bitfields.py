"""Bitfields of kernel structs: read with the smallest load covering their bits, shifted
and masked; checked against the raw word read at the offsets BTF gives."""

from __future__ import annotations

import subprocess

import pytest

from pybpf.btf import Struct, load_kernel_spec
from pybpf.lang import Hash, bpf, cast, current_task, pid, probe_read_kernel, u32, u64

pytestmark = pytest.mark.kernel

FIELDS = ["user_dumpable", "in_execve", "init_private_fork_class", "in_iowait"]
# pid -> the four fields and the word holding them, as the task's exec runs
got = Hash(u32, (u64, u64, u64, u64, u64), max_entries=1024)


def _members() -> dict[str, tuple[int, int]]:
    task = load_kernel_spec().find("task_struct", Struct)
    return {m.name: (m.bit_offset, m.bitfield_size) for m in task.members if m.name in FIELDS}


MEMBERS = _members()
WORD = min(off for off, _ in MEMBERS.values()) // 64 * 8    # the u64 holding them all


@bpf.tracepoint("sched/sched_process_exec")       # inside the exec: in_execve is 1
def read_bits(ctx):
    task = current_task()
    got[pid()] = (task.user_dumpable, task.in_execve, task.init_private_fork_class,
                  task.in_iowait, probe_read_kernel(u64, cast(u64, task) + WORD))
    return 0


def test_bitfields_read_what_the_word_holds() -> None:
    assert all(size for _, size in MEMBERS.values()), MEMBERS   # they are bitfields
    assert max(off + size for off, size in MEMBERS.values()) <= WORD * 8 + 64
    with bpf.compile(read_bits).load() as coll:
        coll.attach()
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        values = coll.maps[got][child.pid]
    word = values[-1]
    assert values[1] == 1                     # in_execve, during the exec
    for name, value in zip(FIELDS, values):
        off, size = MEMBERS[name]
        assert value == (word >> (off - WORD * 8)) & ((1 << size) - 1), name
