"""pybpf: eBPF for Python.

The top level holds the data layer everyone needs: specs, enums, errors, and the entry points
to read and write programs. Live objects come from the backends (``pybpf.kernel``,
``pybpf.vm``).
"""

from .asm import assemble, disassemble
from .asm.instruction import Instruction
from .elf import load_collection_spec
from .errors import (AsmError, BPFError, BTFError, ClosedError, CORERelocationError,
                     ELFError, InvalidInputError, KernelError, NotSupportedError,
                     VerifierError)
from .spec import (AttachType, CollectionSpec, ExternKind, ExternSpec, MapSpec, MapType,
                   Pinning, ProgramSpec, ProgramType)

__all__ = [
    "Instruction", "assemble", "disassemble", "load_collection_spec",
    "AsmError", "BPFError", "BTFError", "ClosedError", "CORERelocationError", "ELFError",
    "InvalidInputError", "KernelError", "NotSupportedError", "VerifierError",
    "AttachType", "CollectionSpec", "ExternKind", "ExternSpec", "MapSpec", "MapType", "Pinning", "ProgramSpec",
    "ProgramType",
]
