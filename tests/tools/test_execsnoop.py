"""execsnoop: a command the test runs shows up with its pid, parent, return value and
arguments, in BCC's columns; filters; JSON; SIGTERM leaves nothing loaded."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from pybpf.kernel import inventory
from pybpf.tools import execsnoop
from tests.tools.conftest import read_line_until, run_tool, start_tool_process
from tests.tools.tcp_helpers import own_objects

pytestmark = pytest.mark.kernel

# BCC's execsnoop header (tools/execsnoop.py): %-16s PCOMM, %-7s PID and PPID, %3s RET
BCC_HEADER = "PCOMM            PID     PPID    RET ARGS"
BCC_HEADER_T = "TIME(s) PCOMM            PID     PPID    RET ARGS"
BCC_HEADER_TU = "TIME     UID   PCOMM            PID     PPID    RET ARGS"


def _run_marker(*extra: str, **popen: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["/bin/echo", "pybpf-execsnoop-marker", *extra],
                          stdout=subprocess.DEVNULL, check=True, **popen)  # type: ignore[arg-type]


def test_a_command_shows_with_its_pid_ppid_ret_and_args_in_bccs_columns() -> None:
    children: list[int] = []

    def act() -> None:
        child = subprocess.Popen(["/bin/echo", "pybpf-execsnoop-marker", "two words"],
                                 stdout=subprocess.DEVNULL)
        children.append(child.pid)
        child.wait()

    result = run_tool(execsnoop, [], action=act, leaves_nothing=True,
                      until=lambda out: "pybpf-execsnoop-marker" in out)
    assert result.lines[0] == BCC_HEADER
    line = next(ln for ln in result.lines if "pybpf-execsnoop-marker" in ln)
    expected = (f"{'echo':<16} {children[0]:<7} {os.getpid():<7}   0 "
                "/bin/echo pybpf-execsnoop-marker two words")
    assert line == expected


def test_failed_execs_only_with_x_and_their_negative_errno() -> None:
    def act() -> None:
        with pytest.raises(FileNotFoundError):
            subprocess.run(["/nonexistent/pybpf-execsnoop-missing", "arg1"])
        _run_marker()

    plain = run_tool(execsnoop, [], action=act, until=lambda out: "marker" in out)
    assert "pybpf-execsnoop-missing" not in plain.output
    with_fails = run_tool(execsnoop, ["-x"], action=act, until=lambda out: "marker" in out)
    line = next(ln for ln in with_fails.lines if "pybpf-execsnoop-missing" in ln)
    fields = line.split()
    assert fields[3] == "-2"    # -ENOENT
    assert fields[4:] == ["/nonexistent/pybpf-execsnoop-missing", "arg1"]


def test_uid_filter_time_columns_and_max_args() -> None:
    def act() -> None:
        _run_marker("a", "b", "c")                 # root: filtered out in the kernel
        _run_marker("a", "b", "c", user=65534)     # nobody

    result = run_tool(execsnoop, ["-u", "65534", "-T", "-U", "--max-args", "2"], action=act,
                      until=lambda out: "marker" in out)
    assert result.lines[0] == BCC_HEADER_TU
    mine = [ln for ln in result.lines if "pybpf-execsnoop-marker" in ln]
    assert len(mine) == 1
    assert mine[0].split()[1] == "65534"
    assert mine[0].endswith("/bin/echo pybpf-execsnoop-marker a ...")


def test_name_line_and_quote_filters_and_timestamp_column() -> None:
    def act() -> None:
        subprocess.run(["/bin/true", "pybpf-execsnoop-other"], check=True)
        _run_marker('say "hi"')

    result = run_tool(execsnoop, ["-t", "-q", "-n", "^ec", "-l", "execsnoop-marker"], action=act,
                      until=lambda out: "marker" in out)
    assert result.lines[0] == BCC_HEADER_T
    assert "pybpf-execsnoop-other" not in result.output
    line = next(ln for ln in result.lines if "marker" in ln)
    float(line.split()[0])
    assert line.endswith('"/bin/echo" "pybpf-execsnoop-marker" "say \\"hi\\""')


def test_json_lines() -> None:
    result = run_tool(execsnoop, ["--json"], action=lambda: _run_marker("x"),
                      until=lambda out: "marker" in out)
    records = [json.loads(ln) for ln in result.lines]
    mine = next(r for r in records if "pybpf-execsnoop-marker" in r["args"])
    assert mine["pcomm"] == "echo" and mine["ret"] == 0 and mine["ppid"] == os.getpid()
    assert mine["args"] == ["/bin/echo", "pybpf-execsnoop-marker", "x"]


def test_sigterm_exits_cleanly_and_unloads_everything() -> None:
    proc = start_tool_process("execsnoop", [])
    read_line_until(proc, lambda line: line.startswith("PCOMM"))
    live = own_objects("execsnoop_", pid=proc.pid)
    _run_marker()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert live.programs and live.maps and live.links
    assert not inventory.still_loaded(live)


def test_bad_options_give_usage_not_traceback(capsys) -> None:
    with pytest.raises(SystemExit):
        execsnoop.parse_args(["--max-args", "0"])
    with pytest.raises(SystemExit):
        execsnoop.parse_args(["-n", "("])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bad regular expression" in err


@pytest.mark.parametrize("extra", [1, 2, 3, 6, 7])
def test_arguments_across_packed_records_come_back_in_order(extra: int) -> None:
    # the file name, the marker and ``extra`` words travel four to a record: 3, 4, 5, 8
    # and 9 strings end a record short, fill it exactly, or spill one into the next
    words = [f"w{i}" for i in range(1, extra + 1)]

    def act() -> None:
        _run_marker(*words)

    result = run_tool(execsnoop, [], action=act,
                      until=lambda out: "pybpf-execsnoop-marker" in out)
    line = next(ln for ln in result.lines if "pybpf-execsnoop-marker" in ln)
    assert line.endswith(" ".join(["/bin/echo", "pybpf-execsnoop-marker", *words]))


def test_max_args_at_a_record_boundary_prints_the_ellipsis_once() -> None:
    def act() -> None:
        _run_marker("a", "b", "c", "d", "e")   # argv[1..6]; --max-args 4 keeps argv[1..4]

    result = run_tool(execsnoop, ["--max-args", "4"], action=act,
                      until=lambda out: "pybpf-execsnoop-marker" in out)
    line = next(ln for ln in result.lines if "pybpf-execsnoop-marker" in ln)
    assert line.endswith("/bin/echo pybpf-execsnoop-marker a b c ...")


def test_options_go_to_a_copy_of_the_spec_not_to_the_module() -> None:
    few = execsnoop.build(execsnoop.parse_args(["--max-args", "3", "-u", "1000"]))
    default = execsnoop.build(execsnoop.parse_args([]))

    def value(compiled: object, name: str) -> int:
        return int.from_bytes(compiled.spec.variables[name].get(), "little")  # type: ignore[attr-defined]
    assert (value(few, "max_args"), value(few, "uid_filter")) == (3, 1000)
    assert (value(default, "max_args"), value(default, "uid_filter")) == (20, 0xFFFFFFFF)
    assert execsnoop.max_args.initial == 20 and execsnoop.max_args.name is None
