"""Run the real bpftrace (0.17, from Debian: scripts/setup.sh installs it) as an oracle.

:func:`run_bpftrace` runs one script under a workload the test controls and returns what
bpftrace printed; :func:`normalise` blanks out what must differ between two runs (pids,
clock times, kernel and user addresses, the order of equal values that bpftrace leaves to
the kernel's hash order). tracec's differential tests run ``pybpf trace`` through the same
functions (:func:`run_command` takes any argv), so both sides are treated alike.

How a run goes: start the command with its output on a pipe, wait for ``Attaching N
probes...`` (or the JSON ``attached_probes`` line), run ``workload`` (argv lists or a
callable), then wait for the script to end by itself (``exit()``) or, with
``interrupt=True``, send SIGINT once the workload is done (bpftrace then prints its maps).
A run that outlives ``timeout`` is killed with its process group and fails the test.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

BPFTRACE = shutil.which("bpftrace") or "/usr/bin/bpftrace"

# bpftrace cannot raise RLIMIT_MEMLOCK in this container and says so on every run; the
# kernel accounts BPF memory to the cgroup, so it works anyway
_NOISE = re.compile(r"^ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK.*\n", re.M)
_SIGINT_AGAIN = 2.0      # seconds before bpftrace is sent SIGINT again (see run_command)
_READY = re.compile(rb"^(Attaching \d+ probes?\.\.\.|\{\"type\": \"attached_probes\".*)$",
                    re.M)

Workload = Callable[[], object] | Sequence[Sequence[str]] | None


@dataclass
class Run:
    """What one run printed: stdout as text (bytes kept through surrogate escapes)."""

    stdout: str
    stderr: str
    returncode: int

    @property
    def body(self) -> str:
        """stdout after the ``Attaching...`` line: what the script itself printed."""
        m = _READY.search(self.stdout.encode("utf-8", "surrogateescape"))
        if m is None:
            return self.stdout
        return self.stdout.encode("utf-8", "surrogateescape")[m.end() + 1:].decode(
            "utf-8", "surrogateescape")


def _run_workload(workload: Workload) -> None:
    if workload is None:
        return
    if callable(workload):
        workload()
        return
    for argv in workload:
        subprocess.run(list(argv), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


def _default_sigint() -> None:
    # a shell starts background jobs with SIGINT ignored, and the child would inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_command(argv: Sequence[str], *, workload: Workload = None, interrupt: bool = False,
                timeout: float = 60.0, env: dict[str, str] | None = None,
                ready: re.Pattern[bytes] | None = None,
                until: re.Pattern[bytes] | None = None) -> Run:
    """Run a bpftrace-like command (bpftrace, or ``pybpf trace``) as described above.

    bpftrace prints ``Attaching...`` before it attaches; a script whose workload must not
    start before every probe is in place prints a line of its own from BEGIN (which runs
    once all are attached) and passes ``ready``, a pattern for that line. With
    ``interrupt``, ``until`` (a pattern) holds SIGINT back until the output shows the
    workload's events arrived.
    """
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **(env or {})}, preexec_fn=_default_sigint)
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    deadline = time.monotonic() + timeout
    attached = worked = signalled = False
    # bpftrace 0.17 can miss a SIGINT that lands between its exit check and its wait for
    # events, and then waits for an event that may never come (bashreadline after its bash
    # exited hung past the timeout): it gets SIGINT again until it ends. pybpf is not
    # given a second one (its first SIGINT must be enough).
    resend = os.path.basename(argv[0]) == "bpftrace"
    again = 0.0
    try:
        while sel.get_map():
            if attached and not worked:
                _run_workload(workload)
                worked = True
            if worked and interrupt and not signalled and (
                    until is None or until.search(out) is not None):
                proc.send_signal(signal.SIGINT)
                signalled = True
                again = time.monotonic() + _SIGINT_AGAIN
            elif signalled and resend and time.monotonic() >= again:
                proc.send_signal(signal.SIGINT)
                again = time.monotonic() + _SIGINT_AGAIN
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{argv[0]} ran past {timeout}s: {bytes(out)[-500:]!r}")
            for key, _ in sel.select(timeout=min(left, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
            attached = attached or (ready or _READY).search(out) is not None
        proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
    finally:
        sel.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return Run(out.decode("utf-8", "surrogateescape"),
               _NOISE.sub("", err.decode("utf-8", "surrogateescape")), proc.returncode)


def run_bpftrace(script: str, *args: str, workload: Workload = None, interrupt: bool = False,
                 timeout: float = 60.0, json: bool = False) -> Run:
    """Run ``bpftrace [-f json] ARGS -e SCRIPT`` (a script file when ``script`` names one)."""
    argv = [BPFTRACE, *(["-f", "json"] if json else []), *args]
    argv += [script] if script.endswith(".bt") and os.path.exists(script) else ["-e", script]
    return run_command(argv, workload=workload, interrupt=interrupt, timeout=timeout)


# ---------------------------------------------------------------------------------------
# normalising

_CLOCK = re.compile(r"\b\d\d:\d\d:\d\d(\.\d+)?\b")
_ADDR = re.compile(r"\b0x[0-9a-f]{6,16}\b")
_OFFSET = re.compile(r"\+\d+\b")
_MAP_LINE = re.compile(r"^(@[A-Za-z0-9_]*)(\[.*\])?: (-?\d+)$")


def normalise(text: str, *, pids: Sequence[int] = (), clock: bool = True,
              addresses: bool = True, offsets: bool = False, ties: bool = True) -> str:
    """``text`` with what differs between equivalent runs replaced by placeholders.

    ``pids``: these numbers become ``PID``; ``clock``: ``HH:MM:SS[.frac]`` becomes
    ``TIME``; ``addresses``: long hex numbers become ``ADDR``; ``offsets``: ``sym+123``
    becomes ``sym+OFF``; ``ties``: runs of ``@m[...]: N`` lines of one map with the same N
    (which bpftrace orders by the kernel's hash order) are sorted.
    """
    if clock:
        text = _CLOCK.sub("TIME", text)
    if addresses:
        text = _ADDR.sub("ADDR", text)
    if offsets:
        text = _OFFSET.sub("+OFF", text)
    for pid in pids:
        text = re.sub(rf"\b{pid}\b", "PID", text)
    if ties:
        text = _sort_ties(text)
    return text


def _sort_ties(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    group: list[str] = []
    group_key: tuple[str, str] | None = None
    for line in lines + [""]:
        m = _MAP_LINE.match(line)
        key = (m.group(1), m.group(3)) if m else None
        if key is not None and key == group_key:
            group.append(line)
            continue
        out.extend(sorted(group))
        group, group_key = ([line], key) if key is not None else ([], None)
        if key is None:
            out.append(line)
    return "\n".join(out[:-1])
