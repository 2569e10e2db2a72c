"""bpffs and tracefs are mounted on demand."""

from __future__ import annotations

import pytest

from pybpf.kernel import mounts

pytestmark = pytest.mark.kernel


def test_ensure_bpffs_and_tracefs_are_mounted_after():
    assert mounts.ensure_bpffs() == "/sys/fs/bpf"
    assert mounts.mounted_fs_type("/sys/fs/bpf") == "bpf"
    assert mounts.ensure_tracefs() == "/sys/kernel/tracing"
    assert mounts.mounted_fs_type("/sys/kernel/tracing") == "tracefs"


def test_mount_in_a_fresh_directory_then_undo(tmp_path):
    import ctypes
    target = tmp_path / "bpffs"
    assert mounts.mounted_fs_type(str(target)) is None
    mounts.ensure_bpffs(str(target))
    try:
        assert mounts.mounted_fs_type(str(target)) == "bpf"
        mounts.ensure_bpffs(str(target))  # already there: nothing stacked on it
        with open("/proc/self/mounts") as f:
            count = f.read().count(f" {target} ")
        assert count == 1
    finally:
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.umount(str(target).encode()) == 0


def test_mounts_file_parsing(tmp_path):
    fake = tmp_path / "mounts"
    fake.write_text("bpf /sys/fs/bpf bpf rw 0 0\n"
                    "tmpfs /with\\040space tmpfs rw 0 0\n")
    assert mounts.mounted_fs_type("/with space", mounts_file=str(fake)) == "tmpfs"
    assert mounts.mounted_fs_type("/nowhere", mounts_file=str(fake)) is None
