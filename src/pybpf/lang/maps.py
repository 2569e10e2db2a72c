"""Maps, events and globals declared once in Python and shared by both halves.

In the BPF half (compiled functions) a declaration compiles to map operations; in the
Python half the *same object*, once its collection is loaded, reads the live kernel map::

    counts = Hash(u32, u64, max_entries=1024)
    ...                                       # compiled: counts[pid] += 1
    coll = bpf.compile(prog).load()
    for pid, n in counts.items(): ...         # Python: the live map, decoded by type

A declaration's name is the module-level variable it is bound to (or ``name=``).
Before load the Python half raises :class:`~pybpf.errors.BPFError` ("not loaded").
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

from ..errors import BPFError
from ..spec import MapFlags, MapSpec, MapType
from .types import ArrayType, IntType, StructType, Type, pack_value, to_btf, type_of, \
    u32, u64, unpack_value

__all__ = ["MapDecl", "Hash", "Array", "PerCPUHash", "PerCPUArray", "LRUHash",
           "LRUPerCPUHash", "RingBuf", "PerfEventArray", "StackTrace", "ProgArray",
           "Log2Hist", "LinearHist", "Global", "Const", "GlobalDecl"]

BPF_F_NO_PREALLOC = MapFlags.NO_PREALLOC


class MapDecl:
    """A map declaration (see the module docstring); subclasses fix the map type."""

    map_type: MapType = MapType.UNSPEC
    percpu = False

    def __init__(self, key: Any = None, value: Any = None, *, max_entries: int,
                 flags: int = 0, name: str | None = None):
        self.key_type: Type | None = type_of(key) if key is not None else None
        self.value_type: Type | None = type_of(value) if value is not None else None
        self.max_entries = max_entries
        self.flags = flags
        self.name = name
        self._live: Any = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name or '(unnamed)'}>"

    # -- the spec ---------------------------------------------------------------------

    def spec(self) -> MapSpec:
        key_size = self.key_type.size if self.key_type is not None else 0
        value_size = self.value_type.size if self.value_type is not None else 0
        cache: dict[int, Any] = {}
        return MapSpec(name=self.name or "map", type=self.map_type, key_size=key_size,
                       value_size=value_size, max_entries=self.max_entries, flags=self.flags,
                       key_type=to_btf(self.key_type, cache) if self.key_type else None,
                       value_type=to_btf(self.value_type, cache) if self.value_type else None)

    # -- the Python half --------------------------------------------------------------

    def bind(self, live_map: Any) -> None:
        """Attach the live map (kernel or VM) this declaration now reads; None unbinds."""
        self._live = live_map

    @property
    def live(self) -> Any:
        if self._live is None:
            raise BPFError(f"map {self.name!r} is not loaded: compile and load its program "
                           "first (bpf.compile(fn).load())")
        return self._live

    def _encode_key(self, key: Any) -> bytes:
        assert self.key_type is not None
        return pack_value(self.key_type, key)

    def _decode_value(self, raw: Any) -> Any:
        assert self.value_type is not None
        if isinstance(raw, list):  # per-CPU
            return [unpack_value(self.value_type, r) for r in raw]
        return unpack_value(self.value_type, raw)

    def __getitem__(self, key: Any) -> Any:
        return self._decode_value(self.live.lookup(self._encode_key(key)))

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: Any, value: Any) -> None:
        assert self.value_type is not None
        if self.percpu and isinstance(value, list):
            raw: Any = [pack_value(self.value_type, v) for v in value]
        else:
            raw = pack_value(self.value_type, value)
        self.live.update(self._encode_key(key), raw)

    def __delitem__(self, key: Any) -> None:
        self.live.delete(self._encode_key(key))

    def __contains__(self, key: Any) -> bool:
        return self._encode_key(key) in self.live

    def items(self) -> Iterator[tuple[Any, Any]]:
        assert self.key_type is not None
        for k, v in self.live.items():
            yield unpack_value(self.key_type, k), self._decode_value(v)

    def keys(self) -> Iterator[Any]:
        for k, _ in self.items():
            yield k

    def values(self) -> Iterator[Any]:
        for _, v in self.items():
            yield v

    def clear(self) -> None:
        for k in list(self.live.keys()):
            try:
                self.live.delete(k)
            except KeyError:
                pass


class Hash(MapDecl):
    """``BPF_MAP_TYPE_HASH``. Compiled: ``m[k]`` (0 when missing), ``m.get(k, d)``,
    ``m[k] = v``, ``m[k] += n``, ``m.increment(k, n=1)``, ``m.lookup(k)`` (a pointer or 0),
    ``m.update(k, v, flags=0)``, ``m.delete(k)``."""

    map_type = MapType.HASH


class LRUHash(MapDecl):
    map_type = MapType.LRU_HASH


class PerCPUHash(MapDecl):
    map_type = MapType.PERCPU_HASH
    percpu = True


class LRUPerCPUHash(MapDecl):
    map_type = MapType.LRU_PERCPU_HASH
    percpu = True


class Array(MapDecl):
    """``BPF_MAP_TYPE_ARRAY``: ``Array(u64, max_entries=N)`` (keys are u32 indexes)."""

    map_type = MapType.ARRAY

    def __init__(self, value: Any, *, max_entries: int, flags: int = 0,
                 name: str | None = None):
        super().__init__(u32, value, max_entries=max_entries, flags=flags, name=name)


class PerCPUArray(Array):
    map_type = MapType.PERCPU_ARRAY
    percpu = True


class ProgArray(MapDecl):
    """``BPF_MAP_TYPE_PROG_ARRAY`` for ``tail_call(ctx, progs, index)``; fill it from Python
    with ``progs[i] = coll.programs[name]``."""

    map_type = MapType.PROG_ARRAY

    def __init__(self, *, max_entries: int, name: str | None = None):
        super().__init__(u32, u32, max_entries=max_entries, name=name)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.live.update(self._encode_key(key), value)


class RingBuf(MapDecl):
    """``BPF_MAP_TYPE_RINGBUF`` of ``max_entries`` bytes (a power of two, a page multiple).

    Compiled: ``events.output(ev)``, ``p = events.reserve(Event)`` then
    ``events.submit(p)`` or ``events.discard(p)``. Python: ``events.reader(callback, Event)``
    gives a :class:`pybpf.kernel.RingBuffer` whose callback gets decoded records.

    Drops are counted, never silent: a ``reserve`` that returns NULL or an ``output``
    that fails (the ring is full: the reader is behind) adds one to a companion per-CPU
    array of one u64, ``<name>_drops`` (:attr:`drops_map`), which the compiled code only
    touches on that failure path. ``events.dropped()`` sums it over the CPUs.
    """

    map_type = MapType.RINGBUF

    def __init__(self, *, max_entries: int = 1 << 16, name: str | None = None):
        super().__init__(max_entries=max_entries, name=name)
        self._drops: PerCPUArray | None = None

    @property
    def drops_map(self) -> "PerCPUArray":
        """The per-CPU u64 counter of failed reserves/outputs, named ``<name>_drops``
        (made on first use, once the ring has its name)."""
        if self._drops is None:
            self._drops = PerCPUArray(u64, max_entries=1,
                                      name=f"{self.name or 'ringbuf'}_drops")
        return self._drops

    def dropped(self) -> int:
        """Records the BPF half could not put in the ring since load (summed over CPUs).

        0 when no compiled code reserves or outputs into it (no counter was loaded).
        Raises BPFError when the ring itself is not loaded.
        """
        _ = self.live  # "not loaded" names the ring, not its counter
        if self._drops is None or self._drops._live is None:
            return 0
        return sum(self._drops[0])

    def items(self) -> Iterator[tuple[Any, Any]]:
        raise BPFError(f"ring buffer {self.name!r} has no items: read it with .reader()")

    def reader(self, callback: Any, record: Any = None) -> Any:
        """A ring buffer reader over the live map; ``record`` (a struct) decodes records."""
        from ..kernel import RingBuffer as ringbuf_cls

        decode = type_of(record) if record is not None else None

        def deliver(raw: bytes) -> Any:
            return callback(decode.unpack(bytes(raw)) if decode is not None else raw)  # type: ignore[attr-defined]
        return ringbuf_cls(self.live, deliver)


class PerfEventArray(MapDecl):
    """``BPF_MAP_TYPE_PERF_EVENT_ARRAY``: ``events.output(ctx, ev)`` in compiled code."""

    map_type = MapType.PERF_EVENT_ARRAY

    def __init__(self, *, max_entries: int = 0, name: str | None = None):
        super().__init__(u32, u32, max_entries=max_entries, name=name)

    def spec(self) -> MapSpec:
        spec = super().spec()
        if not spec.max_entries:
            import os
            spec.max_entries = os.cpu_count() or 1  # one slot per CPU, as libbpf sizes it
        spec.key_type = spec.value_type = None
        return spec


class StackTrace(MapDecl):
    """``BPF_MAP_TYPE_STACK_TRACE``: ``stacks.get_stackid(ctx, flags)`` returns an id;
    ``stacks[id]`` in Python is the list of instruction addresses."""

    map_type = MapType.STACK_TRACE

    def __init__(self, *, max_entries: int = 1024, depth: int = 127, name: str | None = None):
        super().__init__(u32, ArrayType(u64, depth), max_entries=max_entries, name=name)

    def spec(self) -> MapSpec:
        spec = super().spec()
        spec.key_type = spec.value_type = None
        return spec

    def __getitem__(self, key: Any) -> Any:
        return [a for a in super().__getitem__(key) if a]


class Log2Hist(Array):
    """A log2 histogram: an array of 65 u64 counters, slot = bit length of the value.

    Compiled: ``hist.log2_increment(value)``; Python: ``hist.print_log2_hist("usecs")``.
    """

    def __init__(self, *, name: str | None = None, slots: int = 65):
        super().__init__(u64, max_entries=slots, name=name)

    def counts(self) -> list[int]:
        return [self[i] for i in range(self.max_entries)]

    def print_log2_hist(self, val_type: str = "value", *, file: Any = None,
                        strip_leading_zero: bool = False) -> None:
        """Print the counts as BCC's ``print_log2_hist`` does (:mod:`.hist`); nothing when
        every slot is empty."""
        from .hist import format_log2_hist
        out = file or sys.stdout
        out.write(format_log2_hist(self.counts(), val_type,
                                   strip_leading_zero=strip_leading_zero))
        out.flush()


class LinearHist(Array):
    """A linear histogram over ``[low, high)`` in buckets of ``step`` (plus one bucket for
    below and one for above). Compiled: ``hist.linear_increment(value)``."""

    def __init__(self, low: int, high: int, step: int, *, name: str | None = None):
        if step <= 0 or high <= low:
            raise ValueError("LinearHist needs low < high and step > 0")
        self.low, self.high, self.step = low, high, step
        self.buckets = (high - low + step - 1) // step
        super().__init__(u64, max_entries=self.buckets + 2, name=name)

    def counts(self) -> list[int]:
        return [self[i] for i in range(self.max_entries)]

    def print_linear_hist(self, val_type: str = "value", *, file: Any = None,
                          strip_leading_zero: bool = False) -> None:
        """Print the buckets in range as BCC's ``print_linear_hist`` does (:mod:`.hist`),
        each row labelled by its bucket's lowest value; counts below ``low`` or at or
        above ``high`` (BCC has no such buckets) follow on one line when there are any."""
        from .hist import format_linear_hist
        out = file or sys.stdout
        counts = self.counts()
        out.write(format_linear_hist(counts[1:-1], val_type,
                                     strip_leading_zero=strip_leading_zero,
                                     first_label=self.low, label_step=self.step))
        below, above = counts[0], counts[-1]
        if below or above:
            out.write(f"     ({below} below {self.low}, {above} at or above {self.high})\n")
        out.flush()


class GlobalDecl:
    """A global variable of the BPF half: ``Const`` (.rodata) or ``Global`` (.data/.bss)."""

    section = ".data"

    def __init__(self, type: Any, value: Any = 0, *, name: str | None = None):
        self.type = type_of(type)
        if not isinstance(self.type, (IntType, ArrayType, StructType)):
            raise TypeError(f"a global needs an integer, array or struct type, not {type!r}")
        self.initial = value
        self.name = name
        self._view: Any = None

    def bind(self, view: Any) -> None:
        """Attach the live section view (``Collection.data``/``bss``/``rodata``)."""
        self._view = view

    @property
    def value(self) -> Any:
        if self._view is None:
            return self.initial
        return getattr(self._view, self.name)  # type: ignore[arg-type]

    @value.setter
    def value(self, new: Any) -> None:
        if self._view is None:
            self.initial = new
            return
        setattr(self._view, self.name, new)  # type: ignore[arg-type]

    def initial_bytes(self) -> bytes:
        return pack_value(self.type, self.initial)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.type.name}>"


class Global(GlobalDecl):
    """A read-write global: ``.bss`` when it starts as zero, else ``.data``; readable (and
    writable) from Python after load through ``decl.value``."""

    @property
    def section(self) -> str:  # type: ignore[override]
        return ".bss" if not any(self.initial_bytes()) else ".data"


class Const(GlobalDecl):
    """A ``const volatile`` global in ``.rodata``: set ``decl.value`` (or
    ``coll.rodata.name``) before load; the verifier sees it as a constant."""

    section = ".rodata"


_ = unpack_value, u64
