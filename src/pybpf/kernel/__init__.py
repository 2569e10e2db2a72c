"""The Linux backend: live maps and programs over the bpf() system call (ctypes only).

``load(obj_or_spec)`` (or ``Collection.open(...)`` to set ``.rodata`` first, then
``.load()``) for a whole object; ``Map.create(spec)``, ``Program.load(spec, maps=...)``,
``Features()`` for probing; ``pybpf.kernel.sys`` holds the raw commands and attr layouts.
"""

# not typing's constant: `pybpf trace` starts without importing typing (trace.quickstart)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..spec import MapFlags, ProgFlags, UpdateFlags
    from .collection import Collection, CollectionOptions, load
    from .fd import FD
    from .features import Features
    from .maps import CtypesCodec, Map, MapInfo, TypedMap, possible_cpus
    from .mounts import ensure_bpffs, ensure_tracefs
    from .perfbuf import PerfBuffer
    from .programs import Program, ProgramInfo, TestRunResult, resolve_maps
    from .ringbuf import RingBuffer, RingBufferPoller
    from .trace_pipe import TracePipe
del TYPE_CHECKING

# every name is imported on first use (PEP 562): importing one submodule (a tool needs
# kernel.signals, pybpf trace no BTF loader) must not import the whole backend (~25 ms)
_LAZY = {
    "MapFlags": "..spec", "ProgFlags": "..spec", "UpdateFlags": "..spec",
    "Collection": ".collection", "CollectionOptions": ".collection", "load": ".collection",
    "FD": ".fd", "Features": ".features", "CtypesCodec": ".maps", "Map": ".maps",
    "MapInfo": ".maps", "TypedMap": ".maps", "possible_cpus": ".maps",
    "ensure_bpffs": ".mounts", "ensure_tracefs": ".mounts", "PerfBuffer": ".perfbuf",
    "Program": ".programs", "ProgramInfo": ".programs", "TestRunResult": ".programs",
    "resolve_maps": ".programs", "RingBuffer": ".ringbuf", "RingBufferPoller": ".ringbuf",
    "TracePipe": ".trace_pipe",
}

# kernel.globals (a submodule) shadows the builtin here once imported
_NAMESPACE = globals()

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
    value = getattr(importlib.import_module(module, __name__), name)
    _NAMESPACE[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(_NAMESPACE) | set(__all__))
