"""Differential tests: the same script under the same workload through the installed
bpftrace 0.17 and through ``pybpf trace``; outputs compared after normalising what must
differ (pids, times, addresses, the order of equal counts)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.trace.bpftrace_oracle import BPFTRACE, normalise, run_bpftrace, run_command

pytestmark = pytest.mark.kernel

MARK = "pbtdiff"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


# the run ends when the marker exits; the marker runs on CPU 0 only, so its events and
# the exit() come through one CPU's buffer in order (bpftrace drops unread events at Ctrl-C)
READY = 'BEGIN { printf("ready\\n"); } '
UNTIL_MARKER_EXITS = f' tracepoint:sched:sched_process_exit /comm == "{MARK}"/ {{ exit(); }}'


def _until_ready_then(argv: list[str], workload: Callable[[], object]) -> str:
    """Run ``argv`` (its script prints "ready" from BEGIN, which both tools run once every
    probe is attached), run the workload, and return what came after "ready"."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert proc.stdout is not None
        seen = []
        for raw in proc.stdout:
            line = raw.decode(errors="surrogateescape")
            seen.append(line)
            if line == "ready\n":
                break
        else:
            raise AssertionError(f"{argv[0]} never got ready: {''.join(seen)} "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        workload()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err
    return out.decode(errors="surrogateescape")


# pybpf with uprobes attached as perf events even where uprobe_multi links exist (their
# fallback), for the differential tests of both
PYBPF_PERF_UPROBES = [sys.executable, "-c", ("import runpy, pybpf.trace.uprobes as u; "
                                             "u.uses_multi = lambda: False; "
                                             "runpy.run_module('pybpf', run_name='__main__', "
                                             "alter_sys=True)")]


def both_live(script: str, workload: Callable[[], object], *, preamble: str = "",
              pybpf: list[str] | None = None) -> tuple[str, str]:
    """The outputs of a script of probes that fire under ``workload``, both tools
    (``pybpf``: how ours starts, ``python -m pybpf`` by default).

    The workload runs once before either: a string the kernel probe reads from a page not
    yet faulted in reads as empty, and only the first tool would see that.
    """
    workload()
    script = preamble + READY + script + UNTIL_MARKER_EXITS
    ours = _until_ready_then([*(pybpf or [sys.executable, "-m", "pybpf"]), "trace", "-e",
                              script], workload)
    theirs = _until_ready_then([BPFTRACE, "-e", script], workload)
    return _stable(normalise(ours)), _stable(normalise(theirs))


def _stable(text: str) -> str:
    """Without the one path whose string sometimes sits in a page the new process has not
    faulted in yet (libc's locale-archive): either tool then reads it as empty."""
    return "\n".join(line for line in text.split("\n")
                     if "locale-archive" not in line and not line.endswith("opens ")
                     and not line.startswith("@[]"))


def both(script: str) -> tuple[str, str]:
    """The outputs of a script that ends by itself (exit()), both tools."""
    ours = run_command([sys.executable, "-m", "pybpf", "trace", "-e", script])
    theirs = run_bpftrace(script)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    return normalise(ours.stdout), normalise(theirs.stdout)


@pytest.fixture
def marker_path(request: pytest.FixtureRequest) -> Path:
    """A link to cat named ``pbtdiff`` in a short directory (strings are 64 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="pbt", dir="/tmp"))
    path = directory / MARK
    path.symlink_to(shutil.which("cat") or "/bin/cat")
    request.addfinalizer(lambda: shutil.rmtree(directory))
    return path


@pytest.fixture
def marker(marker_path: Path) -> Callable[..., None]:
    """Run ``cat ARGS`` as a process whose comm is ``pbtdiff``, on CPU 0."""
    path = marker_path

    def run(*args: str) -> None:
        subprocess.run([str(path), *args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False,
                       preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    return run


@pytest.fixture
def known_file(request: pytest.FixtureRequest) -> str:
    path = Path("/tmp") / f"pbt-diff-{os.getpid()}"
    path.write_text("0123456789" * 100)
    request.addfinalizer(path.unlink)
    return str(path)


BEGIN_SCRIPTS = [
    ('BEGIN { printf("%d %s %x %5d|%-4s|\\n", 42, "str", 255, 7, "ab"); '
     '@a[1, "b"] = count(); @h = hist(5); @l = lhist(3, 0, 10, 1); @s = stats(3); '
     "@v = avg(4); exit(); }"),
    ('BEGIN { $x = 10; $y = $x > 5 ? $x * 3 : 0; if ($y == 30 && $x != 3) '
     '{ @ok = 1; } else { @ok = 2; } @t = ($x, "a"); @neg = -5; @u = (uint8)300; '
     "unroll(3) { $x = $x + 1; } @x = $x; exit(); }"),
    ('BEGIN { @m[1] = 10; @m[2] = 5; @m[3] = 20; @c["b"] = count(); @c["a"] = count(); '
     '@c["a"] = count(); @mn = min(5); @mx = max(5); @sm = sum(-3); print(@m); '
     "delete(@m[2]); exit(); }"),
    'BEGIN { printf("%s\\n", "no maps"); exit(); } END { printf("end\\n"); }',
    ('BEGIN { printf("%d %d %d %d\\n", strncmp("abc", "abd", 2), strncmp("abc", "abd", 3), '
     'strncmp("ab", "ab", 10), bswap((uint16)0x1234)); exit(); }'),
    ('BEGIN { printf("%s|\\n", strftime("%H:%M:%S", nsecs)); @y = strftime("%Y", nsecs); '
     "exit(); }"),
    # pointers: hex as map keys, signed as values; casts to integer pointers; the cgroup
    # of the tool itself in every hierarchy (both tools start from the test's cgroup)
    ('BEGIN { @y[(struct task_struct *)1] = 1; @z = (uint8 *)5; @n = (int16 *)-1; '
     'printf("%s|%s\\n", cgroup_path(cgroup), cgroup_path(cgroup, "c*")); '
     'printf("%s\\n", macaddr(0)); exit(); }'),
    # hist: every value from 2^31 on in [2G, 4G); unknown symbols print as addresses;
    # division by zero is 0
    ('BEGIN { @h = hist(1 << 40); @h = hist(5000000000); @h = hist(0x7fffffff); '
     '@h = hist(-5); printf("%s %s %s|%d %d\\n", ksym(1), usym(1), ksym(0), 7 / 0, 7 % 0); '
     "exit(); }"),
    # dead code under a constant condition; a count() map without keys left empty
    # (never counted, or cleared) prints 0, every other kind only its line ending
    ("BEGIN { if (0) { @c = count(); @s = sum(1); @a = avg(2); @h = hist(1); } "
     "@z = count(); clear(@z); $i = 0; while (0) { $i++; } exit(); }"),
    # the other side of a constant condition is dead too: an else after if (1), the end
    # of while (1) reached only by break
    ('BEGIN { if (1) { printf("a\\n"); } else if (2) { printf("b\\n"); } $i = 0; '
     'while (1) { $i++; if ($i > 3) { break; } } printf("%d\\n", $i); exit(); }'),
    # one unsigned operand makes arithmetic and comparisons unsigned, as in C; averages
    # and totals of negative values stay negative
    ("BEGIN { @a = (uint64)-1 + 0; @c = -1 + (uint64)0; @d = (uint64)-1 >> 1; "
     '@e = 1 << 63; @h = -1 >> 60; printf("%d %d\\n", (uint64)-1 + 0 > 0, -1 < (uint64)0); '
     "@v[1] = avg(-10); @v[2] = avg(5); @v[1] = avg(3); @st = stats(-1); @st = stats(-4); "
     "exit(); }"),
    # a tuple's fields read from a variable, as printf arguments, map keys and values
    ('BEGIN { $t = (1, "x", (int8)-3); printf("%d %s %d\\n", $t.0, $t.1, $t.2); '
     "@m[$t.1] = $t.0; @v = $t.1; exit(); }"),
]


@pytest.mark.parametrize("script", BEGIN_SCRIPTS)
def test_begin_scripts_print_as_bpftrace(script: str) -> None:
    ours, theirs = both(script)
    assert ours == theirs


def test_counts_of_opened_files(marker: Callable[..., None], known_file: str) -> None:
    script = (f'tracepoint:syscalls:sys_enter_openat /comm == "{MARK}"/ '
              "{ @[str(args->filename)] = count(); @n = count(); }")
    ours, theirs = both_live(script, lambda: marker(known_file, known_file))
    assert known_file in ours
    assert ours == theirs


def test_printf_per_event(marker: Callable[..., None], known_file: str) -> None:
    script = (f'tracepoint:syscalls:sys_enter_openat /comm == "{MARK}"/ '
              '{ printf("%s opens %s\\n", comm, str(args->filename)); }')
    ours, theirs = both_live(script, lambda: marker(known_file))
    assert f"{MARK} opens {known_file}" in ours
    assert ours == theirs


def test_read_sizes_histogram(marker: Callable[..., None], known_file: str) -> None:
    script = (f'tracepoint:syscalls:sys_exit_read /comm == "{MARK}"/ '
              "{ @bytes = hist(args->ret); @lin = lhist(args->ret, 0, 2000, 500); "
              "@total = sum(args->ret); @big = max(args->ret); @st = stats(args->ret); }")
    ours, theirs = both_live(script, lambda: marker(known_file, known_file))
    assert "@total: " in ours
    assert ours == theirs


def test_probe_builtin_over_a_wildcard(marker: Callable[..., None], known_file: str) -> None:
    script = (f'tracepoint:syscalls:sys_enter_open* /comm == "{MARK}"/ '
              "{ @[probe] = count(); }")
    ours, theirs = both_live(script, lambda: marker(known_file))
    assert "tracepoint:syscalls:sys_enter_openat" in ours
    assert ours == theirs


def test_stacks_with_a_mode_and_a_limit(marker: Callable[..., None], known_file: str
                                         ) -> None:
    """kstack(limit), kstack(perf, limit): as many frames, the perf mode's with their
    address (bare hex) and a tab; stacks of one limit count together in a map."""
    script = (f'tracepoint:syscalls:sys_enter_openat /comm == "{MARK}"/ '
              '{ printf("%s|%s\\n", kstack(2), kstack(perf, 2)); @k[kstack(3)] = count(); '
              "@p[kstack(perf, 1)] = count(); }")
    ours, theirs = (re.sub(r"\b[0-9a-f]{16}\b", "ADDR", text)
                    for text in both_live(script, lambda: marker(known_file)))
    assert "\tADDR perf_syscall_enter+" in ours
    assert ours == theirs


def test_exit_from_an_interval() -> None:
    ours, theirs = both("interval:ms:100 { @i++; if (@i == 3) { exit(); } }")
    assert ours == theirs
    assert ours.endswith("@i: 3\n")


@pytest.mark.parametrize("script", [
    "tracepoint:syscalls:sys_enter_foo { @ = count(); }",
    "tracepoint:syscalls:sys_enter_openat { @x = args->nofield; }",
    'BEGIN { printf("%d\\n"); }',
    'BEGIN { @x = 1; @x = "a"; }',
    "BEGIN { @x = ; }",
    "BEGIN { @x = 1 + ; }",
    'BEGIN { printf("a" }',
    "BEGIN { $x = 1 $y = 2; }",
    "BEGIN { $y = $x; }",
    "BEGIN { @x = count(); @x = 1; }",
    "BEGIN { exit(); } struct foo { int a; };",
    "BEGIN { foo(); }",
    "BEGIN { @x = offsetof(struct task_struct, pid); }",
    'BEGIN { printf("%s\\n", macaddr(comm)); }',
    "BEGIN { @ = count(1); }",
    "BEGIN { @ = sum(); }",
    "BEGIN { @ = lhist(1); }",
    "BEGIN { exit(1); }",
    "BEGIN { @a[1, 2] = 1; @a[1] = 2; }",
    'BEGIN { @a["x"] = 1; @a[1] = 2; }',
    "BEGIN { print(@nosuch); }",
    'BEGIN { printf("%d\\n", sizeof(struct nosuch)); }',
    'BEGIN { printf("%d\\n", retval); }',
    'BEGIN { printf("%d\\n", arg0); }',
    "BEGIN { $x = args->foo; }",
    "BEGIN { @x = count(); @x++; }",
    "BEGIN { @x = sum(1); @x -= 1; }",
    'BEGIN { printf("%d\\n", kaddr("nosuch_symbol_x")); }',
    f'uprobe:{LIBC}:setlocale {{ printf("%lx\\n", uaddr("nosuchsym")); }}',
])
def test_errors_as_bpftrace_reports_them(script: str) -> None:
    ours = run_command([sys.executable, "-m", "pybpf", "trace", "-e", script])
    theirs = run_bpftrace(script)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr


def test_join_of_execve_arguments(marker: Callable[..., None], marker_path: Path,
                                  known_file: str) -> None:
    script = (f'tracepoint:syscalls:sys_enter_execve /str(args->filename) == "{marker_path}"/'
              ' { join(args->argv); join(args->argv, ","); }')
    ours, theirs = both_live(script, lambda: marker(known_file, "-u", "two words"))
    assert f"{marker_path} {known_file} -u two words" in ours
    assert ours == theirs


def test_uprobe_and_uretprobe_on_libc(marker: Callable[..., None], known_file: str) -> None:
    script = (f'uprobe:{LIBC}:getenv /comm == "{MARK}"/ {{ @names[str(arg0)] = count(); }} '
              f'uretprobe:{LIBC}:getenv /comm == "{MARK}"/ {{ @found[retval != 0] = count(); }}')
    ours, theirs = both_live(script, lambda: marker(known_file))
    # only names libc passes from its own writable data: a name in a page the process has
    # not touched yet reads as empty, in either tool
    ours, theirs = ("\n".join(line for line in t.split("\n") if not line.startswith("@names[")
                              or line.startswith(("@names[LANG]", "@names[LC_ALL]")))
                    for t in (ours, theirs))
    assert "@names[LC_ALL]: " in ours
    assert ours == theirs


def test_kernel_stacks(marker: Callable[..., None], known_file: str) -> None:
    script = (f'tracepoint:syscalls:sys_enter_openat /comm == "{MARK}"/ '
              "{ @[kstack] = count(); }")
    ours, theirs = both_live(script, lambda: marker(known_file))
    assert "do_syscall_64+" in ours
    # a tracepoint's callers go through __traceiter_* only while it has several probes,
    # which depends on whatever else traces the machine at the time
    ours, theirs = (re.sub(r" *__traceiter_\w+\+\d+\n", "", t) for t in (ours, theirs))
    assert ours == theirs


def test_uprobe_wildcard(marker: Callable[..., None], known_file: str) -> None:
    script = f'uprobe:{LIBC}:setlocale* /comm == "{MARK}"/ {{ @[probe] = count(); }}'
    ours, theirs = both_live(script, lambda: marker(known_file))
    assert f"@[uprobe:{LIBC}:setlocale]: 1" in ours
    assert ours == theirs


@pytest.mark.parametrize("links", ["uprobe_multi", "perf_event"])
def test_uprobe_wildcards_share_a_program_reading_probe(links: str, marker: Callable[..., None],
                                                        known_file: str) -> None:
    """mem* (IFUNC resolvers and functions named only in libc's debug file among them)
    and setlocale*'s returns, each one program whose sites carry their probe's index as
    cookie: as one uprobe_multi link per program where the kernel has them, else a perf
    event each; `probe`, `func` and `ustack` as bpftrace prints them."""
    script = (f'uprobe:{LIBC}:mem* /comm == "{MARK}"/ {{ @[probe] = count(); }} '
              f'uretprobe:{LIBC}:setlocale* /comm == "{MARK}"/ '
              "{ @r[probe, func] = count(); @s[ustack] = count(); }")
    ours, theirs = both_live(script, lambda: marker(known_file),
                             pybpf=PYBPF_PERF_UPROBES if links == "perf_event" else None)
    assert f"@[uprobe:{LIBC}:memchr_ifunc]: " in ours
    assert f"@r[uretprobe:{LIBC}:setlocale, " in ours
    assert ours == theirs


def test_struct_definitions_casts_and_sizeof(marker: Callable[..., None],
                                             known_file: str) -> None:
    """A script's own C structs: laid out as C lays them out, cast onto a syscall's user
    buffer (cat writes the known file's "0123456789..."), their sizes."""
    structs = ("struct foo { int a; char b[8]; short c; }; "
               "struct bar { struct foo f; char *p; long x[2]; unsigned char u; } ")
    script = (f'tracepoint:syscalls:sys_enter_write /comm == "{MARK}"/ '
              "{ $f = (struct foo *)args->buf; "
              'printf("%x %s %x %d %d\\n", $f->a, $f->b, ((struct bar *)args->buf)->f.c, '
              "sizeof(struct foo), sizeof($f->c)); "
              "@sizes = (sizeof(struct bar), sizeof(int32), sizeof(comm), sizeof(uint8)); }")
    ours, theirs = both_live(script, lambda: marker(known_file), preamble=structs)
    assert "33323130 45678901 3332 16 2" in ours
    assert "@sizes: (48, 4, 16, 1)" in ours
    assert ours == theirs


def test_buf_macaddr_of_a_user_buffer(marker: Callable[..., None], known_file: str) -> None:
    """buf() with a literal and a run-time length, macaddr() of a pointer, as values, map
    keys and printf arguments (cat writes the known file's "0123456789...")."""
    script = (f'tracepoint:syscalls:sys_enter_write /comm == "{MARK}"/ '
              '{ printf("%r|%r|%s\\n", buf(args->buf, args->count), buf(args->buf, 3), '
              "macaddr(args->buf)); @m[macaddr(args->buf)] = count(); "
              "@b[buf(args->buf, 4)] = count(); $n = 5; @v = buf(args->buf, $n); }")
    ours, theirs = both_live(script, lambda: marker(known_file))
    assert "|012|" in ours and "@v: 01234\n" in ours
    assert ours == theirs


def test_uaddr_of_libc_symbols(marker: Callable[..., None], known_file: str) -> None:
    script = (f'uprobe:{LIBC}:setlocale /comm == "{MARK}"/ '
              '{ printf("%lx %d\\n", uaddr("program_invocation_name"), '
              'sizeof(uaddr("__libc_single_threaded"))); @[uaddr("environ")] = count(); }')
    ours, theirs = both_live(script, lambda: marker(known_file))
    assert ours.endswith("@[ADDR]: 1\n")
    assert ours == theirs
