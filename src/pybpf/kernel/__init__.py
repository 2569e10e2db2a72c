"""The Linux backend: live maps and programs over the bpf() system call (ctypes only).

``load(obj_or_spec)`` (or ``Collection.open(...)`` to set ``.rodata`` first, then
``.load()``) for a whole object; ``Map.create(spec)``, ``Program.load(spec, maps=...)``,
``Features()`` for probing; ``pybpf.kernel.sys`` holds the raw commands and attr layouts.
"""

from ..spec import MapFlags, ProgFlags, UpdateFlags
from .collection import Collection, CollectionOptions, load
from .fd import FD
from .maps import CtypesCodec, Map, MapInfo, TypedMap, possible_cpus
from .mounts import ensure_bpffs, ensure_tracefs
from .programs import Program, ProgramInfo, TestRunResult, resolve_maps
from .ringbuf import RingBuffer, RingBufferPoller

# imported on first use (PEP 562): a tool's start-up needs none of these
_LAZY = {"Features": "features", "PerfBuffer": "perfbuf", "TracePipe": "trace_pipe"}

__all__ = ["load", "Collection", "CollectionOptions", "FD", "Features", "CtypesCodec", "Map",
           "MapInfo", "TypedMap", "possible_cpus",
           "ensure_bpffs", "ensure_tracefs", "Program", "ProgramInfo", "TestRunResult",
           "resolve_maps", "MapFlags", "ProgFlags", "UpdateFlags", "RingBuffer",
           "RingBufferPoller", "PerfBuffer", "TracePipe"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_LAZY))
