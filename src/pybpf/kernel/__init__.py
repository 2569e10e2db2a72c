"""The Linux backend: live maps and programs over the bpf() system call (ctypes only).

``Map.create(spec)``, ``Program.load(spec, maps=...)``, ``Features()`` for probing;
``pybpf.kernel.sys`` holds the raw commands and attr layouts.
"""

from .fd import FD
from .features import Features
from .maps import CtypesCodec, Map, MapInfo, TypedMap, possible_cpus
from .mounts import ensure_bpffs, ensure_tracefs
from .programs import Program, ProgramInfo, TestRunResult, resolve_maps
from .sys import MapFlags, ProgFlags, UpdateFlags

__all__ = ["FD", "Features", "CtypesCodec", "Map", "MapInfo", "TypedMap", "possible_cpus",
           "ensure_bpffs", "ensure_tracefs", "Program", "ProgramInfo", "TestRunResult",
           "resolve_maps", "MapFlags", "ProgFlags", "UpdateFlags"]
