"""The one exception family of pybpf.

::

    BPFError
    ├── InvalidInputError   bad ELF/BTF/assembly/argument: names the object, offset or line
    │   ├── ELFError
    │   ├── BTFError
    │   ├── AsmError
    │   └── CORERelocationError
    ├── VerifierError       a program rejected by the kernel's verifier or ours
    ├── KernelError         an OSError too: syscall, errno, object
    │   └── NotSupportedError   a feature the running kernel lacks
    └── ClosedError         a live object used after close()

A missing map key stays a ``KeyError``.
"""

from __future__ import annotations

import errno as _errno
import os


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
    """A program the verifier rejected; ``log`` holds every line of the verifier's log."""

    def __init__(self, message: str, *, program: str | None = None, log: list[str] | None = None,
                 insn: int | None = None, source_line: str | None = None):
        self.program = program
        self.log = log or []
        self.insn = insn
        self.source_line = source_line
        text = f"program '{program}': {message}" if program else message
        if source_line:
            text += f" (at {source_line})"
        super().__init__(text)


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
