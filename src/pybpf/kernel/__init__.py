"""The Linux backend: live maps and programs over the bpf() system call (ctypes only).

``load(obj_or_spec)`` (or ``Collection.open(...)`` to set ``.rodata`` first, then
``.load()``) for a whole object; ``Map.create(spec)``, ``Program.load(spec, maps=...)``,
``Features()`` for probing; ``pybpf.kernel.sys`` holds the raw commands and attr layouts.
"""

from .collection import Collection, CollectionOptions, load
from .fd import FD
from .features import Features
from .maps import CtypesCodec, Map, MapInfo, TypedMap, possible_cpus
from .mounts import ensure_bpffs, ensure_tracefs
from .perfbuf import PerfBuffer
from .programs import Program, ProgramInfo, TestRunResult, resolve_maps
from .ringbuf import RingBuffer, RingBufferPoller
from .sys import MapFlags, ProgFlags, UpdateFlags
from .trace_pipe import TracePipe

__all__ = ["load", "Collection", "CollectionOptions", "FD", "Features", "CtypesCodec", "Map",
           "MapInfo", "TypedMap", "possible_cpus",
           "ensure_bpffs", "ensure_tracefs", "Program", "ProgramInfo", "TestRunResult",
           "resolve_maps", "MapFlags", "ProgFlags", "UpdateFlags", "RingBuffer",
           "RingBufferPoller", "PerfBuffer", "TracePipe"]
