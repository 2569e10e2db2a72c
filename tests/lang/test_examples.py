"""The example tools in examples/ run as scripts: each test causes the event the tool
watches and checks the tool's output."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pybpf.commands import compile as compile_command
from pybpf.elf.loader import load_collection_spec

pytestmark = pytest.mark.kernel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOOLS = ["execsnoop", "syscount", "sleeplat", "gethostsnoop", "xdp_counter"]


def _start(tool: str, *args: str, prefix: list[str] | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([*(prefix or []), sys.executable, str(EXAMPLES / f"{tool}.py"),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    first = proc.stdout.readline()      # printed once attached: safe to cause events
    if not first:
        proc.kill()
        raise AssertionError(f"{tool} exited early: {proc.stderr.read()[-2000:]}")
    return proc


def _stop(proc: subprocess.Popen) -> str:
    """SIGTERM once the example's loop handles it (its SigCgt mask shows it; before that
    SIGTERM would kill it), then its output: a tool that prints what its maps hold ends on
    the signal once the events are made, instead of after a fixed duration that a loaded
    machine may not meet."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        with open(f"/proc/{proc.pid}/status") as status:
            caught = next(int(ln.split()[1], 16) for ln in status if ln.startswith("SigCgt:"))
        if caught & (1 << (signal.SIGTERM - 1)):
            proc.send_signal(signal.SIGTERM)
            break
        time.sleep(0.01)
    else:
        proc.kill()     # never ready for the signal: _finish reports the failure
    return _finish(proc)


def _finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    return out


def test_execsnoop_prints_the_exec_with_pid_parent_and_file() -> None:
    proc = _start("execsnoop", "--duration", "2")
    child = subprocess.Popen(["/bin/true"])
    child.wait()
    out = _finish(proc)
    mine = [ln.split() for ln in out.splitlines() if ln.split()[:1] == [str(child.pid)]]
    assert mine, out[-2000:]
    _pid, ppid, _comm, filename = mine[0][:4]
    assert ppid == str(os.getpid()) and filename == "/bin/true"


def test_syscount_counts_this_process_getppid_calls() -> None:
    proc = _start("syscount", "--pid", str(os.getpid()), "--duration", "60")
    for _ in range(500):
        os.getppid()
    out = _stop(proc)
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.M))
    assert int(counts.get("getppid", counts.get("110", 0))) >= 500, out


def test_sleeplat_puts_10ms_sleeps_at_8ms_or_more() -> None:
    proc = _start("sleeplat", "--pid", str(os.getpid()), "--duration", "60")
    for _ in range(4):
        time.sleep(0.01)
    out = _stop(proc)
    buckets = {int(lo): int(n) for lo, n in re.findall(r"^\s*(\d+) -> \d+\s*: (\d+)", out,
                                                       re.M)}
    # a 10 ms sleep is never shorter, and on a busy machine may be much longer
    assert sum(n for lo, n in buckets.items() if lo >= 8192) >= 4, out


def test_gethostsnoop_sees_a_getaddrinfo_with_its_host() -> None:
    proc = _start("gethostsnoop", "--duration", "2")
    subprocess.run([sys.executable, "-c",
                    "import socket; socket.getaddrinfo('localhost', 80)"], check=True)
    out = _finish(proc)
    assert re.search(r"^\d+\s+python\S*\s+\d+ localhost$", out, re.M), out


@pytest.fixture()
def netns():
    name = f"pybpf_examples_{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_xdp_counter_counts_udp_and_drops_the_chosen_port(netns: str) -> None:
    proc = _start("xdp_counter", "--drop-udp-port", "4444", "--duration", "60",
                  prefix=["ip", "netns", "exec", netns])
    sender = ("import socket\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "r.bind(('127.0.0.1', 5555)); r.settimeout(2)\n"
              "for port in (4444, 4444, 4444, 5555):\n"
              "    s.sendto(b'x' * 20, ('127.0.0.1', port))\n"
              "print(r.recv(100))\n")
    got = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", sender],
                         capture_output=True, text=True, check=True).stdout
    assert got.strip() == "b'xxxxxxxxxxxxxxxxxxxx'"
    out = _stop(proc)
    assert re.search(r"^udp\s+4$", out, re.M) and "dropped 3" in out, out


@pytest.mark.parametrize("tool", TOOLS)
def test_every_example_compiles_to_an_object_pybpf_reads_back(tool: str, tmp_path: Path,
                                                               capsys) -> None:
    import argparse
    parser = argparse.ArgumentParser()
    compile_command.add_arguments(parser)
    output = tmp_path / f"{tool}.bpf.o"
    compile_command.run(parser.parse_args([str(EXAMPLES / f"{tool}.py"), "-o", str(output)]))
    spec = load_collection_spec(str(output))
    assert spec.programs and all(p.line_info for p in spec.programs.values())
    assert f"{tool}.py" in next(iter(spec.programs.values())).line_info[0].file_name


def test_the_readme_program_runs_and_sees_its_own_exec(tmp_path: Path) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text()
    section = readme.split("## A program in Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "readme_example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    events = re.findall(r"^exec: (\d+) ", done.stdout, re.M)
    counts = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own dict's repr
    assert events, done.stdout
    assert all(counts.get(int(pid), 0) >= 1 for pid in events)
