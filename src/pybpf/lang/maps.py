"""Maps, events and globals declared once at module level, used by the BPF half.

A declaration is plain data: in compiled functions it compiles to map operations; it holds
no live map and no per-load value. A collection loaded from the compiled program hands out
a typed view per map (:mod:`.views`)::

    counts = Hash(u32, u64, max_entries=1024)
    ...                                       # compiled: counts[pid] += 1
    with bpf.compile(prog).load() as coll:
        for pid, n in coll.maps[counts].items(): ...   # the live map, decoded by type

A declaration's name is ``name=`` or, when left out, the module-level variable it is bound
to (given at its first compile; the same on every compile). ``Const``/``Global`` values are
set per load: ``compiled.load(constants={max_args: 5})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

from ..errors import BPFError
from ..spec import MapFlags, MapSpec, MapType
from . import views
from .types import ArrayType, IntType, StructType, Type, pack_value, to_btf, type_of, u32, u64

__all__ = ["MapDecl", "Hash", "Array", "PerCPUHash", "PerCPUArray", "LRUHash",
           "LRUPerCPUHash", "RingBuf", "PerfEventArray", "StackTrace", "ProgArray",
           "Log2Hist", "LinearHist", "Global", "Const", "GlobalDecl", "ArrayOfMaps",
           "HashOfMaps"]

BPF_F_NO_PREALLOC = MapFlags.NO_PREALLOC
_VIEW_ATTRS = frozenset({"items", "keys", "values", "clear", "live", "reader", "dropped",
                         "counts", "print_log2_hist", "print_linear_hist", "bind"})


K = TypeVar("K")
V = TypeVar("V")


class MapDecl(Generic[K, V]):
    """A map declaration (see the module docstring); subclasses fix the map type.

    To a type checker a declaration is generic in the Python types of its keys and values
    (``Hash(u32, Event)`` is a ``Hash[int, Event]``), which its view in a loaded
    collection gives back (``coll.maps[decl]`` is a ``MapView[int, Event]``)."""

    map_type: MapType = MapType.UNSPEC
    percpu = False
    drops_of: MapDecl[Any, Any] | None = None  # the ring buffer whose drops this map counts

    def __init__(self, key: type[K] | Type | None = None,
                 value: type[V] | Type | None = None, *,
                 max_entries: int, flags: int = 0, name: str | None = None):
        self.key_type: Type | None = type_of(key) if key is not None else None
        self.value_type: Type | None = type_of(value) if value is not None else None
        self.max_entries = max_entries
        self.flags = flags
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name or '(unnamed)'}>"

    # -- the spec ---------------------------------------------------------------------

    def spec(self, name: str | None = None) -> MapSpec:
        """The map as ``name`` (by default ``name=`` of the declaration)."""
        key_size = self.key_type.size if self.key_type is not None else 0
        value_size = self.value_type.size if self.value_type is not None else 0
        cache: dict[int, Any] = {}
        return MapSpec(name=name or self.name or "map", type=self.map_type, key_size=key_size,
                       value_size=value_size, max_entries=self.max_entries, flags=self.flags,
                       key_type=to_btf(self.key_type, cache) if self.key_type else None,
                       value_type=to_btf(self.value_type, cache) if self.value_type else None)

    # -- the Python half --------------------------------------------------------------

    def __getattr__(self, attr: str) -> Any:
        # what the Python half had before it moved to the loaded collection's views
        if attr == "reader":
            raise AttributeError(f"{self!r} holds no live ring: read it through the collection "
                                 f"it was loaded into, coll.ring_reader({self.name or 'decl'}, "
                                 "callback, Record)")
        if attr in _VIEW_ATTRS:
            raise AttributeError(f"{self!r} holds no live map: read it from the collection "
                                 f"it was loaded into, coll.maps[{self.name or 'decl'}]."
                                 f"{attr}(...)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    def __getitem__(self, key: Any) -> Any:
        raise TypeError(f"{self!r} holds no live map: read it from the collection it was "
                        f"loaded into, coll.maps[{self.name or 'decl'}][key]")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(f"{self!r} holds no live map: write it in the collection it was "
                        f"loaded into, coll.maps[{self.name or 'decl'}][key] = value")

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.MapView[K, V]:
        """The typed view of ``raw``, this declaration's live map (``name``) in a loaded
        collection whose raw maps are ``maps`` (a ring buffer finds its drop counter there).
        """
        return views.MapView(self, raw, name)


class Hash(MapDecl[K, V]):
    """``BPF_MAP_TYPE_HASH``. Compiled: ``m[k]`` (0 when missing), ``m.get(k, d)``,
    ``m[k] = v``, ``m[k] += n``, ``m.increment(k, n=1)``, ``m.lookup(k)`` (a pointer or 0),
    ``m.update(k, v, flags=0)``, ``m.delete(k)``."""

    map_type = MapType.HASH


class LRUHash(MapDecl[K, V]):
    map_type = MapType.LRU_HASH


class PerCPUHash(MapDecl[K, list[V]]):
    """``BPF_MAP_TYPE_PERCPU_HASH``: from Python a value is a list, one per CPU."""

    map_type = MapType.PERCPU_HASH
    percpu = True

    def __init__(self, key: type[K] | Type, value: type[V] | Type, *, max_entries: int,
                 flags: int = 0, name: str | None = None):
        # the declaration holds the element type; its Python values are lists of them
        super().__init__(key, cast(Any, value), max_entries=max_entries, flags=flags,
                         name=name)


class LRUPerCPUHash(PerCPUHash[K, V]):
    map_type = MapType.LRU_PERCPU_HASH


class Array(MapDecl[int, V]):
    """``BPF_MAP_TYPE_ARRAY``: ``Array(u64, max_entries=N)`` (keys are u32 indexes)."""

    map_type = MapType.ARRAY

    def __init__(self, value: type[V] | Type, *, max_entries: int, flags: int = 0,
                 name: str | None = None):
        super().__init__(u32, value, max_entries=max_entries, flags=flags, name=name)


class PerCPUArray(Array[Any]):
    """``BPF_MAP_TYPE_PERCPU_ARRAY``: from Python a value is a list, one per CPU."""

    map_type = MapType.PERCPU_ARRAY
    percpu = True


class ProgArray(MapDecl[int, Any]):
    """``BPF_MAP_TYPE_PROG_ARRAY`` for ``tail_call(ctx, progs, index)``; fill it from Python
    with ``coll.maps[progs][i] = coll.programs[name]``."""

    map_type = MapType.PROG_ARRAY

    def __init__(self, *, max_entries: int, name: str | None = None):
        super().__init__(u32, u32, max_entries=max_entries, name=name)

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.ProgArrayView:
        return views.ProgArrayView(self, raw, name)


class _MapOfMaps(MapDecl[K, Any]):
    """A map whose values are maps shaped like ``inner`` (a declaration used as the
    template: its types and size). Compiled: ``m = outer.lookup(k)`` (or ``outer[k]``)
    is the inner map or 0, used as any map (``m[k2] += 1``, ``k2 in m``...). Python:
    ``coll.maps[outer][k] = coll.maps[some_map]`` puts a live map in slot ``k``."""

    def __init__(self, key: Any, inner: MapDecl[Any, Any], *, max_entries: int,
                 name: str | None = None):
        super().__init__(key, u32, max_entries=max_entries, name=name)
        self.inner = inner

    def spec(self, name: str | None = None) -> MapSpec:
        spec = super().spec(name)
        spec.key_type = spec.value_type = None   # the kernel takes no BTF for these
        spec.inner_map = self.inner.spec(f"{spec.name}.inner")
        return spec

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.MapOfMapsView:
        return views.MapOfMapsView(self, raw, name)


class ArrayOfMaps(_MapOfMaps[int]):
    """``BPF_MAP_TYPE_ARRAY_OF_MAPS``: ``ArrayOfMaps(inner, max_entries=N)``."""

    map_type = MapType.ARRAY_OF_MAPS

    def __init__(self, inner: MapDecl[Any, Any], *, max_entries: int,
                 name: str | None = None):
        super().__init__(u32, inner, max_entries=max_entries, name=name)


class HashOfMaps(_MapOfMaps[K]):
    """``BPF_MAP_TYPE_HASH_OF_MAPS``: ``HashOfMaps(key, inner, max_entries=N)``."""

    map_type = MapType.HASH_OF_MAPS


class RingBuf(MapDecl[Any, Any]):
    """``BPF_MAP_TYPE_RINGBUF`` of ``max_entries`` bytes (a power of two, a page multiple).

    Compiled: ``events.output(ev)``, ``p = events.reserve(Event)`` then
    ``events.submit(p)`` or ``events.discard(p)``. Python: ``coll.ring_reader(events,
    callback, Event)`` gives a reader (owned by the collection) of decoded records.

    Drops are counted, never silent: a ``reserve`` that returns NULL or an ``output``
    that fails (the ring is full: the reader is behind) adds one to a companion per-CPU
    array of one u64, ``<name>_drops`` (:attr:`drops_map`), which the compiled code only
    touches on that failure path. ``coll.maps[events].dropped()`` sums it over the CPUs.
    """

    map_type = MapType.RINGBUF

    def __init__(self, *, max_entries: int = 1 << 16, name: str | None = None):
        super().__init__(max_entries=max_entries, name=name)
        self._drops: PerCPUArray | None = None

    @property
    def drops_map(self) -> PerCPUArray:
        """The per-CPU u64 counter of failed reserves/outputs, named ``<ring>_drops`` in a
        compiled collection (made on first use)."""
        if self._drops is None:
            self._drops = PerCPUArray(u64, max_entries=1,
                                      name=f"{self.name}_drops" if self.name else None)
            self._drops.drops_of = self
        return self._drops

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.RingBufView:
        counter = maps.get(f"{name}_drops")
        drops = None if counter is None else \
            self.drops_map.view(counter, maps, f"{name}_drops")
        return views.RingBufView(self, raw, name, drops)


class PerfEventArray(MapDecl[int, Any]):
    """``BPF_MAP_TYPE_PERF_EVENT_ARRAY``: ``events.output(ctx, ev)`` in compiled code."""

    map_type = MapType.PERF_EVENT_ARRAY

    def __init__(self, *, max_entries: int = 0, name: str | None = None):
        super().__init__(u32, u32, max_entries=max_entries, name=name)

    def spec(self, name: str | None = None) -> MapSpec:
        spec = super().spec(name)
        if not spec.max_entries:
            import os
            spec.max_entries = os.cpu_count() or 1  # one slot per CPU, as libbpf sizes it
        spec.key_type = spec.value_type = None
        return spec


class StackTrace(MapDecl[int, list[int]]):
    """``BPF_MAP_TYPE_STACK_TRACE``: ``stacks.get_stackid(ctx, flags)`` returns an id;
    ``coll.maps[stacks][id]`` in Python is the list of instruction addresses."""

    map_type = MapType.STACK_TRACE

    def __init__(self, *, max_entries: int = 1024, depth: int = 127, name: str | None = None):
        super().__init__(u32, ArrayType(u64, depth), max_entries=max_entries, name=name)

    def spec(self, name: str | None = None) -> MapSpec:
        spec = super().spec(name)
        spec.key_type = spec.value_type = None
        return spec

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.StackTraceView:
        return views.StackTraceView(self, raw, name)


class Log2Hist(Array[int]):
    """A log2 histogram: an array of 65 u64 counters, slot = bit length of the value.

    Compiled: ``hist.log2_increment(value)``; Python:
    ``coll.maps[hist].print_log2_hist("usecs")``.
    """

    def __init__(self, *, name: str | None = None, slots: int = 65):
        super().__init__(u64, max_entries=slots, name=name)

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.Log2HistView:
        return views.Log2HistView(self, raw, name)


class LinearHist(Array[int]):
    """A linear histogram over ``[low, high)`` in buckets of ``step`` (plus one bucket for
    below and one for above). Compiled: ``hist.linear_increment(value)``."""

    def __init__(self, low: int, high: int, step: int, *, name: str | None = None):
        if step <= 0 or high <= low:
            raise ValueError("LinearHist needs low < high and step > 0")
        self.low, self.high, self.step = low, high, step
        self.buckets = (high - low + step - 1) // step
        super().__init__(u64, max_entries=self.buckets + 2, name=name)

    def view(self, raw: Any, maps: Mapping[str, Any], name: str) -> views.LinearHistView:
        return views.LinearHistView(self, raw, name)


class GlobalDecl:
    """A global variable of the BPF half: ``Const`` (.rodata) or ``Global`` (.data/.bss)."""

    section = ".data"

    def __init__(self, type: Any, value: Any = 0, *, name: str | None = None):
        self.type = type_of(type)
        if not isinstance(self.type, (IntType, ArrayType, StructType)):
            raise TypeError(f"a global needs an integer, array or struct type, not {type!r}")
        self.initial = value
        self.name = name

    @property
    def value(self) -> Any:
        raise BPFError(f"{self!r} has a value per loaded collection: read it with "
                       "coll.variables[decl]")

    @value.setter
    def value(self, new: Any) -> None:
        raise BPFError(f"{self!r} is set per load: compiled.load(constants={{decl: value}}) "
                       "(or coll.variables[decl] = value for a Global after load)")

    def initial_bytes(self) -> bytes:
        return pack_value(self.type, self.initial)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.type.name}>"


class Global(GlobalDecl):
    """A read-write global: ``.bss`` when it starts as zero, else ``.data``; read (and
    written) from Python after load through ``coll.variables[decl]``."""

    @property
    def section(self) -> str:  # type: ignore[override]
        return ".bss" if not any(self.initial_bytes()) else ".data"


class Const(GlobalDecl):
    """A ``const volatile`` global in ``.rodata``, set per load (``compiled.load(
    constants={decl: value})``); the verifier sees it as a constant."""

    section = ".rodata"

