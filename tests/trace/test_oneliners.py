"""The one-liners of bpftrace's tutorial and one-liner list, run through ``pybpf trace`` and
through bpftrace 0.17 under the same workload, outputs compared after normalising.

Each one-liner is narrowed to a marker process the test runs (a link to a system binary
named after this run, pinned to CPU 0 so its events reach user space in order), and ends
when that process exits; other work on the machine does not show. Where the count of
events cannot be the same from run to run (stacks, page faults, scheduler events), the
comparison is of the output's shape: numbers and stack frames normalised, repeated lines
folded. One-liners pybpf cannot run yet are xfail(strict=True) with the reason, so they
fail the day they start to work; those this kernel cannot run (kprobes, PMU counters) must
fail in both.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.trace.bpftrace_oracle import BPFTRACE, Run, normalise, run_command

# the marker's command name, unique to this test run: other runs of these tests may be
# going on at the same time on the machine (a comm holds 15 characters)
MARK = f"tm{uuid.uuid4().hex[:12]}"
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
EXIT = f'tracepoint:sched:sched_process_exit /comm == "{MARK}"/ {{ exit(); }}'


@pytest.fixture(scope="module")
def marker_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pybpf-oneliners-") as d:
        yield d


def marker(directory: str, binary: str) -> str:
    """A link named ``MARK`` to ``binary``: exec'd through it, the process's comm is
    ``MARK``."""
    path = os.path.join(directory, binary.replace("/", "_"), MARK)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.lexists(path):
        os.symlink(shutil.which(binary) or binary, path)
    return path


@dataclass(frozen=True)
class OneLiner:
    name: str
    script: str                            # with {MARK}/{EXIT} filled in
    binary: str = "cat"                    # what the marker runs
    args: tuple[str, ...] = ("/etc/hostname",)
    compare: str = "exact"                 # exact | shape | both_fail
    interrupt: bool = False                # no exit of its own: SIGINT after the workload
    json: bool = False                     # -f json

    def text(self) -> str:
        """The script, with a BEGIN that says when every probe is attached (unless it has
        its own BEGIN, whose output says so)."""
        text = self.script.replace("{MARK}", MARK).replace("{EXIT}", EXIT)
        return text if "BEGIN" in text else 'BEGIN { printf("ready\\n"); } ' + text


ONE_LINERS = [
    OneLiner("hello", 'BEGIN { printf("hello world\\n"); }', interrupt=True),
    OneLiner("opens", 'tracepoint:syscalls:sys_enter_openat /comm == "{MARK}"/ '
             '{ printf("%s %s\\n", comm, str(args->filename)); } {EXIT}'),
    OneLiner("syscalls_by_comm",
             'tracepoint:raw_syscalls:sys_enter /comm == "{MARK}"/ { @[comm] = count(); } {EXIT}'),
    OneLiner("syscalls_by_probe", 'tracepoint:syscalls:sys_enter_* /comm == "{MARK}"/ '
             '{ @[probe] = count(); } {EXIT}'),
    OneLiner("read_bytes_hist", 'tracepoint:syscalls:sys_exit_read /comm == "{MARK}"/ '
             '{ @bytes = hist(args->ret); } {EXIT}'),
    OneLiner("opens_json", 'tracepoint:syscalls:sys_enter_openat /comm == "{MARK}"/ '
             '{ printf("%s %s\\n", comm, str(args->filename)); } {EXIT}', json=True),
    OneLiner("read_bytes_hist_json", 'tracepoint:syscalls:sys_exit_read /comm == "{MARK}"/ '
             '{ @bytes = hist(args->ret); @n[comm] = count(); } {EXIT}', json=True),
    # "Timing read()s", on the syscall tracepoints (kprobes are missing here)
    OneLiner("read_latency", 'tracepoint:syscalls:sys_enter_read /comm == "{MARK}"/ '
             '{ @start[tid] = nsecs; } tracepoint:syscalls:sys_exit_read /@start[tid]/ '
             '{ @ns[comm] = hist(nsecs - @start[tid]); delete(@start[tid]); } {EXIT}',
             compare="shape"),
    OneLiner("read_bytes_by_comm", 'tracepoint:syscalls:sys_exit_read /comm == "{MARK}" && '
             'args->ret/ { @[comm] = sum(args->ret); } {EXIT}'),
    OneLiner("read_size_by_comm", 'tracepoint:syscalls:sys_exit_read /comm == "{MARK}"/ '
             '{ @[comm] = hist(args->ret); } {EXIT}'),
    # (sched:sched* as in the tutorial would count wakeups that come and go with the load)
    OneLiner("process_events", 'tracepoint:sched:sched_process_* /comm == "{MARK}"/ '
             '{ @[probe] = count(); } {EXIT}'),
    # the marker sleeps, so it is switched out at least once before its exit ends the
    # script (a cat may never be switched out before exit: then one tool saw a stack and
    # the other none)
    OneLiner("sched_switch_stacks", 'tracepoint:sched:sched_switch /comm == "{MARK}"/ '
             '{ @[kstack] = count(); } {EXIT}', binary="sleep", args=("0.05",),
             compare="shape"),
    OneLiner("block_io", 'tracepoint:block:block_rq_issue /comm == "{MARK}"/ '
             '{ @ = hist(args->bytes); } {EXIT}', binary="dd",
             args=("if=/dev/zero", "of={TMP}/blk", "bs=4k", "count=4", "oflag=direct"),
             # the two runs are two dd processes: the file system may add a request to
             # either (4 or 5 were seen), so the histograms' shape is what must agree
             compare="shape"),
    OneLiner("syscall_rate", 'tracepoint:raw_syscalls:sys_enter /comm == "{MARK}"/ '
             '{ @ = count(); } interval:s:1 { print(@); clear(@); } {EXIT}', compare="shape"),
    OneLiner("page_faults", 'software:faults:1 /comm == "{MARK}"/ { @[comm] = count(); } {EXIT}',
             compare="shape"),
    OneLiner("profile_kstacks", 'profile:hz:99 /comm == "{MARK}"/ { @[kstack] = count(); } '
             '{EXIT}', binary="dd", args=("if=/dev/zero", "of=/dev/null", "bs=1k",
                                          "count=2000000"), compare="shape"),
    OneLiner("profile_ustacks", 'profile:hz:99 /comm == "{MARK}"/ { @[ustack] = count(); } '
             '{EXIT}', binary="dd", args=("if=/dev/zero", "of=/dev/null", "bs=1k",
                                          "count=2000000"), compare="shape"),
    OneLiner("uprobe_setlocale", f'uprobe:{LIBC}:setlocale /comm == "{{MARK}}"/ '
             '{ printf("setlocale %d\\n", arg0); } {EXIT}'),
    OneLiner("uretprobe_setlocale", f'uretprobe:{LIBC}:setlocale /comm == "{{MARK}}"/ '
             '{ printf("-> %s\\n", str(retval)); } {EXIT}'),
    OneLiner("vfs_read_lhist", 'kretprobe:vfs_read { @bytes = lhist(retval, 0, 2000, 200); }',
             compare="both_fail"),
    OneLiner("nanosleep_timing", 'kprobe:do_nanosleep { @start[tid] = nsecs; } '
             'kretprobe:do_nanosleep /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); '
             'delete(@start[tid]); }', compare="both_fail"),
    OneLiner("vfs_open_struct", 'kprobe:vfs_open { printf("open path: %s\\n", '
             'str(((struct path *)arg0)->dentry->d_name.name)); }', compare="both_fail"),
    OneLiner("llc_misses", 'hardware:cache-misses:1000000 { @[comm, pid] = count(); }',
             compare="both_fail"),
]

# what pybpf trace cannot do yet: each strict, so it turns into a failure once it works
NOT_YET: dict[str, str] = {
}


def _pybpf(script: str) -> list[str]:
    return [sys.executable, "-m", "pybpf.cli", "trace", "-e", script]


def _workload(line: OneLiner, directory: str, tmp: str) -> Callable[[], None]:
    import subprocess  # noqa: PLC0415

    argv = ["taskset", "-c", "0", marker(directory, line.binary),
            *(a.replace("{TMP}", tmp) for a in line.args)]

    def run() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "LC_ALL": "C"}, timeout=60)
    return run


_NUMBER = re.compile(r"\d+")
_HEX = re.compile(r"0x[0-9a-f]+")
_FRAME = re.compile(r"^ {4,}\S.*$")
_ROW = re.compile(r"^[\[(].*\) +\d+ \|@* *\|$")
_SYM_FRAME = re.compile(r"^ +[^\s+]+\+\d+$")
_ADDR_FRAME = re.compile(r"^ +0x[0-9a-f]+$")


def shape(text: str) -> list[str]:
    """The distinct lines of an output once every number and stack frame is made alike:
    what two runs of a non-deterministic one-liner still share."""
    lines = set()
    for line in text.split("\n"):
        if _ROW.match(line):
            line = "HIST ROW"
        elif _FRAME.match(line):
            # a frame keeps its form: symbol+decimal offset, a bare address, or other text
            line = _SYM_FRAME.sub("    SYMBOL+OFFSET", _ADDR_FRAME.sub("    ADDRESS", line))
        else:
            line = _NUMBER.sub("N", _HEX.sub("ADDRESS", line))
        lines.add(re.sub(r"\|@*\s*\|", "|BAR|", line))
    return sorted(lines)


def _header(run: Run) -> str:
    return run.stdout.split("\n", 1)[0]


@pytest.mark.kernel
@pytest.mark.parametrize("line", [
    pytest.param(o, id=o.name, marks=[pytest.mark.xfail(strict=True, reason=NOT_YET[o.name])]
                 if o.name in NOT_YET else []) for o in ONE_LINERS])
def test_one_liner_as_bpftrace(line: OneLiner, marker_dir: str, tmp_path: os.PathLike[str]
                               ) -> None:
    script = line.text()
    work = _workload(line, marker_dir, os.fspath(tmp_path))
    ready = re.compile(rb'^(ready|hello world|\{"type": "printf", "data": "ready\\n"\})$',
                       re.M)
    fmt = ["-f", "json"] if line.json else []
    theirs = run_command([BPFTRACE, *fmt, "-e", script], workload=work,
                         interrupt=line.interrupt, ready=ready)
    ours = run_command([*_pybpf(script)[:-2], *fmt, "-e", script], workload=work,
                       interrupt=line.interrupt, env={"PYTHONPATH": _src_path()}, ready=ready)
    if line.compare == "both_fail":
        assert theirs.returncode != 0 and ours.returncode != 0, (theirs.stderr, ours.stderr)
        assert "Traceback" not in ours.stderr, ours.stderr
        return
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert _header(ours) == _header(theirs)
    if line.compare == "shape":
        assert shape(ours.body) == shape(theirs.body)
    else:
        assert normalise(ours.body) == normalise(theirs.body)


@pytest.mark.kernel
def test_list_syscall_tracepoints_as_bpftrace() -> None:
    """Lesson 1: ``-l 'tracepoint:syscalls:sys_enter_*'``."""
    import subprocess  # noqa: PLC0415

    pattern = "tracepoint:syscalls:sys_enter_*"
    theirs = subprocess.run([BPFTRACE, "-l", pattern], capture_output=True, text=True,
                            timeout=120)
    ours = subprocess.run([sys.executable, "-m", "pybpf.cli", "trace", "-l", pattern],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": _src_path()})
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def _src_path() -> str:
    import pybpf  # noqa: PLC0415

    return os.path.dirname(os.path.dirname(os.path.abspath(pybpf.__file__)))


DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "trace.md")


def doc_examples() -> list[tuple[str, str]]:
    """The ``$ pybpf trace ...`` console blocks of docs/trace.md: (command, output)."""
    with open(DOC) as f:
        blocks = re.findall(r"^```console\n(.*?)^```", f.read(), re.S | re.M)
    examples = []
    for block in blocks:
        command, _, output = block.partition("\n")
        assert command.startswith("$ pybpf trace "), command
        examples.append((command[2:], output))
    return examples


@pytest.mark.kernel
@pytest.mark.parametrize("example", doc_examples(), ids=lambda e: e[0][:40])
def test_doc_example_as_printed(example: tuple[str, str]) -> None:
    """docs/trace.md shows what both pybpf trace and bpftrace print."""
    import shlex  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    command, output = example
    args = shlex.split(command)[2:]
    for argv, env in (([sys.executable, "-m", "pybpf.cli", "trace", *args],
                       {**os.environ, "PYTHONPATH": _src_path()}),
                      ([BPFTRACE, *args], None)):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout == output, argv[0]


# ---------------------------------------------------------------------------------------
# bpftrace's own tools (Debian installs them as /usr/sbin/*.bt) that use tracepoints and
# uprobes: run whole, under a marker workload; compared are the header lines their BEGIN
# prints and the lines about the marker process, numbers that vary (pids, times,
# latencies) made alike


@dataclass(frozen=True)
class Tool:
    name: str
    binary: str
    args: tuple[str, ...]
    header: int                            # lines BEGIN prints
    # exact: the header and the marker's lines; shape: the whole output's shape (tools
    # that print only machine-wide maps); the workload typed into an interactive bash
    compare: str = "exact"
    typed: str = ""
    ready: str = "Ctrl-C"                  # what BEGIN prints once every probe is attached
    # prints the marker's lines as events (not in maps at exit): SIGINT waits until they
    # show, or a quick SIGINT can beat the tool's read of its buffer (bpftrace then drops
    # the event: execsnoop lost its line in about 1 run of 4)
    events: bool = True
    # a tool whose count of marker lines varies from run to run: the distinct lines,
    # without those matching this (sslsnoop: SSL_read's -1 while no data waits, racy),
    # their last word made alike (a symbol either tool reads after the process exited
    # prints as its address: a race in bpftrace as here)
    drop: str = ""


TOOLS = [
    Tool("opensnoop", "cat", ("/etc/hostname",), 2),
    Tool("statsnoop", "stat", ("/etc/hostname",), 2),
    Tool("syncsnoop", "sync", (), 2),
    Tool("killsnoop", "kill", ("-0", "{PID}"), 2),
    Tool("setuids", "setpriv", ("--reuid=65534", "--regid=65534", "--clear-groups", "true"), 2),
    Tool("bitesize", "dd", ("if=/dev/zero", "of={TMP}/blk", "bs=4k", "count=4",
                            "oflag=direct"), 1, events=False),
    # 200k syscalls: the marker is among the top 10 processes however busy the machine is
    Tool("syscount", "dd", ("if=/dev/zero", "of=/dev/null", "bs=1", "count=100000"), 1,
         events=False),
    Tool("gethostlatency", "getent", ("hosts", "localhost"), 2),
    Tool("naptime", "sleep", ("0.01",), 2, events=False),
    # argv of each exec (join): the marker's path and arguments
    Tool("execsnoop", "cat", ("-u", "/etc/hostname"), 1, ready="ARGS"),
    # uretprobe on bash's readline: a line typed into an interactive bash (on a pty)
    Tool("bashreadline", "bash", ("--norc", "--noprofile", "-i"), 2,
         typed="echo {MARK}\nexit\n"),
    # machine-wide histograms printed at Ctrl-C
    # (runqlat.bt includes linux/sched.h, which bpftrace 0.17 cannot parse here)
    # uprobes on libssl: a TLS client's handshake with a server on loopback (the
    # tool's internal libcrypto names are not in the library: both tools drop them)
    Tool("sslsnoop", "openssl", ("s_client", "-connect", "127.0.0.1:{PORT}", "-quiet"), 2,
         drop=r" -N "),
    Tool("ssllatency", "openssl", ("s_client", "-connect", "127.0.0.1:{PORT}", "-quiet"), 1,
         compare="shape", events=False),
    Tool("cpuwalk", "dd", ("if=/dev/zero", "of=/dev/null", "bs=1k", "count=200000"), 1,
         compare="shape", events=False),
]
TOOLS_NOT_YET: dict[str, str] = {
    "naptime": "sleep(1) calls clock_nanosleep, which naptime does not trace: bpftrace "
               "shows no marker line either",
}

_VARYING = re.compile(r"\b\d+\b")
_PADDED = re.compile(r" +N +")


def _tool_lines(body: str, header: int) -> list[str]:
    lines = body.split("\n")
    # an event of another process may come between the attaching and BEGIN's header, in
    # either tool: the header is the first lines that are not events (which start with a
    # number: a time or a pid)
    heading = [line for line in lines if not line[:1].isdigit()][:header]
    kept = heading + [line for line in lines if MARK in line]
    # a number's width varies (times, pids), and with it the padding of its column
    return [_PADDED.sub(" N ", " " + _VARYING.sub("N", normalise(line)) + " ").strip()
            for line in kept]


@pytest.mark.kernel
@pytest.mark.parametrize("tool", [
    pytest.param(t, id=t.name, marks=[pytest.mark.xfail(strict=True,
                                                        reason=TOOLS_NOT_YET[t.name])]
                 if t.name in TOOLS_NOT_YET else []) for t in TOOLS])
def test_bpftrace_tool_as_bpftrace(tool: Tool, marker_dir: str,
                                   tmp_path: os.PathLike[str],
                                   request: pytest.FixtureRequest) -> None:
    path = f"/usr/sbin/{tool.name}.bt"
    port = request.getfixturevalue("tls_server") if any("{PORT}" in a for a in tool.args) \
        else 0
    args = tuple(a.replace("{PID}", str(os.getpid())).replace("{PORT}", str(port))
                 for a in tool.args)
    line = OneLiner(tool.name, "", binary=tool.binary, args=args)
    work = _workload(line, marker_dir, os.fspath(tmp_path)) if not tool.typed else \
        _typed(tool.typed.replace("{MARK}", MARK), [tool.binary, *args])
    ready = re.compile(tool.ready.encode())
    until = re.compile(MARK.encode())
    runs = []
    for argv, env in (([BPFTRACE, path], None), (_pybpf_file(path), {"PYTHONPATH": _src_path()})):
        # map-printing tools show the marker only at exit: SIGINT once the workload is done
        run = run_command(argv, workload=work, interrupt=True, ready=ready,
                          until=until if tool.events else None,
                          env=env)
        assert run.returncode == 0, run.stderr
        runs.append(run)
    theirs, ours = runs
    if tool.compare == "shape":
        assert "|@" in theirs.body, theirs.body
        assert shape(ours.body) == shape(theirs.body)
        return
    want = _tool_lines(theirs.body, tool.header)
    got = _tool_lines(ours.body, tool.header)
    if tool.drop:
        want, got = ([line for line in dict.fromkeys(re.sub(r"\S+$", "FUNC", line)
                                                     if MARK in line else line
                                                     for line in lines)
                      if not re.search(tool.drop, line)] for lines in (want, got))
    assert any(MARK in w for w in want), theirs.body
    assert got == want


@pytest.fixture
def tls_server(tmp_path: os.PathLike[str]) -> Iterator[int]:
    """An ``openssl s_server`` on 127.0.0.1 with a throwaway certificate: its port."""
    import socket  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    tmp = os.fspath(tmp_path)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{tmp}/k.pem",
                    "-out", f"{tmp}/c.pem", "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                               "-cert", f"{tmp}/c.pem", "-key", f"{tmp}/k.pem", "-quiet"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):                 # until it listens
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        server.kill()
        server.wait()


def _typed(text: str, argv: list[str]) -> Callable[[], None]:
    """A workload that types ``text`` into ``argv`` run on a pseudo-terminal (bash reads
    lines with readline only from a terminal), and waits for it to exit."""
    import pty  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    def run() -> None:
        leader, follower = pty.openpty()
        try:
            proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower,
                                    start_new_session=True,
                                    env={**os.environ, "PS1": "$ ", "HISTFILE": "/dev/null"})
            os.write(leader, text.encode())
            deadline = 30.0
            while proc.poll() is None and deadline > 0:
                # the terminal's output must be read, or bash blocks writing its echo
                import select  # noqa: PLC0415

                if select.select([leader], [], [], 0.1)[0]:
                    os.read(leader, 4096)
                deadline -= 0.1
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        finally:
            os.close(leader)
            os.close(follower)
    return run


def _pybpf_file(path: str) -> list[str]:
    return [sys.executable, "-m", "pybpf.cli", "trace", path]
