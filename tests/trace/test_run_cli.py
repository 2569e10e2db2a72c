"""``pybpf trace`` as a command: -c, -o, -q, -f json, -d, --dry-run, --unsafe, errors,
and nothing left in the kernel after SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernel.leaks import no_kernel_objects_left

TRACE = [sys.executable, "-m", "pybpf", "trace"]


def trace(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRACE, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_dry_run_compiles_and_loads_nothing() -> None:
    done = trace("--dry-run", "-e", "tracepoint:syscalls:sys_enter_openat { @ = count(); }")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_debug_listing_shows_source_lines() -> None:
    done = trace("-d", "-e", 'BEGIN {\n  @x = 1;\n  printf("%d\\n", 2);\n}')
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("; program BEGIN (BEGIN): ")
    assert "; 2: @x = 1;" in lines and '; 3: printf("%d\\n", 2);' in lines
    assert any("call" in line for line in lines)


def test_errors_go_to_stderr_with_status_1() -> None:
    done = trace("-e", "BEGIN { @x = ; }")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("stdin:1:14-15: ERROR: syntax error, unexpected ;\n")


def test_script_file_and_positional_parameters(tmp_path: Path) -> None:
    script = tmp_path / "p.bt"
    script.write_text('BEGIN { printf("%d %s\\n", $1 + 1, "x"); exit(); }\n')
    done = trace("--dry-run", str(script), "41")
    assert done.returncode == 0


@pytest.mark.kernel
def test_quiet_output_file_and_command(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    target = f"/tmp/pbt-cli-{os.getpid()}"
    Path(target).write_text("x")
    try:
        done = trace("-q", "-o", str(out), "-c", f"/bin/cat {target}", "-e",
                     f'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "{target}"/'
                     ' { @opens = count(); printf("opened\\n"); }')
    finally:
        os.unlink(target)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "x"          # the command's own output; the script's goes to -o
    text = out.read_text()
    assert "Attaching" not in text
    assert text.startswith("opened\n") and text.endswith("@opens: 1\n")


@pytest.mark.kernel
def test_json_output() -> None:
    done = trace("-f", "json", "-e", 'BEGIN { printf("hi\\n"); @c[1] = count(); exit(); }')
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines() if line]
    assert records[0] == {"type": "attached_probes", "data": {"probes": 1}}
    assert {"type": "printf", "data": "hi\n"} in records
    assert any(r.get("type") == "map" for r in records)


@pytest.mark.kernel
def test_unsafe_system_runs_a_command() -> None:
    done = trace("--unsafe", "-e", 'BEGIN { system("echo from-%s", "system"); exit(); }')
    assert done.returncode == 0, done.stderr
    assert "from-system\n" in done.stdout


@pytest.mark.kernel
def test_sigterm_prints_maps_and_leaves_nothing() -> None:
    with no_kernel_objects_left(lambda n: n.startswith(("tracepoint_", "BEGIN", "END"))):
        script = ('BEGIN { printf("ready\\n"); @b = 5; } '
                  "tracepoint:sched:sched_switch { @s = count(); }")
        proc = subprocess.Popen([*TRACE, "-e", script],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert lines == ["Attaching 2 probes...\n", "ready\n"]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "@b: 5\n" in out and "@s: " in out


def test_listing_delegates_to_the_probe_lister() -> None:
    done = trace("-l", "tracepoint:syscalls:sys_enter_open*")
    assert done.returncode == 0
    assert "tracepoint:syscalls:sys_enter_openat" in done.stdout.splitlines()


@pytest.mark.kernel
def test_positional_parameters_as_numbers_and_strings() -> None:
    done = trace("-e", 'BEGIN { printf("%s %d\\n", $1, $2 + 1); @[$1] = $2; exit(); }',
                 "hello", "41")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "hello 42"
    assert "@[hello]: 41" in done.stdout


@pytest.mark.kernel
def test_cpid_is_the_commands_pid_as_in_bpftrace() -> None:
    """-c's command is spawned before the script loads (cpid) and held until the probes
    are attached: filtered by cpid, the command's opens are all seen, as bpftrace sees
    them (ld.so's and cat's)."""
    from tests.trace.bpftrace_oracle import Run, run_bpftrace, run_command

    target = Path(f"/tmp/pbt-cpid-{os.getpid()}")     # short: str() keeps 64 bytes
    target.write_text("x")
    script = ('BEGIN { printf("cpid %d\\n", cpid); }\n'
              "tracepoint:syscalls:sys_enter_openat /pid == cpid/ "
              '{ @[str(args->filename)] = count(); }')
    try:
        ours = run_command([*TRACE, "-c", f"/bin/cat {target}", "-e", script])
        theirs = run_bpftrace(script, "-c", f"/bin/cat {target}")
    finally:
        target.unlink()
    for run in (ours, theirs):
        assert run.returncode == 0, run.stderr
        assert f"@[{target}]: 1" in run.stdout.splitlines()    # cat's own open, by cpid
    # bpftrace's map of the command's opens (ld.so's, cat's, its locale's) is ours, in
    # hash order; either reads a name now and then as "" (a page not yet faulted in:
    # locale-archive's), and then lacks that one name
    def opened(run: Run) -> tuple[set[str], int]:
        lines = {x for x in run.stdout.splitlines() if x.startswith("@")}
        return lines - {"@[]: 1"}, int("@[]: 1" in lines)

    (ours_named, ours_empty), (theirs_named, theirs_empty) = opened(ours), opened(theirs)
    assert len(ours_named) > 20
    assert len(theirs_named - ours_named) <= ours_empty
    assert len(ours_named - theirs_named) <= theirs_empty


def test_cpid_without_a_command_and_a_missing_command_are_bpftraces_errors() -> None:
    from tests.trace.bpftrace_oracle import run_bpftrace

    script = 'BEGIN { printf("%d\\n", cpid); exit(); }'
    done, theirs = trace("-e", script), run_bpftrace(script)
    assert done.returncode == 1 and done.stdout == ""
    expected = "stdin:1:24-28: ERROR: cpid cannot be used without child command"
    assert done.stderr.splitlines()[0] == expected == theirs.stderr.splitlines()[0]
    done = trace("-c", "no-such-command-pbt", "-e", "BEGIN { exit(); }")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == ("ERROR: Failed to fork child: path 'no-such-command-pbt' does "
                           "not exist or is not executable\n")
    assert done.stderr in run_bpftrace("BEGIN { exit(); }", "-c", "no-such-command-pbt").stderr
