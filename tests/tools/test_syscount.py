"""syscount in the kernel: counts of this process's own syscalls, BCC's columns."""

import os
import re
import signal

import pytest

from pybpf.kernel import inventory
from pybpf.tools import syscount

from .conftest import read_line_until, run_tool, start_tool_process
from .tcp_helpers import own_objects

pytestmark = pytest.mark.kernel

# BCC's syscount_example.txt: "SYSCALL                   COUNT" and, with -L,
# "SYSCALL                   COUNT        TIME (us)" (22-wide name, 8-wide count, 16-wide time)
HEADER = "SYSCALL                   COUNT"
LATENCY_HEADER = "SYSCALL                   COUNT        TIME (us)"


def _calls() -> None:
    for _ in range(300):
        os.getppid()
    for _ in range(77):
        try:
            os.stat("/nonexistent/pybpf-syscount")
        except OSError:
            pass


def test_counts_by_syscall_with_names_and_header():
    run = run_tool(syscount, ["-p", str(os.getpid())], action=_calls, timeout_s=0.3)
    lines = run.lines
    assert lines[0] == "Tracing syscalls, printing top 10... Ctrl+C to quit."
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\]", lines[1])
    assert lines[2] == HEADER
    assert "getppid                     300" in lines
    assert "newfstatat                   77" in lines
    assert lines[-1] == "Detaching..."


def test_errno_filter_and_latency_columns():
    run = run_tool(syscount, ["-p", str(os.getpid()), "-e", "ENOENT", "-L"], action=_calls,
                   timeout_s=0.3)
    assert LATENCY_HEADER in run.lines
    rows = [ln for ln in run.lines if re.match(r"^\w+ +\d+ +\d+\.\d{3}$", ln)]
    assert [r.split()[:2] for r in rows] == [["newfstatat", "77"]]


def test_by_process_shows_pid_and_comm():
    run = run_tool(syscount, ["-P", "-p", str(os.getpid())], action=_calls, timeout_s=0.3)
    assert "PID    COMM               COUNT" in run.lines
    row = next(ln for ln in run.lines if ln.startswith(f"{os.getpid():<6d} "))
    assert int(row.split()[-1]) >= 377


def test_sigterm_leaves_nothing_loaded():
    proc = start_tool_process("syscount", ["-i", "1"])
    read_line_until(proc, lambda ln: ln.startswith("SYSCALL"))
    live = own_objects("syscount_", pid=proc.pid)
    assert live.programs and live.maps
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Detaching..." in out
    assert not inventory.still_loaded(live)


def test_unknown_syscall_numbers_print_as_bcc_does():
    assert syscount.syscall_name(0) == "read"
    assert syscount.syscall_name(99999) == "[unknown: 99999]"
