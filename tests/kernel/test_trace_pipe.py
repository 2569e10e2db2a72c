"""bpf_printk text read back from tracefs trace_pipe."""

from __future__ import annotations

import random
import time

import pytest

from pybpf.errors import ClosedError, KernelError
from pybpf.kernel.trace_pipe import TracePipe, parse_trace_line
from tests.kernel.test_ringbuf import Producers


@pytest.mark.kernel
def test_bpf_printk_text_appears_in_trace_pipe():
    with Producers() as producers, TracePipe() as pipe:
        # start the counter somewhere no other test's printk could be
        first = random.randrange(1 << 40, 1 << 48)
        producers.maps["counters"].update(0, first)
        producers.run("printk", 3)
        wanted = {f"pybpf-readers seq={first + i}" for i in range(3)}
        found = []
        deadline = time.monotonic() + 10
        while wanted - {line.message for line in found} and time.monotonic() < deadline:
            found += [line for line in pipe.read_lines(500) if line.message in wanted]
        assert sorted(line.message for line in found) == sorted(wanted)
        assert all(line.function == "bpf_trace_printk" and line.pid >= 0 and line.cpu >= 0
                   for line in found)


@pytest.mark.kernel
def test_read_lines_times_out_empty_handed_or_returns_lines():
    with TracePipe() as pipe:
        started = time.monotonic()
        lines = pipe.read_lines(50)  # other tracing may be running: either outcome is fine
        assert lines or time.monotonic() - started >= 0.045
    with pytest.raises(ClosedError, match="trace_pipe"):
        pipe.read_lines()


def test_a_missing_tracefs_is_a_kernel_error(tmp_path):
    with pytest.raises(KernelError, match="trace_pipe.*ENOENT"):
        TracePipe(str(tmp_path))


def test_trace_lines_are_split_into_fields():
    line = parse_trace_line("           <...>-4242    [001] d..31  1234.567890: "
                            "bpf_trace_printk: pybpf-readers seq=7")
    assert (line.task, line.pid, line.cpu, line.flags, line.function, line.message) == \
        ("<...>", 4242, 1, "d..31", "bpf_trace_printk", "pybpf-readers seq=7")
    assert line.timestamp_s == pytest.approx(1234.56789)
    with_tgid = parse_trace_line(" python3-fast-9 (    9) [000] ....  5.000001: "
                                 "bpf_trace_printk: a: b")
    assert (with_tgid.task, with_tgid.pid, with_tgid.message) == ("python3-fast", 9, "a: b")
    no_flags = parse_trace_line("  sh-12 [003] 99.5: bpf_trace_printk: x")
    assert (no_flags.flags, no_flags.cpu, no_flags.message) == ("", 3, "x")
    other = parse_trace_line("CPU:1 [LOST 3 EVENTS]")
    assert other.message == other.raw == "CPU:1 [LOST 3 EVENTS]" and other.pid == -1
