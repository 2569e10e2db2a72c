"""The userspace eBPF machine: run programs without the kernel.

``load(instructions_or_bytes, maps=..., helpers=...)`` checks and predecodes a program;
``prog.run(memory)`` executes it in the reference interpreter with every memory access
checked. Maps: :class:`HashMap`, :class:`ArrayMap`, :func:`create_map` from a ``MapSpec``.
"""

from .errors import (
    BudgetExceededError, CallDepthError, MapError, MemoryAccessError, ProgramLoadError,
    VMError, VMRunError,
)
from .helpers import DEFAULT_HELPERS, Environment, HelperID
from .maps import BPF_ANY, BPF_EXIST, BPF_NOEXIST, ArrayMap, HashMap, VMMap, create_map
from .program import DEFAULT_BUDGET, RunResult, VMProgram, load

__all__ = [
    "BudgetExceededError", "CallDepthError", "MapError", "MemoryAccessError",
    "ProgramLoadError", "VMError", "VMRunError", "DEFAULT_HELPERS", "Environment", "HelperID",
    "BPF_ANY", "BPF_EXIST", "BPF_NOEXIST", "ArrayMap", "HashMap", "VMMap", "create_map",
    "DEFAULT_BUDGET", "RunResult", "VMProgram", "load",
]
