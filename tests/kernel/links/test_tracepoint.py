"""Tracepoints: a program counting sys_enter_execve per process sees the child we run."""

from __future__ import annotations

import pytest

from pybpf.errors import ClosedError, InvalidInputError
from pybpf.kernel import Program
from pybpf.kernel.links import Link
from pybpf.kernel.links.tracepoint import attach_tracepoint
from pybpf.kernel.tracefs import tracepoint_id
from pybpf.spec import ProgramType

from .test_tracing_programs import count_of, counter_spec, counts_map, kernel_leak_check, run_child

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]


def test_execve_of_a_child_is_counted_while_attached_only() -> None:
    with counts_map() as counts, Program.load(counter_spec("tp_exec", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with attach_tracepoint(prog, "syscalls", "sys_enter_execve") as link:
            assert isinstance(link, Link)
            assert link.info().prog_id == prog.info().id
            seen = run_child(["/bin/true"])
        unseen = run_child(["/bin/true"])
        assert link.closed
        assert count_of(counts, seen) == 1
        assert count_of(counts, unseen) == 0


def test_tracepoint_id_matches_tracefs() -> None:
    with open("/sys/kernel/tracing/events/sched/sched_switch/id") as f:
        assert tracepoint_id("sched", "sched_switch") == int(f.read())


def test_missing_tracepoint_is_a_clear_error_and_leaves_nothing() -> None:
    with counts_map() as counts, Program.load(counter_spec("tp_none", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="no such tracepoint syscalls/sys_enter_foo"):
            attach_tracepoint(prog, "syscalls", "sys_enter_foo")


@pytest.mark.parametrize("category,name", [("syscalls", ""), ("../..", "x"),
                                           ("sys calls", "x"), ("syscalls", "a/b")])
def test_malformed_names_are_refused(category: str, name: str) -> None:
    with counts_map() as counts, Program.load(counter_spec("tp_bad", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="bad tracepoint"):
            attach_tracepoint(prog, category, name)


def test_wrong_program_type_is_refused_before_opening_anything() -> None:
    with counts_map() as counts, Program.load(counter_spec("tp_raw", ProgramType.RAW_TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="needs a TRACEPOINT program, not "
                                                    "RAW_TRACEPOINT"):
            attach_tracepoint(prog, "syscalls", "sys_enter_foo")  # not even looked up
    with pytest.raises(InvalidInputError, match="expected a loaded Program"):
        attach_tracepoint(42, "syscalls", "sys_enter_execve")


def test_a_closed_program_or_link_is_refused() -> None:
    with counts_map() as counts:
        prog = Program.load(counter_spec("tp_closed", ProgramType.TRACEPOINT),
                            maps={"counts": counts})
        link = attach_tracepoint(prog, "syscalls", "sys_enter_execve")
        link.close()
        link.close()  # twice is fine
        with pytest.raises(ClosedError):
            link.info()
        prog.close()
        with pytest.raises(ClosedError):
            attach_tracepoint(prog, "syscalls", "sys_enter_execve")
