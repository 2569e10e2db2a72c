"""libbpf's naming convention for the BTF target of TRACING/LSM programs (no kernel needed)."""

from __future__ import annotations

import pytest

from pybpf.btf import Func, Typedef
from pybpf.kernel.kernel_btf import attach_btf_name
from pybpf.spec import AttachType, ProgramSpec, ProgramType


@pytest.mark.parametrize("prog_type, attach_type, target, expected", [
    (ProgramType.TRACING, AttachType.TRACE_RAW_TP, "sched_switch",
     ("btf_trace_sched_switch", Typedef)),
    (ProgramType.TRACING, AttachType.TRACE_FENTRY, "do_unlinkat", ("do_unlinkat", Func)),
    (ProgramType.TRACING, AttachType.TRACE_FEXIT, "do_unlinkat", ("do_unlinkat", Func)),
    (ProgramType.TRACING, AttachType.MODIFY_RETURN, "do_unlinkat", ("do_unlinkat", Func)),
    (ProgramType.TRACING, AttachType.TRACE_ITER, "task", ("bpf_iter_task", Func)),
    (ProgramType.LSM, AttachType.LSM_MAC, "file_open", ("bpf_lsm_file_open", Func)),
    (ProgramType.TRACEPOINT, None, "syscalls/sys_enter_execve", None),
    (ProgramType.TRACING, AttachType.TRACE_FENTRY, "", None),
])
def test_target_names(prog_type, attach_type, target, expected):  # type: ignore[no-untyped-def]
    prog = ProgramSpec("p", "sec", prog_type, attach_type=attach_type, attach_to=target)
    assert attach_btf_name(prog) == expected
