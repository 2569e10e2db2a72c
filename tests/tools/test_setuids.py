"""setuids: a child that drops to nobody shows its setgid/setresuid calls and results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pybpf.tools import setuids
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

DROP = """
import os
os.setgid(65534)
os.setresuid(65534, 65534, 65534)
os.setreuid(-1, 65534)
try:
    os.setuid(0)
except PermissionError:
    pass
"""


def test_privilege_drop_shows() -> None:
    child: list[subprocess.Popen[bytes]] = []

    def act() -> None:
        child.append(subprocess.Popen([sys.executable, "-c", DROP]))
        child[0].wait()

    run = run_tool(setuids, [], action=act, leaves_nothing=True,
                   until=lambda out: "uid=0 (-1)" in out)
    assert run.lines[0] == "TIME     PID     COMM             UID    SYSCALL  ARGS (RET)"
    pid = str(child[0].pid)
    rows = [ln.split(None, 5) for ln in run.lines if f" {pid} " in ln]
    got = [(r[3], r[4], r[5]) for r in rows]
    assert ("0", "setgid", "gid=65534 (0)") in got
    assert ("0", "setresuid", "ruid=65534 euid=65534 suid=65534 (0)") in got
    assert ("65534", "setreuid", "ruid=-1 euid=65534 (0)") in got
    assert ("65534", "setuid", "uid=0 (-1)") in got      # EPERM


def test_failed_only_json() -> None:
    child: list[subprocess.Popen[bytes]] = []

    def act() -> None:
        child.append(subprocess.Popen([sys.executable, "-c", DROP]))
        child[0].wait()

    run = run_tool(setuids, ["-x", "--json"], action=act,
                   until=lambda out: '"ret":-1' in out)
    events = [json.loads(ln) for ln in run.lines if f'"pid":{child[0].pid}' in ln]
    assert len(events) == 1
    assert {"uid": 65534, "syscall": "setuid", "args": {"uid": 0}, "ret": -1}.items() \
        <= events[0].items()
