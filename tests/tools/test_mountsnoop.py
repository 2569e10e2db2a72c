"""mountsnoop: a tmpfs mount and umount the test makes show with namespace and result."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import pytest

from pybpf.tools import mountsnoop
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

# BCC's mountsnoop: %-16s COMM, %-7s PID TID, %-11s MNT_NS, CALL (-P adds PCOMM, PPID)
BCC_HEADER = "COMM             PID     TID     MNT_NS      CALL"
BCC_HEADER_P = "COMM             PID     TID     PCOMM            PPID    MNT_NS      CALL"

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _mount_and_umount(target: str) -> None:
    assert _libc.mount(b"pybpf-src", target.encode(), b"tmpfs", 0, b"size=1m") == 0, \
        os.strerror(ctypes.get_errno())
    assert _libc.umount2(target.encode(), 0) == 0
    assert _libc.mount(b"pybpf-src", b"/nonexistent/pybpf-mnt", b"tmpfs", 0, None) == -1


def test_mount_umount_and_a_failed_mount_show(tmp_path) -> None:
    target = str(tmp_path)
    mnt_ns = os.stat("/proc/self/ns/mnt").st_ino
    result = run_tool(mountsnoop, ["-P"], action=lambda: _mount_and_umount(target),
                      until=lambda out: "pybpf-mnt" in out)
    assert result.lines[0] == BCC_HEADER_P
    mine = [ln for ln in result.lines[1:] if ln.split()[1] == str(os.getpid())]
    calls = [ln.split(None, 6)[6] for ln in mine]
    assert calls == [f'mount("pybpf-src", "{target}", "tmpfs", 0x0, "size=1m") = 0',
                     f'umount("{target}", 0x0) = 0',
                     'mount("pybpf-src", "/nonexistent/pybpf-mnt", "tmpfs", 0x0, "") = -ENOENT']
    fields = mine[0].split()
    assert fields[2] == str(os.getpid()) and fields[4] == str(os.getppid())
    assert fields[5] == str(mnt_ns)


def test_header_without_parent_and_flag_names() -> None:
    assert mountsnoop.header(mountsnoop.parse_args([])) == BCC_HEADER
    assert mountsnoop.flag_names(4096 | 16384, mountsnoop.MOUNT_FLAGS) == "MS_BIND|MS_REC"
    assert mountsnoop.flag_names(0, mountsnoop.UMOUNT_FLAGS) == "0x0"
