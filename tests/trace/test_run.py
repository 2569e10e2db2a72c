"""Scripts run on the kernel against workloads the tests cause: marker processes whose
comm the test chose, opens of known files; nothing is left in the kernel afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.kernel.leaks import no_kernel_objects_left
from tests.trace.helpers import marker, run_marker, run_script

pytestmark = pytest.mark.kernel


def test_filter_count_printf_begin_end(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    cat = marker(tmp_path)
    # strings are 64 bytes, as in bpftrace: the path must be shorter than pytest's
    target = Path("/tmp") / f"pbt-known-{os.getpid()}"
    target.write_text("x")
    request.addfinalizer(target.unlink)
    script = ('tracepoint:syscalls:sys_enter_openat /comm == "pbtmark"/ '
              '{ @[comm] = count(); @files[str(args->filename)] = count(); '
              'printf("open %s by %s\\n", str(args->filename), comm); } '
              'BEGIN { printf("begin\\n"); } END { printf("end\\n"); }')
    with no_kernel_objects_left(lambda name: name.startswith(("tracepoint_", "BEGIN", "END"))):
        out, maps = run_script(script, lambda: run_marker(cat, str(target), str(target)))
    lines = out.splitlines()
    assert lines[0] == "Attaching 3 probes..."
    assert lines[1] == "begin"
    assert lines.count(f"open {target} by pbtmark") == 2
    assert "end" in lines
    files = {k[0]: v for k, v in maps["@files"]}
    assert files[str(target)] == 2
    ((key, count),) = maps["@"]
    assert key == ("pbtmark",) and count == sum(files.values())


def test_begin_prints_before_any_event() -> None:
    """bpftrace 0.17 runs BEGIN before it attaches the probes, so BEGIN's output comes
    before every event, even of a probe that fires all the time (this process's own
    write of ``Attaching...`` is a syscall too)."""
    out, _ = run_script('BEGIN { printf("begin\\n"); } '
                        'tracepoint:raw_syscalls:sys_enter { printf("ev\\n"); exit(); }',
                        until_exit=True)
    assert out.splitlines()[:3] == ["Attaching 2 probes...", "begin", "ev"]


def test_exit_stops_the_run_and_end_runs() -> None:
    out, maps = run_script("interval:ms:50 { @ticks = count(); exit(); } "
                           "END { printf(\"end %d\\n\", 7); }", until_exit=True)
    assert "end 7" in out.splitlines()
    assert maps["@ticks"] == [((), 1)]


def test_aggregations_read_back_as_plan_values(tmp_path: Path) -> None:
    cat = marker(tmp_path, "pbtagg")
    script = ('tracepoint:syscalls:sys_enter_openat /comm == "pbtagg"/ { '
              '@c = count(); @s = sum(5); @mn = min(3); @mx = max(9); @a = avg(4); '
              '@st = stats(6); @h = hist(1000); @l = lhist(25, 0, 100, 10); '
              '$v = 2; $v += 3; @v = $v; @t = (1, "a"); }')
    _, maps = run_script(script, lambda: run_marker(cat, "/etc/hostname"))
    ((_, n),) = maps["@c"]
    assert n >= 1
    assert maps["@s"] == [((), 5 * n)]
    assert maps["@mn"] == [((), 3)] and maps["@mx"] == [((), 9)]
    assert maps["@a"] == [((), (n, 4 * n))] and maps["@st"] == [((), (n, 6 * n))]
    ((_, buckets),) = maps["@h"]
    assert buckets[11] == n and sum(buckets) == n          # 1000 is in [512, 1K)
    ((_, lin),) = maps["@l"]
    assert len(lin) == 12 and lin[3] == n and sum(lin) == n   # 25 is in [20, 30)
    assert maps["@v"] == [((), 5)] and maps["@t"] == [((), (1, "a"))]


def test_if_else_ternary_and_string_compare_in_begin() -> None:
    out, maps = run_script('BEGIN { $s = "abc"; $n = 7; '
                           'if ($s == "abc" && $n > 5) { @r = 1; } else { @r = 2; } '
                           '@q = $n % 2 == 0 ? 10 : 20; @z = $s != "abd"; '
                           'printf("%s-%d-%u\\n", $s, -3, 3); exit(); }', until_exit=True)
    assert "abc--3-3" in out.splitlines()
    assert maps["@r"] == [((), 1)] and maps["@q"] == [((), 20)] and maps["@z"] == [((), 1)]
