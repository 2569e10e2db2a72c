"""Test-wide rules.

Kernel tests (``@pytest.mark.kernel``) run where the bpf() syscall works and skip with a
reason elsewhere. With PYBPF_REQUIRE_KERNEL=1 (set by .ci/run when bpf() works), a skipped
kernel test fails the run instead: on our machines those tests must really run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.kernel_probe import bpf_syscall_works

# Property tests judge results, never speed: on a loaded machine Hypothesis's per-example
# deadline (200 ms) and its "input generation is slow" check fail tests that are right.
# Tests that set their own settings keep these unless they say otherwise.
settings.register_profile("pybpf", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pybpf")

_REQUIRE_KERNEL = os.environ.get("PYBPF_REQUIRE_KERNEL") == "1"
_kernel_ok: bool | None = None


def _kernel_available() -> bool:
    global _kernel_ok
    if _kernel_ok is None:
        _kernel_ok = bpf_syscall_works()
    return _kernel_ok


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") and not _kernel_available():
        if _REQUIRE_KERNEL:
            pytest.fail("kernel test cannot use bpf() but PYBPF_REQUIRE_KERNEL=1")
        pytest.skip("needs the bpf() syscall (root or CAP_BPF)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[type-arg]
    outcome = yield
    report = outcome.get_result()
    # an expected failure (xfail) is reported as skipped too: it stays what it is
    if (_REQUIRE_KERNEL and report.skipped and not hasattr(report, "wasxfail")
            and item.get_closest_marker("kernel")):
        report.outcome = "failed"
        report.longrepr = f"kernel test skipped under PYBPF_REQUIRE_KERNEL=1: {report.longrepr}"
