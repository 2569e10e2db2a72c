"""What the file I/O tools share (dirtop, filetop, fileslower): BCC hooks ``vfs_read``/
``vfs_write`` with kprobes, which this kernel lacks, so these tools keep the read and
write system calls at ``raw_syscalls/sys_enter`` and find the ``struct file`` from the fd.

Both functions are pybpf.lang code, inlined into each tool's enter program.
"""

from __future__ import annotations

from pybpf.lang import bpf, current_task, probe_read_kernel, u64

__all__ = ["NOT_READ_OR_WRITE", "read_or_write", "file_of_fd"]

# x86_64 syscall numbers: read, pread64, readv, preadv / write, pwrite64, writev, pwritev
READ_SYSCALLS = (0, 17, 19, 295)
WRITE_SYSCALLS = (1, 18, 20, 296)
NOT_READ_OR_WRITE = 2


@bpf.inline
def read_or_write(nr):  # noqa: ANN001, ANN201 - compiled into BPF programs
    """1 for a write-family syscall number, 0 for a read-family one, else NOT_READ_OR_WRITE."""
    if nr == 1 or nr == 18 or nr == 20 or nr == 296:
        return 1
    if nr == 0 or nr == 17 or nr == 19 or nr == 295:
        return 0
    return 2


@bpf.inline
def file_of_fd(fd):  # noqa: ANN001, ANN201 - compiled into BPF programs
    """The current task's ``struct file *`` for ``fd`` as an address (0 if none)."""
    fd_array = current_task().files.fdt.fd
    return probe_read_kernel(u64, u64(fd_array) + fd * 8)
