"""The numbers of the system calls pybpf makes through libc's ``syscall()``, per
architecture (arch/*/include/uapi/asm/unistd*.h), in one place for :mod:`.sys` and
:mod:`.lean`."""

from __future__ import annotations

import os

__all__ = ["NR_BPF", "NR_PERF_EVENT_OPEN", "SYSCALL_NUMBERS", "PERF_EVENT_OPEN_NUMBERS"]

# __NR_bpf (the generic table is 280)
SYSCALL_NUMBERS = {
    "x86_64": 321, "aarch64": 280, "arm64": 280, "riscv64": 280, "loongarch64": 280,
    "s390x": 351, "ppc64le": 361, "ppc64": 361, "armv7l": 386, "i686": 357, "i386": 357,
}
# __NR_perf_event_open (the generic table is 241)
PERF_EVENT_OPEN_NUMBERS = {
    "x86_64": 298, "aarch64": 241, "arm64": 241, "riscv64": 241, "loongarch64": 241,
    "s390x": 331, "ppc64le": 319, "ppc64": 319, "armv7l": 364, "i686": 336, "i386": 336,
}
_MACHINE = os.uname().machine
NR_BPF = SYSCALL_NUMBERS.get(_MACHINE, 280)
NR_PERF_EVENT_OPEN = PERF_EVENT_OPEN_NUMBERS.get(_MACHINE, 241)
