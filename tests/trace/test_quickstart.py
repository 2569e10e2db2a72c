"""The fast start of ``pybpf trace`` (pybpf.trace.quickstart): a script run before runs
from its lean entry, one never run is compiled there and run the same way, and both print
what the full path prints; every other command line, any script that does not compile and
any entry it cannot trust go the full way. Each test has its own PYBPF_CACHE_DIR."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pybpf.spec import MapType, ProgramType
from pybpf.trace import compile
from pybpf.trace.compiler import MAP_TYPE_IDS, PROG_TYPE_IDS
from pybpf.trace.quickstart import LEAN_SUFFIX, lean_entry, run_cached
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

# deterministic but for @s, and every kind of value the printer takes from maps and records
SCRIPT = ('BEGIN { printf("begin %d %s\\n", 7, "x"); @b[1, "x"] = sum(3); @h = hist(100); '
          '@l = lhist(5, 0, 10, 2); @st = stats(4); @t = (1, "a"); } '
          "tracepoint:sched:sched_switch { @s = count(); } "
          'interval:ms:100 { printf("tick\\n"); exit(); } END { printf("end\\n"); }')


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "trace"


# `pybpf trace` without its fast start: argparse, commands.trace, kernel.collection
_FULL_PATH = ("import sys; from pybpf.cli import _command_parser; "
              "args = _command_parser('trace').parse_args(sys.argv[1:]); "
              "sys.exit(args._run(args))")


def _full(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _FULL_PATH, *args], text=True,
                          capture_output=True, timeout=60, check=False, env=os.environ)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pybpf", "trace", *args], text=True,
                          capture_output=True, timeout=60, check=False, env=os.environ)


def _ours(name: str) -> bool:
    return name.startswith(("tracepoint_", "interval_", "BEGIN", "END", "AT_"))


def _steady(text: str) -> str:
    return re.sub(r'(@s"?: )\d+', r"\1N", text)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_cached_script_prints_what_the_full_path_prints(cache_dir: Path, tmp_path: Path,
                                                          fmt: str) -> None:
    full = _full("-f", fmt, "-e", SCRIPT)         # compiles, stores both entries
    assert full.returncode == 0, full.stderr
    assert any(n.endswith(LEAN_SUFFIX) for n in os.listdir(cache_dir))
    out = tmp_path / "out.txt"
    with no_kernel_objects_left(_ours):
        assert run_cached(["-f", fmt, "-o", str(out), "-e", SCRIPT]) == 0
    assert _steady(out.read_text()) == _steady(full.stdout)
    again = _cli("-f", fmt, "-e", SCRIPT)          # the command takes the same path
    assert again.returncode == 0, again.stderr
    assert _steady(again.stdout) == _steady(full.stdout)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_script_never_run_is_compiled_on_the_fast_path(cache_dir: Path, tmp_path: Path,
                                                         fmt: str) -> None:
    out = tmp_path / "out.txt"
    with no_kernel_objects_left(_ours):
        assert run_cached(["-f", fmt, "-o", str(out), "-e", SCRIPT]) == 0
    names = os.listdir(cache_dir)       # both entries, written once the probes were in
    assert len(names) == 2 and sum(n.endswith(LEAN_SUFFIX) for n in names) == 1
    full = _full("-f", fmt, "-e", SCRIPT)
    assert full.returncode == 0, full.stderr
    assert _steady(out.read_text()) == _steady(full.stdout)


def test_a_script_that_does_not_compile_fails_as_on_the_full_path(cache_dir: Path) -> None:
    for script in ("BEGIN { @x = ; }", "BEGIN { printf(1); }",
                   "tracepoint:nosuch:event { @ = count(); }", "BEGIN { @x = $y; }"):
        assert run_cached(["-e", script]) is None, script
        cli, full = _cli("-e", script), _full("-e", script)
        assert (cli.returncode, cli.stdout, cli.stderr) == \
            (full.returncode, full.stdout, full.stderr), script
        assert cli.returncode == 1 and cli.stderr, script
    assert not cache_dir.exists() or not os.listdir(cache_dir)


def test_quiet_and_a_script_file_with_parameters(cache_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "s.bt"
    script.write_text('BEGIN { printf("%d %s\\n", $1, str($2)); @x = $1; exit(); }')
    full = _full("-q", str(script), "42", "hello")
    assert full.returncode == 0, full.stderr
    assert full.stdout.startswith("42 hello\n") and "Attaching" not in full.stdout
    out = tmp_path / "out.txt"
    assert run_cached(["-q", "-o", str(out), str(script), "42", "hello"]) == 0
    assert out.read_text() == full.stdout
    assert len(os.listdir(cache_dir)) == 2
    assert run_cached(["-q", "-o", str(out), str(script), "43", "hello"]) == 0  # another $1
    assert out.read_text().startswith("43 hello\n")
    assert len(os.listdir(cache_dir)) == 4         # its own entries


def test_what_it_does_not_serve_goes_the_full_way(cache_dir: Path, tmp_path: Path) -> None:
    script = 'BEGIN { printf("hi\\n"); exit(); }'
    assert _full("-e", script).returncode == 0
    for options in (["-d"], ["-v"], ["--dry-run"], ["-p", "1"], ["-c", "true"], ["-l"],
                    ["-f", "yaml"], ["-o", str(tmp_path / "no" / "such" / "dir")]):
        assert run_cached([*options, "-e", script]) is None, options
    (lean,) = [cache_dir / n for n in os.listdir(cache_dir) if n.endswith(LEAN_SUFFIX)]
    lean.write_bytes(b"\xff damaged")
    with no_kernel_objects_left(_ours):     # compiled again, and run
        assert run_cached(["-o", str(tmp_path / "out.txt"), "-e", script]) == 0
    assert (tmp_path / "out.txt").read_text() == "Attaching 1 probe...\nhi\n\n\n"
    assert _cli("-e", script).stdout == "Attaching 1 probe...\nhi\n\n\n"


def test_uprobe_scripts_have_no_lean_entry(cache_dir: Path) -> None:
    script = "uprobe:/lib/x86_64-linux-gnu/libc.so.6:getpid { @ = count(); }"
    compile(script, cache=True)
    names = os.listdir(cache_dir)
    assert len(names) == 1 and not names[0].endswith(LEAN_SUFFIX)
    shutil.rmtree(cache_dir)
    assert run_cached(["-e", script]) is None   # compiled, stored for the full path
    names = os.listdir(cache_dir)
    assert len(names) == 1 and not names[0].endswith(LEAN_SUFFIX)


@pytest.mark.skipif(os.path.exists("/sys/bus/event_source/devices/cpu"),
                    reason="this machine has the hardware counters whose absence is tested")
def test_a_failure_before_attaching_leaves_the_message_to_the_full_path(cache_dir: Path
                                                                         ) -> None:
    script = "hardware:cache-misses:1000 { @ = count(); }"
    compile(script, cache=True)            # an entry, for an event no PMU here offers
    with no_kernel_objects_left(lambda n: n.startswith("hardware_")):
        assert run_cached(["-e", script]) is None
    done = _full("-e", script)
    assert done.returncode == 1 and "lacks hardware probes" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("script", [
    SCRIPT,
    ("tracepoint:syscalls:sys_enter_execve { join(args->argv); printf(\"%d\\n\", elapsed); "
     "@[kstack(3), ustack] = count(); @h = hist(1); @a[cpu] = avg(2); }"),
    "profile:hz:99 { @[kstack] = count(); } rawtracepoint:sched_switch { @s = sum(1); }",
])
def test_a_fresh_compile_makes_the_lean_entry_its_spec_makes(script: str) -> None:
    fresh = compile(script)
    assert fresh.draft is not None            # no spec made yet: the fast start needs none
    from_draft = lean_entry(fresh)
    assert fresh.spec.programs and fresh.draft is None     # made when asked for
    assert lean_entry(fresh) == from_draft is not None


def test_the_type_numbers_of_a_fresh_compile_are_the_kernels() -> None:
    for name, number in MAP_TYPE_IDS.items():
        assert MapType[name] == number, name
    for name, number in PROG_TYPE_IDS.items():
        assert ProgramType[name] == number, name


def test_the_start_imports_no_heavy_standard_modules() -> None:
    """What a first run imports before ``Attaching...`` (compiler, runtime, kernel.lean)
    leaves out typing, re, enum, pickle and dataclasses: ~10 ms of a start together."""
    heavy = ("typing", "re", "enum", "pickle", "dataclasses", "threading")
    code = ("import sys\n"
            "from pybpf.trace import quickstart, compiler, codegen, parser, runtime\n"
            "from pybpf.kernel import lean, signals\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
