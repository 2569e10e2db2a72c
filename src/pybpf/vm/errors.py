"""The userspace machine's errors; they live in :mod:`pybpf.errors` with the whole tree."""

from ..errors import (
                      BudgetExceededError,
                      CallDepthError,
                      MapError,
                      MemoryAccessError,
                      ProgramLoadError,
                      VMError,
                      VMRunError,
)

__all__ = ["VMError", "ProgramLoadError", "VMRunError", "MemoryAccessError",
           "BudgetExceededError", "CallDepthError", "MapError"]
