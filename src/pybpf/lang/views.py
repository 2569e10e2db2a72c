"""The Python half of a declaration: a live map of one loaded collection, seen through the
declaration's types.

A declaration (``counts = Hash(u32, u64, ...)``) holds no live state; a collection loaded
from a compiled program hands out one view per map::

    with bpf.compile(prog).load() as coll:
        for pid, n in coll.maps[counts].items(): ...     # or coll.maps["counts"]

A view works over any map that speaks bytes (the kernel's or the VM's ``lookup``/
``update``/``delete``/``keys``/``items``); keys and values are packed and unpacked with
the declaration's :mod:`.types` (struct classes come back as instances of the class).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import BPFError
from .types import Type, pack_value, unpack_value

if TYPE_CHECKING:
    from .maps import LinearHist, Log2Hist, MapDecl, RingBuf

__all__ = ["MapView", "StackTraceView", "ProgArrayView", "MapOfMapsView", "RingBufView",
           "Log2HistView", "LinearHistView"]


K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


class MapView(Generic[K, V]):
    """A live map decoded by its declaration's key and value types (see the module
    docstring), a :class:`pybpf.live.Map`. ``raw`` is the bytes-speaking map beneath;
    per-CPU values are lists. ``K`` and ``V`` are the Python types of keys and values."""

    def __init__(self, decl: MapDecl[K, V], raw: Any, name: str):
        self.decl = decl
        self.raw = raw
        self.name = name
        self._key_type: Type | None = decl.key_type
        self._value_type: Type | None = decl.value_type

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @property
    def key_size(self) -> int:
        return int(self.raw.key_size)

    @property
    def value_size(self) -> int:
        return int(self.raw.value_size)

    @property
    def max_entries(self) -> int:
        return int(self.raw.max_entries)

    def _encode_key(self, key: Any) -> bytes:
        if self._key_type is None:
            raise BPFError(f"map {self.name!r} has no keys to look up")
        return pack_value(self._key_type, key)

    def _decode_value(self, raw: Any) -> Any:
        assert self._value_type is not None
        if isinstance(raw, list):  # per-CPU
            return [unpack_value(self._value_type, r) for r in raw]
        return unpack_value(self._value_type, raw)

    def _encode_value(self, value: Any) -> Any:
        assert self._value_type is not None
        if self.decl.percpu and isinstance(value, list):
            return [pack_value(self._value_type, v) for v in value]
        return pack_value(self._value_type, value)

    def lookup(self, key: K) -> V:
        """The value at ``key``; KeyError when missing."""
        return self._decode_value(self.raw.lookup(self._encode_key(key)))

    def get(self, key: K, default: D | None = None) -> V | D | None:
        try:
            return self[key]
        except KeyError:
            return default

    def update(self, key: K, value: V, *, flags: int = 0) -> None:
        self.raw.update(self._encode_key(key), self._encode_value(value), flags=flags)

    def delete(self, key: K) -> None:
        self.raw.delete(self._encode_key(key))

    def __getitem__(self, key: K) -> V:
        return self.lookup(key)

    def __setitem__(self, key: K, value: V) -> None:
        self.update(key, value)

    def __delitem__(self, key: K) -> None:
        self.delete(key)

    def __contains__(self, key: Any) -> bool:
        return self._encode_key(key) in self.raw

    def __iter__(self) -> Iterator[K]:
        return self.keys()

    def items(self) -> Iterator[tuple[K, V]]:
        assert self._key_type is not None
        key_type = self._key_type
        for k, v in self.raw.items():
            yield unpack_value(key_type, k), self._decode_value(v)

    def keys(self) -> Iterator[K]:
        for k, _ in self.items():
            yield k

    def values(self) -> Iterator[V]:
        for _, v in self.items():
            yield v

    def sum(self, key: K, default: int = 0) -> int:
        """A per-CPU map's value at ``key`` summed over the CPUs (``default`` when the
        key is missing); a plain map's value as it is."""
        try:
            value = self.lookup(key)
        except KeyError:
            return default
        return _total(value)

    def sums(self) -> dict[K, int]:
        """Every key with its value summed over the CPUs (see :meth:`sum`)."""
        return {k: _total(v) for k, v in self.read_all()}

    def read_all(self) -> list[tuple[K, V]]:
        """Every (key, value), decoded: with one BPF_MAP_LOOKUP_BATCH walk on a kernel
        map that has it (far fewer system calls for big maps), else by iteration."""
        batch = getattr(self.raw, "lookup_batch", None)
        if batch is not None and self._key_type is not None:
            try:
                pairs = batch()
            except (NotImplementedError, OSError):
                pairs = None
            if pairs is not None:
                return [(unpack_value(self._key_type, k), self._decode_value(v))
                        for k, v in pairs]
        return list(self.items())

    def delete_all(self, keys: list[K]) -> int:
        """Delete ``keys`` (one batch command where the kernel has it); the number
        deleted. A key already gone raises KeyError, as :meth:`delete` does."""
        raw_keys = [self._encode_key(k) for k in keys]
        batch = getattr(self.raw, "delete_batch", None)
        if batch is not None:
            return int(batch(raw_keys))
        for k in raw_keys:
            self.raw.delete(k)
        return len(raw_keys)

    def clear(self) -> None:
        """Delete every key (one at a time: entries the BPF half adds meanwhile stay)."""
        for k in list(self.raw.keys()):
            try:
                self.raw.delete(k)
            except KeyError:
                pass


def _total(value: Any) -> int:
    if isinstance(value, list):
        return sum(int(v) for v in value)
    return int(value)


class StackTraceView(MapView[int, list[int]]):
    """``stacks[id]`` is the list of instruction addresses (the zero padding cut off)."""

    def lookup(self, key: Any) -> Any:
        return [a for a in super().lookup(key) if a]


class ProgArrayView(MapView[int, Any]):
    """``progs[i] = coll.programs[name]`` puts a program in slot ``i``."""

    def update(self, key: Any, value: Any, *, flags: int = 0) -> None:
        self.raw.update(self._encode_key(key), value, flags=flags)


class MapOfMapsView(MapView[Any, Any]):
    """``outer[k] = coll.maps[inner]`` puts a live map (a view or a raw map) in slot k."""

    def update(self, key: Any, value: Any, *, flags: int = 0) -> None:
        self.raw.update(self._encode_key(key), getattr(value, "raw", value), flags=flags)

    def lookup(self, key: Any) -> Any:
        return self.raw.lookup(self._encode_key(key))   # the kernel gives the map's id


class RingBufView(MapView[Any, Any]):
    """A ring buffer: no items to read; read records with ``coll.ring_reader(ring, cb)``.

    :meth:`dropped` sums the per-CPU ``<name>_drops`` counter the compiled code adds one to
    for each record it could not put in the ring (see :class:`~.maps.RingBuf`).
    """

    def __init__(self, decl: RingBuf, raw: Any, name: str, drops: MapView | None):
        super().__init__(decl, raw, name)
        self.drops = drops

    def dropped(self) -> int:
        """Records the BPF half could not put in the ring since load (0 when no compiled
        code reserves or outputs into it: no counter was loaded)."""
        if self.drops is None:
            return 0
        return int(sum(self.drops[0]))

    def items(self) -> Iterator[tuple[Any, Any]]:
        raise BPFError(f"ring buffer {self.name!r} has no items: read it with "
                       "coll.ring_reader(...)")


class Log2HistView(MapView[int, int]):
    """A :class:`~.maps.Log2Hist`: ``counts()`` and BCC's ``print_log2_hist``."""

    decl: Log2Hist

    def counts(self) -> list[int]:
        return [self[i] for i in range(self.decl.max_entries)]

    def print_log2_hist(self, val_type: str = "value", *, file: Any = None,
                        strip_leading_zero: bool = False) -> None:
        """Print the counts as BCC's ``print_log2_hist`` does (:mod:`.hist`); nothing when
        every slot is empty."""
        from .hist import format_log2_hist
        out = file or sys.stdout
        out.write(format_log2_hist(self.counts(), val_type,
                                   strip_leading_zero=strip_leading_zero))
        out.flush()


class LinearHistView(MapView[int, int]):
    """A :class:`~.maps.LinearHist`: ``counts()`` and BCC's ``print_linear_hist``."""

    decl: LinearHist

    def counts(self) -> list[int]:
        return [self[i] for i in range(self.decl.max_entries)]

    def print_linear_hist(self, val_type: str = "value", *, file: Any = None,
                          strip_leading_zero: bool = False) -> None:
        """Print the buckets in range as BCC's ``print_linear_hist`` does (:mod:`.hist`),
        each row labelled by its bucket's lowest value; counts below ``low`` or at or
        above ``high`` (BCC has no such buckets) follow on one line when there are any."""
        from .hist import format_linear_hist
        decl = self.decl
        out = file or sys.stdout
        counts = self.counts()
        out.write(format_linear_hist(counts[1:-1], val_type,
                                     strip_leading_zero=strip_leading_zero,
                                     first_label=decl.low, label_step=decl.step))
        below, above = counts[0], counts[-1]
        if below or above:
            out.write(f"     ({below} below {decl.low}, {above} at or above {decl.high})\n")
        out.flush()
