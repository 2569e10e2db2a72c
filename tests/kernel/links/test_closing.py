"""close_links: links that only close fds are closed together, from several threads (their
RCU grace periods overlap); the others first, in order, in the caller's thread; every link
is tried and the first error raised after; nothing stays attached."""

from __future__ import annotations

import threading

import pytest

from pybpf.kernel import Program, inventory
from pybpf.kernel.closing import close_links
from pybpf.kernel.links.tracepoint import attach_tracepoint
from pybpf.spec import ProgramType

from .test_tracing_programs import count_of, counter_spec, counts_map, kernel_leak_check, run_child

__all__ = ["kernel_leak_check"]


class _Fake:
    def __init__(self, name: str, log: list[tuple[str, int]], *, fds_only: bool,
                 meet: threading.Barrier | None = None, fail: bool = False) -> None:
        self.name, self.log, self.closes_fds_only = name, log, fds_only
        self.meet, self.fail = meet, fail

    def close(self) -> None:
        self.log.append((self.name, threading.get_ident()))
        if self.meet is not None:
            self.meet.wait()    # broken (an error) unless all three close at the same time
        if self.fail:
            raise OSError(f"{self.name} refused")


def test_fd_only_links_close_at_the_same_time_after_the_others_in_order() -> None:
    log: list[tuple[str, int]] = []
    meet = threading.Barrier(3, timeout=30)
    links = [_Fake("fd1", log, fds_only=True, meet=meet),
             _Fake("netlink1", log, fds_only=False),
             _Fake("fd2", log, fds_only=True, meet=meet),
             _Fake("netlink2", log, fds_only=False),
             _Fake("fd3", log, fds_only=True, meet=meet)]
    close_links(links)
    here = threading.get_ident()
    assert log[:2] == [("netlink1", here), ("netlink2", here)]
    assert sorted(name for name, _ in log[2:]) == ["fd1", "fd2", "fd3"]
    assert len({ident for _, ident in log[2:]}) == 3
    assert not meet.broken


def test_every_link_is_tried_and_the_first_error_raised_after() -> None:
    log: list[tuple[str, int]] = []
    links = [_Fake("ordered", log, fds_only=False, fail=True),
             *(_Fake(f"fd{i}", log, fds_only=True, fail=i == 2) for i in range(5))]
    with pytest.raises(OSError, match="ordered refused"):
        close_links(links)
    assert sorted(name for name, _ in log) == ["fd0", "fd1", "fd2", "fd3", "fd4", "ordered"]


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_leak_check")
def test_tracepoint_links_closed_together_are_all_detached() -> None:
    points = ["sys_enter_execve", "sys_enter_getpid", "sys_enter_getppid", "sys_enter_newuname"]
    with counts_map() as counts, Program.load(counter_spec("tp_close", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        links = []
        try:
            for p in points:
                links.append(attach_tracepoint(prog, "syscalls", p))
            prog_id = prog.info().id
            assert len([i for i in inventory.links() if i.prog_id == prog_id]) == len(points)
            close_links(links)
            assert all(link.closed for link in links)
        finally:
            for link in links:
                link.close()
        assert not [i for i in inventory.links() if i.prog_id == prog_id]
        assert count_of(counts, run_child(["/bin/true"])) == 0
