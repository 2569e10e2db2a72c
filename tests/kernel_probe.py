"""Is the bpf() syscall usable here? Used by conftest.py and by .ci/run (no pybpf import)."""

from __future__ import annotations

import ctypes
import os
import platform

_SYS_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "s390x": 351, "ppc64le": 361}
_BPF_MAP_CREATE = 0
_BPF_MAP_TYPE_ARRAY = 2


def bpf_syscall_works() -> bool:
    """Create and close a tiny array map: True when that succeeds."""
    nr = _SYS_BPF.get(platform.machine())
    if nr is None or not os.path.exists("/proc/self"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 32)()
    attr[0], attr[1], attr[2], attr[3] = _BPF_MAP_TYPE_ARRAY, 4, 4, 1
    fd = libc.syscall(nr, _BPF_MAP_CREATE, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd < 0:
        return False
    os.close(fd)
    return True
