"""kprobes: on kernels built without CONFIG_KPROBES (ours), a clear NotSupportedError."""

from __future__ import annotations

import os

import pytest

from pybpf.errors import NotSupportedError
from pybpf.kernel import Program
from pybpf.kernel.links.kprobe import attach_kprobe, attach_kretprobe
from pybpf.spec import ProgramType

from .test_tracing_programs import counter_spec, counts_map, kernel_leak_check

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]


@pytest.mark.parametrize("attach", [attach_kprobe, attach_kretprobe])
def test_missing_kprobes_are_named(attach) -> None:  # type: ignore[no-untyped-def]
    if os.path.isdir("/sys/bus/event_source/devices/kprobe"):
        pytest.skip("this kernel has kprobes")
    with counts_map() as counts, Program.load(counter_spec("kp", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(NotSupportedError,
                           match=r"this kernel lacks kprobes \(CONFIG_KPROBES\)") as refused:
            attach(prog, "do_unlinkat")
    assert refused.value.feature == "kprobes (CONFIG_KPROBES)"
