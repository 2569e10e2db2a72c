"""Compiled programs live in the kernel: an exec tracer, an XDP counter, globals."""

from __future__ import annotations

import os
import subprocess

import pytest

from pybpf.lang import bpf
from tests.lang import progs_e2e as progs

pytestmark = pytest.mark.kernel


def test_exec_tracer_sees_true_with_its_pid_comm_and_parent() -> None:
    compiled = bpf.compile(progs.on_exec)
    seen = []
    with compiled.load() as coll:
        coll.attach()
        with progs.events.reader(seen.append, progs.Event) as reader:
            child = subprocess.Popen(["/bin/true"])
            child.wait()
            reader.consume()
        counts = dict(progs.exec_counts.items())
    mine = [ev for ev in seen if ev.pid == child.pid]
    assert mine, f"no event for pid {child.pid} among {seen[:5]}"
    assert mine[0].comm in (b"true", b"python", os.path.basename(os.sys.executable).encode()[:15])
    assert mine[0].ppid == os.getpid()
    assert counts.get(child.pid) == 1
    with pytest.raises(Exception, match="not loaded"):
        list(progs.exec_counts.items())


def test_xdp_program_counts_packets_sent_through_test_run() -> None:
    compiled = bpf.compile(progs.count_packets)
    with compiled.load() as coll:
        prog = coll.programs["count_packets"]
        for _ in range(3):
            assert prog.test_run(bytes(60)).retval == 2   # XDP_PASS
        prog.test_run(bytes(200), repeat=2)
        assert progs.packets[0] == 3
        assert progs.packets[1] == 2
        assert progs.total_bytes.value == 3 * 1 + 2 * 100


def test_a_verifier_rejection_names_the_python_line(tmp_path) -> None:
    source = (
        "from pybpf.lang import bpf, Hash, u32, u64\n"
        "m = Hash(u32, u64, max_entries=4)\n"
        "@bpf.xdp\n"
        "def bad(ctx):\n"
        "    p = m.lookup(1)\n"
        "    return p[0]\n"        # no NULL check: the verifier refuses the load
    )
    from pybpf.errors import VerifierError
    compiled = bpf.compile_source(source, "bad_prog.py")
    with pytest.raises(VerifierError) as info:
        compiled.load()
    assert "bad_prog.py:6" in str(info.value)
    assert "return p[0]" in str(info.value)
