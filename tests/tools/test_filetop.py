"""filetop: this process's reads and writes of a file it names show with counts and
bytes; a socket pair's traffic shows only with -a."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from pybpf.tools import filetop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

BCC_HEADER = "TID     COMM             READS  WRITES R_Kb    W_Kb    T FILE"


def _file_io(path: Path, tids: list[int]) -> None:
    def work() -> None:
        tids.append(threading.get_native_id())
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            for _ in range(8):
                os.write(fd, b"z" * 4096)
            for i in range(3):
                os.pread(fd, 8192, i * 8192)
        finally:
            os.close(fd)
        a, b = socket.socketpair()
        with a, b:
            os.write(a.fileno(), b"ping")
            os.read(b.fileno(), 4)

    t = threading.Thread(target=work)
    t.start()
    t.join()


def test_file_rows(tmp_path: Path) -> None:
    tids: list[int] = []
    path = tmp_path / "pybpf-filetop.dat"
    run = run_tool(filetop, ["-C", "-p", str(os.getpid()), "30"],
                   action=lambda: _file_io(path, tids), timeout_s=0.3, leaves_nothing=True)
    assert BCC_HEADER in run.lines
    row = next(ln.split() for ln in run.lines if ln.endswith(path.name))
    assert row[0] == str(tids[0])
    assert row[2:8] == ["3", "8", "24", "32", "R", path.name]
    assert not any(" S " in ln for ln in run.lines)


def test_all_files_json_has_the_socket(tmp_path: Path) -> None:
    tids: list[int] = []
    run = run_tool(filetop, ["-a", "--json", "-p", str(os.getpid()), "30"],
                   action=lambda: _file_io(tmp_path / "f", tids), timeout_s=0.3)
    rows = [json.loads(ln) for ln in run.lines]
    sockets = [r for r in rows if r["type"] == "S" and r["tid"] == tids[0]]
    assert sum(r["rbytes"] + r["wbytes"] for r in sockets) == 8
