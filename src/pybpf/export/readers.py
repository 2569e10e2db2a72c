"""Reading one configured metric out of a live map, at scrape time.

A :class:`MapMetric` checks its map against the configuration once (the map exists, is a
hash or array of integer counters, its key has one field per label; a histogram keyed by
a struct has one more field, last: the slot), then each :meth:`~MapMetric.read` takes the
whole map in batches (BPF_MAP_LOOKUP_BATCH, a few syscalls for thousands of keys) and
turns it into ``{label values: total}`` (counters) or ``{label values: {slot: count}}``
(histograms). Per-CPU values are summed. Decoded labels are remembered per key bytes, so a
steady map costs one dict lookup per key.

:class:`EventMetric` is the same shape fed from Python (the event tools count their
records there).
"""

from __future__ import annotations

import errno
import threading
from typing import Any

from ..errors import KernelError
from ..spec import MapSpec, MapType
from .config import ConfigError, MetricConfig
from .decoders import KeyField, key_fields, make_decoder

__all__ = ["MapMetric", "EventMetric", "check_metric"]

_HASHES = {MapType.HASH, MapType.LRU_HASH, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH}
_ARRAYS = {MapType.ARRAY, MapType.PERCPU_ARRAY}
_PERCPU = {MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH, MapType.PERCPU_ARRAY}
_LABEL_CACHE_LIMIT = 1 << 17
# the kernel's answers for a map type without batch operations (524: ENOTSUPP)
_NO_BATCH = {errno.EINVAL, errno.EOPNOTSUPP, 524}
_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}   # unsigned ints of each size, for cast()


def check_metric(metric: MetricConfig, maps: dict[str, MapSpec], program: str,
                 path: str) -> tuple[list[KeyField], KeyField | None]:
    """The key fields that carry labels and the slot field (histograms keyed by a struct)
    of ``metric``'s map among ``maps``; ConfigError naming the metric's line if they do
    not fit."""
    def fail(message: str, line: int = 0) -> ConfigError:
        return ConfigError(f"{metric.full_name}: {message}", path=path,
                           line=line or metric.line or None)

    spec = maps.get(metric.map)
    if spec is None:
        known = ", ".join(sorted(m for m in maps if not m.startswith("."))) or "none"
        raise fail(f"unknown map {metric.map!r} in program {program!r} (its maps: {known})",
                   metric.map_line)
    if spec.type not in _HASHES | _ARRAYS:
        raise fail(f"map {metric.map!r} is a {spec.type.name} map; counters and histograms "
                   "read hash or array maps")
    if spec.value_size not in (1, 2, 4, 8):
        raise fail(f"map {metric.map!r} has {spec.value_size}-byte values; a counter is an "
                   "integer of 1, 2, 4 or 8 bytes")
    fields = key_fields(spec.key_type, spec.key_size)
    labels = len(metric.labels)
    slot: KeyField | None = None
    if metric.kind == "histogram":
        if len(fields) == 1 and labels == 0:
            slot = fields[0]
            fields = []
        else:
            if len(fields) != labels + 1:
                raise fail(f"the key of map {metric.map!r} has {len(fields)} field(s) "
                           f"({', '.join(f.name for f in fields)}): a histogram needs one "
                           f"label per field but the last (the slot), but {labels} "
                           "label(s) are given", metric.labels_line)
            slot = fields[-1]
            fields = fields[:-1]
        if slot.is_bytes:
            raise fail(f"the slot field {slot.name!r} of map {metric.map!r} is not an "
                       "integer")
    elif len(fields) != labels:
        raise fail(f"the key of map {metric.map!r} has {len(fields)} field(s) "
                   f"({', '.join(f.name for f in fields)}) but {labels} label(s) are given",
                   metric.labels_line)
    return fields, slot


class MapMetric:
    """One metric of a live map (see the module docstring)."""

    def __init__(self, config: MetricConfig, program: str, raw_map: Any, spec: MapSpec,
                 fields: list[KeyField], slot: KeyField | None):
        self.config = config
        self.program = program
        self.map = raw_map
        self.percpu = spec.type in _PERCPU
        self.is_array = spec.type in _ARRAYS
        self.value_size = spec.value_size
        self.label_names = [lb.name for lb in config.labels if lb.decoder != "drop"]
        self._cuts = [(f.offset, f.offset + f.size, make_decoder(lb, f))
                      for lb, f in zip(config.labels, fields) if lb.decoder != "drop"]
        self._slot = None if slot is None else (slot.offset, slot.offset + slot.size)
        self._labels: dict[bytes, tuple[str, ...]] = {}
        self._batch = True
        self._lock = threading.Lock()

    def _entries(self) -> tuple[list[bytes], list[int]]:
        """Every key and its value summed over the CPUs: two packed buffers from batch
        lookups, cut here (no object per element until now)."""
        if self._batch:
            try:
                kraw, vraw, count = self.map.lookup_batch_packed(chunk=4096)
            except (KernelError, AttributeError) as err:
                # batch reads came in Linux 5.6 (per-CPU arrays later)
                if isinstance(err, KernelError) and err.errno not in _NO_BATCH:
                    raise
                self._batch = False
            else:
                ks = self.map.key_size
                keys = [kraw[i:i + ks] for i in range(0, len(kraw), ks)]
                return keys, self._numbers(vraw, count)
        keys, values = [], []
        for key, value in self.map.items():
            keys.append(bytes(key))
            values.append(self._number(value))
        return keys, values

    def _numbers(self, vraw: bytes, count: int) -> list[int]:
        if not count:
            return []
        stride = len(vraw) // count
        if not self.percpu and stride == self.value_size:
            numbers: list[int] = memoryview(vraw).cast(_FORMATS[stride]).tolist()  # type: ignore[call-overload]
            return numbers
        # per CPU: one 8-byte slot each (the value size rounded up), summed; only the
        # value's own low bytes count
        slots = memoryview(vraw).cast("Q").tolist()
        if self.value_size < 8:
            mask = (1 << (self.value_size * 8)) - 1
            slots = [v & mask for v in slots]
        per = stride // 8
        if per == 1:
            return slots
        return [sum(slots[i:i + per]) for i in range(0, len(slots), per)]

    def _label_values(self, key: bytes) -> tuple[str, ...]:
        found = self._labels.get(key)
        if found is None:
            found = tuple(decode(key[lo:hi]) for lo, hi, decode in self._cuts)
            if len(self._labels) >= _LABEL_CACHE_LIMIT:
                self._labels.clear()
            self._labels[key] = found
        return found

    @staticmethod
    def _number(value: Any) -> int:
        if isinstance(value, list):
            return sum(int.from_bytes(v, "little") for v in value)
        return int.from_bytes(value, "little")

    def read(self) -> dict[tuple[str, ...], Any]:
        """Counters: ``{labels: total}``; histograms: ``{labels: {slot: count}}``."""
        with self._lock:
            keys, numbers = self._entries()
            out: dict[tuple[str, ...], Any] = {}
            if self._slot is None:
                label_values = self._label_values
                for key, n in zip(keys, numbers):
                    if not n and self.is_array:
                        continue   # an array holds every index: unused ones are not series
                    labels = label_values(key)
                    out[labels] = out.get(labels, 0) + n
                return out
            lo, hi = self._slot
            for key, n in zip(keys, numbers):
                if not n:
                    continue
                labels = self._label_values(key)
                slots = out.setdefault(labels, {})
                slot = int.from_bytes(key[lo:hi], "little")
                slots[slot] = slots.get(slot, 0) + n
            return out


class EventMetric:
    """A counter or histogram kept in Python (by an event tool's record handler), read as a
    :class:`MapMetric` is."""

    def __init__(self, config: MetricConfig, program: str):
        self.config = config
        self.program = program
        self.label_names = [lb.name for lb in config.labels]
        self._values: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    def add(self, labels: tuple[str, ...], amount: float = 1) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0) + amount

    def observe(self, labels: tuple[str, ...], value: int) -> None:
        """Count ``value`` (in the metric's slot unit) in its log2 slot."""
        slot = max(int(value), 0).bit_length()
        with self._lock:
            slots = self._values.setdefault(labels, {})
            slots[slot] = slots.get(slot, 0) + 1

    def read(self) -> dict[tuple[str, ...], Any]:
        with self._lock:
            return {k: dict(v) if isinstance(v, dict) else v for k, v in self._values.items()}
