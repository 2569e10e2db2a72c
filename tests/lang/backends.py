"""Run one compiled program on both backends: the VM always, the kernel when marked."""

from __future__ import annotations

import subprocess
import warnings
from typing import Any

import pytest

from pybpf.vm import UnverifiedWarning

BACKENDS = ["vm", pytest.param("kernel", marks=pytest.mark.kernel)]


def load(compiled: Any, backend: str) -> Any:
    """``compiled`` loaded into ``backend``; in the VM pybpf's verifier may not know every
    helper a program calls yet, and then the program runs unverified (a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedWarning)
        return compiled.load(backend=backend)


def run(coll: Any, program: str, packet: bytes = bytes(64)) -> int:
    """Run ``program`` once by BPF_PROG_TEST_RUN (or the VM's test_run); its retval."""
    return int(coll.programs[program].test_run(packet).retval)


def printed(coll: Any, backend: str, marker: str) -> list[str]:
    """The trace_printk lines holding ``marker`` that ``coll``'s programs printed."""
    if backend == "vm":
        lines = list(coll.collection.env.printk)
    else:
        from pybpf.kernel.mounts import ensure_tracefs
        trace = subprocess.run(["cat", f"{ensure_tracefs()}/trace"], capture_output=True,
                               text=True, check=True).stdout.splitlines()
        lines = [ln.split("bpf_trace_printk: ", 1)[1] for ln in trace
                 if "bpf_trace_printk: " in ln]
    return [ln for ln in lines if marker in ln]
