"""The userspace eBPF machine: run programs without the kernel.

``load(instructions_or_bytes, maps=..., helpers=...)`` verifies (pybpf's verifier; unless
``verify=False``) and predecodes a program;
``prog.run(memory)`` executes it with every memory access checked; ``prog.test_run(data,
ctx, repeat=N)`` runs it as BPF_PROG_TEST_RUN would. ``load_collection(spec)`` makes a
whole :class:`~pybpf.spec.CollectionSpec` live. Maps: :func:`create_map` from a ``MapSpec``
or the classes below. Tiers: ``tier="interp"`` (reference), ``"python"`` (translated) or
``"llvm"`` (native, needs llvmlite: the ``jit`` extra).
Debugging: ``prog.debugger(...)`` (step, breakpoints, trace, coverage).
"""

from .collection import UnverifiedWarning, VMCollection, load, load_collection
from .errors import (
    BudgetExceededError,
    CallDepthError,
    MapError,
    MemoryAccessError,
    ProgramLoadError,
    VMError,
    VMRunError,
)
from .events import PerfEventArrayMap, RingBufMap
from .helper_table import DEFAULT_HELPERS
from .helpers import Environment, HelperID
from .lpm import LPMTrieMap
from .map_factory import create_map
from .map_refs import ArrayOfMapsMap, HashOfMapsMap, ProgArrayMap
from .maps import (
    BPF_ANY,
    BPF_EXIST,
    BPF_NOEXIST,
    ArrayMap,
    HashMap,
    LRUHashMap,
    PercpuArrayMap,
    PercpuHashMap,
    VMMap,
)
from .program import DEFAULT_BUDGET, TIERS, RunResult, TestRunResult, VMProgram
from .queues import QueueMap, StackMap

__all__ = [
    "BudgetExceededError", "CallDepthError", "MapError", "MemoryAccessError",
    "ProgramLoadError", "VMError", "VMRunError", "DEFAULT_HELPERS", "Environment", "HelperID",
    "BPF_ANY", "BPF_EXIST", "BPF_NOEXIST", "ArrayMap", "HashMap", "LRUHashMap",
    "PercpuArrayMap", "PercpuHashMap", "LPMTrieMap", "QueueMap", "StackMap", "RingBufMap",
    "PerfEventArrayMap", "ProgArrayMap", "ArrayOfMapsMap", "HashOfMapsMap", "VMMap",
    "create_map", "DEFAULT_BUDGET", "TIERS", "RunResult", "TestRunResult", "VMProgram", "load",
    "VMCollection", "load_collection", "UnverifiedWarning",
]
