"""llcstat: where the machine has a CPU PMU, this process's cache references are counted;
where it has none (a virtual machine), the tool says at start that the hardware event is
missing, exit 1."""

from __future__ import annotations

import os

import pytest

from pybpf.errors import NotSupportedError
from pybpf.kernel.links.perf_event import PerfHwConfig, attach_perf_event
from pybpf.kernel.sys import PerfType
from pybpf.tools import llcstat
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel


def _hardware_cache_events() -> bool:
    """Whether the kernel opens a cache-miss counter here (asked of the kernel itself)."""
    with llcstat.build(llcstat.parse_args([])).load() as coll:
        try:
            attach_perf_event(coll.programs["llcstat_miss"], type=PerfType.HARDWARE,
                              config=PerfHwConfig.CACHE_MISSES, sample_period=1000).close()
        except NotSupportedError:
            return False
    return True


def test_counts_or_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    if not _hardware_cache_events():
        assert llcstat.main(["1"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("llcstat: ") and "hardware event" in err
        assert "no PMU here offers it" in err
        return
    run = run_tool(llcstat, ["-c", "1000", "1"],
                   action=lambda: [bytearray(1 << 20) for _ in range(50)], timeout_s=2.0,
                   leaves_nothing=True)
    rows = [ln.split() for ln in run.lines if ln.startswith(str(os.getpid()) + " ")]
    assert rows and sum(int(r[3]) for r in rows) > 0
