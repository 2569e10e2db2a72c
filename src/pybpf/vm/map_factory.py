"""Live VM maps from :class:`~pybpf.spec.MapSpec`: one class per supported map type."""

from __future__ import annotations

import os

from ..spec import MapSpec, MapType
from .errors import VMError
from .events import PerfEventArrayMap, RingBufMap
from .lpm import LPMTrieMap
from .map_refs import ArrayOfMapsMap, HashOfMapsMap, ProgArrayMap
from .maps import ArrayMap, HashMap, LRUHashMap, PercpuArrayMap, PercpuHashMap, VMMap
from .queues import QueueMap, StackMap

MAP_CLASSES: dict[MapType, type[VMMap]] = {
    MapType.HASH: HashMap, MapType.ARRAY: ArrayMap, MapType.LRU_HASH: LRUHashMap,
    MapType.PERCPU_HASH: PercpuHashMap, MapType.PERCPU_ARRAY: PercpuArrayMap,
    MapType.LPM_TRIE: LPMTrieMap, MapType.QUEUE: QueueMap, MapType.STACK: StackMap,
    MapType.RINGBUF: RingBufMap, MapType.PERF_EVENT_ARRAY: PerfEventArrayMap,
    MapType.PROG_ARRAY: ProgArrayMap, MapType.ARRAY_OF_MAPS: ArrayOfMapsMap,
    MapType.HASH_OF_MAPS: HashOfMapsMap,
}

_PERCPU = (MapType.PERCPU_HASH, MapType.PERCPU_ARRAY)


def default_ncpus() -> int:
    """How many CPUs per-CPU maps and perf event arrays have: this machine's count."""
    return os.cpu_count() or 1


def create_map(spec: MapSpec, *, ncpus: int | None = None) -> VMMap:
    """A VM map for ``spec`` with its initial ``data`` (global data) or ``contents``.

    Contents of prog arrays and maps of maps name programs/maps; they are filled by
    :func:`pybpf.vm.load_collection`, not here. ``ncpus`` sizes per-CPU maps (default: this
    machine's CPU count). Raises :class:`VMError` for a map type the VM does not offer.
    """
    cls = MAP_CLASSES.get(spec.type)
    if cls is None:
        raise VMError(f"map '{spec.name}': type {spec.type.name} is not supported by the VM "
                      f"(supported: {', '.join(t.name for t in MAP_CLASSES)})")
    ncpus = ncpus or default_ncpus()
    kwargs: dict[str, object] = {"key_size": spec.key_size, "value_size": spec.value_size,
                                 "max_entries": spec.max_entries}
    if spec.type in _PERCPU:
        kwargs["ncpus"] = ncpus
    if spec.type == MapType.PERF_EVENT_ARRAY:
        kwargs["max_entries"] = spec.max_entries or ncpus  # libbpf's default: every CPU
        kwargs["key_size"] = spec.key_size or 4
        kwargs["value_size"] = spec.value_size or 4
    if spec.type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        kwargs["inner"] = create_map(spec.inner_map, ncpus=ncpus) if spec.inner_map else None
        kwargs["value_size"] = spec.value_size or 4
    if spec.type == MapType.PROG_ARRAY:
        kwargs["value_size"] = spec.value_size or 4
    m = cls(spec.name, **kwargs)  # type: ignore[arg-type]
    if spec.data is not None:
        m.update(0, spec.data.ljust(spec.value_size, b"\0"))
    if spec.type not in (MapType.PROG_ARRAY, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        for key, value in spec.contents:
            if isinstance(value, str):  # a name: only prog arrays and maps of maps hold those
                raise VMError(f"map '{spec.name}': {value!r} is not a value of a "
                              f"{spec.type.name} map")
            m.update(key, value)
    return m
