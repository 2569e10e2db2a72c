"""Raw tracepoints: sys_enter seen for a child process we run."""

from __future__ import annotations

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel import Program
from pybpf.kernel.links.raw_tracepoint import attach_raw_tracepoint
from pybpf.spec import ProgramType

from .test_tracing_programs import count_of, counter_spec, counts_map, kernel_leak_check, run_child

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]


def _program(counts):  # type: ignore[no-untyped-def]
    return Program.load(counter_spec("raw_enter", ProgramType.RAW_TRACEPOINT),
                        maps={"counts": counts})


def test_sys_enter_counts_every_syscall_of_a_child() -> None:
    with counts_map() as counts, _program(counts) as prog:
        with attach_raw_tracepoint(prog, "sys_enter") as link:
            assert link.info().prog_id == prog.info().id
            seen = run_child(["/bin/true"])
        unseen = run_child(["/bin/true"])
        # even /bin/true makes dozens of system calls (execve, mmap, exit_group...)
        assert count_of(counts, seen) > 10
        assert count_of(counts, unseen) == 0


def test_unknown_raw_tracepoint_is_a_clear_error() -> None:
    with counts_map() as counts, _program(counts) as prog:
        with pytest.raises(InvalidInputError, match="no such raw tracepoint sys_enter_foo"):
            attach_raw_tracepoint(prog, "sys_enter_foo")
        with pytest.raises(InvalidInputError, match="no category"):
            attach_raw_tracepoint(prog, "syscalls/sys_enter")


def test_wrong_program_type_is_refused() -> None:
    with counts_map() as counts, Program.load(counter_spec("raw_tp", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="RAW_TRACEPOINT"):
            attach_raw_tracepoint(prog, "sys_enter")
