"""perf_event: sampling at a frequency on every CPU fires the program on each of them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pybpf.errors import InvalidInputError, NotSupportedError
from pybpf.kernel import Program
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.links.perf_event import PerfHwConfig, attach_perf_event, online_cpus
from pybpf.spec import ProgramType

from .test_tracing_programs import count_of, counter_spec, counts_map, kernel_leak_check

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]

SPIN = ("import os, sys, time\nos.sched_setaffinity(0, {int(sys.argv[1])})\n"
        "end = time.monotonic() + 0.4\nwhile time.monotonic() < end: pass\n")


def _per_cpu_program(counts):  # type: ignore[no-untyped-def]
    return Program.load(counter_spec("pe_cpu", ProgramType.PERF_EVENT, key="cpu"),
                        maps={"counts": counts})


def test_sampling_fires_on_every_cpu() -> None:
    cpus = online_cpus()
    with counts_map() as counts, _per_cpu_program(counts) as prog:
        with attach_perf_event(prog, sample_freq=1000) as link:
            # an idle CPU takes no cpu-clock samples: keep each one busy for a while
            spinners = [subprocess.Popen([sys.executable, "-c", SPIN, str(cpu)])
                        for cpu in cpus]
            for spinner in spinners:
                assert spinner.wait() == 0
            assert f"on {len(cpus)} CPUs" in repr(link)
        total = {cpu: count_of(counts, cpu) for cpu in cpus}
    assert all(n > 0 for n in total.values()), total


def test_period_sampling_for_one_process() -> None:
    with counts_map() as counts, _per_cpu_program(counts) as prog:
        spinner = subprocess.Popen([sys.executable, "-c", SPIN, "0"])
        try:
            with attach_perf_event(prog, type=bpfsys.PerfType.SOFTWARE,
                                   config=bpfsys.PerfSwConfig.TASK_CLOCK,
                                   sample_period=1_000_000, pid=spinner.pid):
                assert spinner.wait() == 0
        finally:
            spinner.wait()
        assert count_of(counts, 0) > 0  # it ran on CPU 0 only


def test_hardware_counters_without_a_pmu_are_not_supported() -> None:
    if os.path.isdir("/sys/bus/event_source/devices/cpu"):
        pytest.skip("this machine has a CPU PMU: hardware events exist")
    with counts_map() as counts, _per_cpu_program(counts) as prog:
        with pytest.raises(NotSupportedError, match="hardware event hardware cpu_cycles"):
            attach_perf_event(prog, type=bpfsys.PerfType.HARDWARE,
                              config=PerfHwConfig.CPU_CYCLES, sample_freq=99)


def test_bad_arguments_are_refused_first() -> None:
    with counts_map() as counts, _per_cpu_program(counts) as prog:
        with pytest.raises(InvalidInputError, match="exactly one of sample_freq"):
            attach_perf_event(prog)
        with pytest.raises(InvalidInputError, match="exactly one of sample_freq"):
            attach_perf_event(prog, sample_freq=1, sample_period=1)
        with pytest.raises(InvalidInputError, match="bad sampling rate"):
            attach_perf_event(prog, sample_freq=0)
        with pytest.raises(InvalidInputError, match="bad CPU list"):
            attach_perf_event(prog, sample_freq=99, cpus=[])
    with counts_map() as counts, Program.load(counter_spec("pe_tp", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="needs a PERF_EVENT program"):
            attach_perf_event(prog, sample_freq=99)


def test_online_cpus_parses_the_kernel_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    listing = tmp_path / "online"
    listing.write_text("0-2,5,7-8\n")
    assert online_cpus(str(listing)) == [0, 1, 2, 5, 7, 8]
    assert online_cpus() == sorted(online_cpus())
