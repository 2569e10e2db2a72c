"""The one exception family of pybpf.

::

    BPFError
    ├── InvalidInputError   bad ELF/BTF/assembly/argument: names the object, offset or line
    │   ├── ELFError
    │   ├── BTFError
    │   ├── AsmError
    │   ├── CORERelocationError
    │   ├── CompileError        Python the compiler cannot turn into eBPF: file:line:column
    │   └── FilterSyntaxError   a pcap-filter expression: the expression and column
    ├── VerifierError       a program rejected by the kernel's verifier or ours
    ├── KernelError         an OSError too: syscall, errno, object
    │   └── NotSupportedError   a feature the running kernel lacks
    ├── VMError             what the userspace machine refuses or stops on
    │   ├── ProgramLoadError    rejected before running: bad opcode, jump, helper
    │   └── VMRunError          a run stopped: names the instruction slot (``insn``)
    │       ├── MemoryAccessError   load/store outside every region it may touch
    │       ├── BudgetExceededError more instructions than the run's budget
    │       └── CallDepthError      bpf-to-bpf calls deeper than 8 frames
    ├── MapError            a map operation the map refuses, on either backend (errno)
    │   ├── MapFullError        E2BIG: max_entries reached
    │   ├── MapKeyExistsError   EEXIST: BPF_NOEXIST on a present key
    │   ├── MapKeyNotFoundError ENOENT: BPF_EXIST on a missing key
    │   └── MapArgumentError    EINVAL: bad flags, key or value size (an InvalidInputError)
    └── ClosedError         a live object used after close()

A missing map key stays a ``KeyError``.
"""

from __future__ import annotations

import errno as _errno
import os
from collections.abc import Callable


class BPFError(Exception):
    """Base of every error pybpf raises on purpose."""


class InvalidInputError(BPFError, ValueError):
    """Input that cannot be understood: says which object, where, and what is wrong.

    ``source`` names the object (a file name, a section, a program); ``offset`` is a byte
    offset into it when one is known.
    """

    def __init__(self, message: str, *, source: str | None = None, offset: int | None = None):
        self.message = message
        self.source = source
        self.offset = offset
        where = []
        if source:
            where.append(source)
        if offset is not None:
            where.append(f"offset {offset:#x}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class ELFError(InvalidInputError):
    """A BPF ELF object that is corrupt, truncated or uses something unsupported."""


class BTFError(InvalidInputError):
    """BTF or BTF.ext data that is corrupt, truncated or inconsistent."""


class AsmError(InvalidInputError):
    """An instruction that cannot be encoded, decoded or assembled."""


class CORERelocationError(InvalidInputError):
    """A CO-RE relocation that cannot be resolved against the target BTF."""


class VerifierError(BPFError):
    """A program the verifier rejected; ``log`` holds every line of the verifier's log.

    ``errno`` is the kernel's (None from pybpf's verifier); ``kernel_may_accept`` is True
    when pybpf's verifier refused something the kernel's may accept (a helper it does not
    model...). ``log`` may be given as a function that makes it: pybpf's verifier walks
    the program again to write its log, which is then done only when the log is read."""

    errno: int | None = None
    kernel_may_accept: bool = False

    def __init__(self, message: str, *, program: str | None = None,
                 log: list[str] | Callable[[], list[str]] | None = None,
                 insn: int | None = None, source_line: str | None = None):
        self.program = program
        self._log: list[str] | Callable[[], list[str]] = log or []
        self.insn = insn
        self.source_line = source_line
        text = f"program '{program}': {message}" if program else message
        if source_line:
            text += f" (at {source_line})"
        super().__init__(text)

    @property
    def log(self) -> list[str]:
        if callable(self._log):
            self._log = self._log()
        return self._log

    @log.setter
    def log(self, lines: list[str]) -> None:
        self._log = lines


class KernelError(BPFError, OSError):
    """A system call that failed: carries the errno, its name and a hint of what to do."""

    def __init__(self, syscall: str, err: int, *, obj: str | None = None, hint: str | None = None):
        self.syscall = syscall
        self.obj = obj
        self.hint = hint
        name = _errno.errorcode.get(err, str(err))
        text = f"{syscall}"
        if obj:
            text += f" {obj}"
        text += f": {name}: {os.strerror(err)}"
        if hint:
            text += f" ({hint})"
        OSError.__init__(self, err, text)

    def __str__(self) -> str:
        return self.strerror or ""


class NotSupportedError(KernelError):
    """A feature the running kernel lacks, found by probing, named in plain words."""

    def __init__(self, feature: str, *, err: int = _errno.EOPNOTSUPP, hint: str | None = None):
        self.feature = feature
        super().__init__("feature probe", err, obj=feature,
                         hint=hint or f"this kernel lacks {feature}")


class ClosedError(BPFError):
    """A live object (map, program, link, reader) used after it was closed."""


class CompileError(InvalidInputError):
    """Python source the compiler cannot turn into eBPF: ``file``, ``line``, ``column``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.file = file
        self.line = line
        self.column = column
        where = file or "<source>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(message, source=where)


class FilterSyntaxError(InvalidInputError):
    """A pcap-filter expression we cannot compile: names the expression and the column.

    ``column`` is 1-based (the first character of the expression is column 1), or ``None``
    when the problem is the expression as a whole.
    """

    def __init__(self, message: str, *, expression: str, column: int | None = None):
        self.expression = expression
        self.column = column
        where = f"column {column}: " if column is not None else ""
        super().__init__(where + message, source=f"filter {expression!r}")


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


class MapError(BPFError, OSError):
    """A map operation the map refuses, the same on both backends: ``errno`` as the kernel
    returns it, ``map_name`` the map.

    Like ``OSError(errno.ENOENT, ...)`` giving a ``FileNotFoundError``, ``MapError(...,
    errno=E)`` is the subclass for ``E`` when there is one: :class:`MapFullError` (E2BIG),
    :class:`MapKeyExistsError` (EEXIST), :class:`MapKeyNotFoundError` (ENOENT),
    :class:`MapArgumentError` (EINVAL). A missing key on lookup or delete stays ``KeyError``.
    """

    default_errno = 0

    def __new__(cls, message: str = "", *, map_name: str = "", errno: int = 0) -> MapError:
        chosen = _MAP_ERRORS.get(errno, cls) if cls is MapError else cls
        # with __new__ overridden, OSError takes errno and text here, not in __init__
        return super().__new__(chosen, errno or chosen.default_errno,
                               f"map '{map_name}': {message}")

    def __init__(self, message: str, *, map_name: str, errno: int = 0):
        self.map_name = map_name
        self.message = message

    def __str__(self) -> str:
        return self.strerror or ""

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_map_error, (self.message, self.map_name, self.errno))


class MapFullError(MapError):
    """No room for a new element (E2BIG): the map holds ``max_entries`` already."""

    default_errno = _errno.E2BIG


class MapKeyExistsError(MapError):
    """BPF_NOEXIST on a key that is there (EEXIST)."""

    default_errno = _errno.EEXIST


class MapKeyNotFoundError(MapError):
    """BPF_EXIST on a key that is not there (ENOENT)."""

    default_errno = _errno.ENOENT


class MapArgumentError(MapError, InvalidInputError):
    """Flags, a key or a value the map cannot take (EINVAL): unknown update flags, a key or
    value of the wrong size. An :class:`InvalidInputError` too."""

    default_errno = _errno.EINVAL

    def __init__(self, message: str, *, map_name: str, errno: int = 0):
        self.source = f"map '{map_name}'"
        self.offset = None
        super().__init__(message, map_name=map_name, errno=errno)


_MAP_ERRORS: dict[int, type[MapError]] = {
    _errno.E2BIG: MapFullError, _errno.EEXIST: MapKeyExistsError,
    _errno.ENOENT: MapKeyNotFoundError, _errno.EINVAL: MapArgumentError}


def _rebuild_map_error(message: str, map_name: str, err: int) -> MapError:
    return MapError(message, map_name=map_name, errno=err)
