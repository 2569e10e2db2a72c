"""pybpf: eBPF for Python.

The top level holds the data layer everyone needs: specs, enums, errors, and the entry points
to read and write programs. Live objects come from the backends (``pybpf.kernel``,
``pybpf.vm``).
"""

from .errors import (
    AsmError,
    BPFError,
    BTFError,
    ClosedError,
    CompileError,
    CORERelocationError,
    ELFError,
    FilterSyntaxError,
    InvalidInputError,
    KernelError,
    NotSupportedError,
    VerifierError,
    VMError,
)

# not typing's constant: `pybpf trace` starts without importing typing (trace.quickstart)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any

    from .asm.instruction import Instruction
    from .spec import (
        AttachType,
        CollectionSpec,
        ExternKind,
        ExternSpec,
        MapSpec,
        MapType,
        Pinning,
        ProgramSpec,
        ProgramType,
    )

del TYPE_CHECKING

__all__ = [
    "Instruction", "assemble", "disassemble", "load", "load_collection_spec",
    "AsmError", "BPFError", "BTFError", "ClosedError", "CompileError", "CORERelocationError",
    "ELFError", "FilterSyntaxError", "InvalidInputError", "KernelError", "NotSupportedError",
    "VerifierError", "VMError",
    "AttachType", "CollectionSpec", "ExternKind", "ExternSpec", "MapSpec", "MapType", "Pinning",
    "ProgramSpec", "ProgramType",
]


# loaded on first use, so that `import pybpf` (and every `pybpf` command) starts fast:
# the ELF reader pulls in pyelftools, the assembler its grammar; and `python -m pybpf`
# imports nothing before __main__ has postponed garbage collection (see there)
_LAZY = {"assemble": "pybpf.asm", "disassemble": "pybpf.asm",
         "load_collection_spec": "pybpf.elf", "load": "pybpf.backends",
         "Instruction": "pybpf.asm.instruction",
         **dict.fromkeys(("AttachType", "CollectionSpec", "ExternKind", "ExternSpec", "MapSpec",
                          "MapType", "Pinning", "ProgramSpec", "ProgramType"), "pybpf.spec")}


def __getattr__(name: str) -> "_Any":
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pybpf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
