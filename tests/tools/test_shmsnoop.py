"""shmsnoop: a shared memory segment this process creates, attaches, detaches and removes."""

from __future__ import annotations

import ctypes
import json
import os

import pytest

from pybpf.tools import shmsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0


def _shm_round_trip() -> tuple[int, int]:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmdt.argtypes = [ctypes.c_void_p]
    shmid = libc.shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0o600)
    assert shmid >= 0
    addr = libc.shmat(shmid, None, 0)
    libc.shmdt(ctypes.c_void_p(addr))
    libc.shmctl(shmid, IPC_RMID, None)
    return shmid, addr


def test_segment_life_shows() -> None:
    seen: list[tuple[int, int]] = []
    run = run_tool(shmsnoop, ["-p", str(os.getpid())], action=lambda: seen.append(
        _shm_round_trip()), leaves_nothing=True, until=lambda out: "SHMCTL" in out)
    assert run.lines[0] == "PID    COMM                SYS              RET ARGs"
    shmid, addr = seen[0]
    rows = {ln.split()[2]: ln for ln in run.lines[1:]}
    assert rows["SHMGET"].split()[3] == f"{shmid:x}"
    assert rows["SHMGET"].endswith("key: 0x0, size: 8192, shmflg: 0x380 (IPC_CREAT|0600)")
    assert rows["SHMAT"].split()[3] == f"{addr:x}"
    assert f"shmid: {shmid:#x}, shmaddr: 0x0" in rows["SHMAT"]
    assert rows["SHMDT"].endswith(f"shmaddr: {addr:#x}")
    assert f"shmid: {shmid:#x}, cmd: 0" in rows["SHMCTL"]


def test_json() -> None:
    run = run_tool(shmsnoop, ["--json", "-p", str(os.getpid())], action=_shm_round_trip,
                   until=lambda out: "SHMCTL" in out)
    assert [json.loads(ln)["sys"] for ln in run.lines] == ["SHMGET", "SHMAT", "SHMDT", "SHMCTL"]
