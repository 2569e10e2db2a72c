"""Errors of the userspace machine, atop :class:`pybpf.errors.BPFError`.

::

    BPFError
    └── VMError                 anything the userspace machine refuses or stops on
        ├── ProgramLoadError    rejected before running: bad opcode, jump, helper
        ├── VMRunError          a run stopped: names the instruction slot (``insn``)
        │   ├── MemoryAccessError   load/store outside every region it may touch
        │   ├── BudgetExceededError more instructions than the run's budget
        │   └── CallDepthError      bpf-to-bpf calls deeper than 8 frames
        └── MapError            a map update/delete the map refuses (errno as the kernel's)

They live here until they move into ``pybpf/errors.py``; import them from ``pybpf.vm``.
"""

from __future__ import annotations

from ..errors import BPFError


class VMError(BPFError):
    """The userspace machine refused a program or stopped a run."""


class ProgramLoadError(VMError):
    """A program the machine will not run: says which program, which slot and why."""

    def __init__(self, message: str, *, program: str = "", insn: int | None = None):
        self.program = program
        self.insn = insn
        where = f"program '{program}'" if program else "program"
        if insn is not None:
            where += f", instruction {insn}"
        super().__init__(f"{where}: {message}")


class VMRunError(VMError):
    """A run that stopped at instruction slot ``insn``: nothing outside its regions changed."""

    def __init__(self, message: str, *, insn: int, program: str = ""):
        self.insn = insn
        self.program = program
        where = f"program '{program}', " if program else ""
        super().__init__(f"{where}instruction {insn}: {message}")


class MemoryAccessError(VMRunError):
    """A load or store outside the regions the program may touch.

    ``address`` and ``size`` describe the access, ``write`` its direction and ``region`` the
    name of the region the address fell near (``None`` when it is in none at all).
    """

    def __init__(self, message: str, *, insn: int, address: int, size: int, write: bool,
                 region: str | None, program: str = ""):
        self.address = address
        self.size = size
        self.write = write
        self.region = region
        super().__init__(message, insn=insn, program=program)


class BudgetExceededError(VMRunError):
    """The run executed more instructions than its budget allows (a loop that never ends?)."""


class CallDepthError(VMRunError):
    """A bpf-to-bpf call past the 8-frame limit of the kernel (MAX_CALL_FRAMES)."""


class MapError(VMError):
    """A map operation the map refuses (full, key exists, wrong size); ``errno`` as the
    kernel would return it (E2BIG, EEXIST, ENOENT, EINVAL)."""

    def __init__(self, message: str, *, map_name: str, errno: int):
        self.map_name = map_name
        self.errno = errno
        super().__init__(f"map '{map_name}': {message}")
